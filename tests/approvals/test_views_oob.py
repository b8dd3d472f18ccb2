"""Nothing stale after an action: each htmx action, its response applied to the page it was taken from (the
version page, the model card's Pending Approvals tab, the inbox), leaves that page as a fresh load shows it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from approvals import services
from approvals.models import StageChangeRequest
from catalog.models import LockLevel, ModelVersion, RegisteredModel, Stage
from tests.helpers import (
    CREATE_URL,
    HTMX,
    INBOX_URL,
    LOCK_URL,
    LONG_AGO,
    PANEL,
    PENDING_URL,
    POLICY_URL,
    VERSION_URL,
    action_url,
    assert_swaps_match_fresh_page,
    card_target,
    client_for,
    comment_url,
    element,
    frozen,
    set_stage,
    stage_badge,
    timeline_items,
    version_in,
)

MODEL_URL = "/models/churn-predictor/"


@pytest.fixture(autouse=True)
def _one_moment() -> Iterator[None]:
    """The page before, the action and the fresh page at one moment, an hour after the fixtures were made, so that
    what depends on the time (the timeline's bars, "just now") is the same in all three."""
    with frozen(timezone.now() + timedelta(hours=1)):
        yield


def act(
    client: Client,
    url: str,
    *,
    method: str = "post",
    data: dict[str, str] | None = None,
    headers: dict[str, str],
    page: str,
    target: str,
    fresh_url: str | None = None,
    leave_out: tuple[str, ...] = (),
) -> str:
    """Load page, take the action there as htmx does, and check the page it leaves against a fresh load."""
    before = client.get(page).text
    response = getattr(client, method)(url, data or {}, headers=headers)
    fresh = client.get(fresh_url or page).text
    return assert_swaps_match_fresh_page(before, response, target=target, fresh=fresh, leave_out=leave_out)


# --- The version page ---------------------------------------------------------------------------------------------


def test_request_leaves_the_version_page_fresh(version: ModelVersion, editor: Any, reviewer: Any) -> None:
    updated = act(
        client_for(editor),
        CREATE_URL,
        data={"to_stage": "staging", "comment": "Ready"},
        headers=PANEL,
        page=f"{VERSION_URL}?to_stage=staging",  # the panel the Stage selector opened
        fresh_url=VERSION_URL,
        target="request-panel",
    )
    assert "A stage change is waiting for approval." in element(updated, "stage-box").text


@pytest.mark.parametrize("required", [1, 2])
def test_approve_leaves_the_version_page_fresh(
    model: RegisteredModel, version: ModelVersion, editor: Any, reviewer: Any, required: int
) -> None:
    with frozen(LONG_AGO):
        set_stage(version, Stage.DEVELOPMENT)
    RegisteredModel.objects.filter(pk=model.pk).update(required_approvals=required)
    pending = services.request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)
    updated = act(
        client_for(reviewer),
        action_url("approve", pending),
        data={"comment": "Fine"},
        headers=PANEL,
        page=VERSION_URL,
        target="request-panel",
    )
    moved = required == 1
    assert stage_badge(updated).endswith("Staging" if moved else "Development")
    changed = element(updated, "version-meta").text.partition("stage changed")[2]
    assert ("just now" in changed) is moved
    assert timeline_items(updated)[-1].startswith("Staging" if moved else "Development")


def test_approve_that_archives_leaves_the_version_page_fresh(
    model: RegisteredModel, version: ModelVersion, editor: Any, reviewer: Any
) -> None:
    version_in(model, "v0.9.0", Stage.PRODUCTION)
    set_stage(version, Stage.STAGING)
    pending = services.request_stage_change(
        actor=editor, version=version, to_stage=Stage.PRODUCTION, archive_others=True
    )
    act(client_for(reviewer), action_url("approve", pending), headers=PANEL, page=VERSION_URL, target="request-panel")


@pytest.mark.parametrize(("action", "persona"), [("reject", "reviewer"), ("cancel", "editor"), ("cancel", "owner")])
def test_reject_and_cancel_leave_the_version_page_fresh(
    request: pytest.FixtureRequest, pending: StageChangeRequest, action: str, persona: str
) -> None:
    user = request.getfixturevalue(persona)
    updated = act(
        client_for(user), action_url(action, pending), headers=PANEL, page=VERSION_URL, target="request-panel"
    )
    assert "waiting for approval" not in element(updated, "stage-box").text


@pytest.mark.parametrize(("persona", "level"), [("owner", LockLevel.CLOSED), ("editor", LockLevel.REDACT)])
def test_lock_level_leaves_the_version_page_fresh(
    request: pytest.FixtureRequest, version: ModelVersion, persona: str, level: LockLevel
) -> None:
    ModelVersion.objects.filter(pk=version.pk).update(artifact_uri="s3://models/churn/1")
    updated = act(
        client_for(request.getfixturevalue(persona)),
        LOCK_URL,
        data={"lock_level": level},
        headers=PANEL,
        page=VERSION_URL,
        target="request-panel",
    )
    # An Editor who sets Redact no longer sees where the artifacts are; an Owner still would.
    assert ("s3://models/churn/1" in element(updated, "version-props").text) is (level != LockLevel.REDACT)


def test_close_resets_the_stage_selector(version: ModelVersion, editor: Any) -> None:
    updated = act(
        client_for(editor),
        CREATE_URL,
        method="get",
        headers=PANEL,
        page=f"{VERSION_URL}?to_stage=production",
        fresh_url=VERSION_URL,
        target="request-panel",
    )
    assert "selected>Production" not in element(updated, "stage-select").html


def test_choosing_a_stage_opens_the_panel_a_fresh_load_shows(version: ModelVersion, editor: Any) -> None:
    client = client_for(editor)
    before = client.get(VERSION_URL).text
    response = client.get(CREATE_URL, {"to_stage": "production"}, headers=PANEL)
    fresh = client.get(f"{VERSION_URL}?to_stage=production").text
    # The selector keeps the choice the user made in it (and the focus): only the panel is swapped.
    updated = assert_swaps_match_fresh_page(
        before, response, target="request-panel", fresh=fresh, leave_out=["stage-box"]
    )
    assert "Request a move from" in element(updated, "request-panel").text


def test_comment_leaves_the_version_page_fresh(version: ModelVersion, editor: Any) -> None:
    act(
        client_for(editor),
        comment_url(version),
        data={"comment": "Looks good on the holdout."},
        headers=HTMX | {"HX-Target": "version-activity"},
        page=VERSION_URL,
        target="version-activity",
    )


# --- The model card's Pending Approvals tab and the inbox ---------------------------------------------------------


@pytest.fixture
def promotion(model: RegisteredModel, version: ModelVersion, editor: Any, reviewer: Any) -> StageChangeRequest:
    """editor asks to move v1.0.0 from Staging to Production, archiving what is there (nothing yet)."""
    set_stage(version, Stage.STAGING)
    return services.request_stage_change(actor=editor, version=version, to_stage=Stage.PRODUCTION, archive_others=True)


CardAction = Callable[[StageChangeRequest], tuple[str, str]]


@pytest.mark.parametrize(
    ("action", "persona"), [("approve", "reviewer"), ("reject", "reviewer"), ("cancel", "editor"), ("cancel", "owner")]
)
def test_card_actions_leave_the_pending_tab_fresh(
    request: pytest.FixtureRequest, model: RegisteredModel, promotion: StageChangeRequest, action: str, persona: str
) -> None:
    other = services.request_stage_change(
        actor=request.getfixturevalue("editor"), version=version_in(model, "v2.0.0"), to_stage=Stage.DEVELOPMENT
    )
    card = f"change-request-{promotion.pk}"
    updated = act(
        client_for(request.getfixturevalue(persona)),
        action_url(action, promotion),
        headers=card_target(promotion),
        page=PENDING_URL,
        target=card,
        leave_out=(card,),  # the decided card stays to say what happened; a fresh tab lists only pending ones
    )
    assert f"change-request-{other.pk}" in updated
    if action == "approve":
        summary = element(updated, "stage-summary").text
        assert "No version is in Production" not in summary
        assert "v1.0.0" in summary
        assert "archives the versions" not in element(updated, card).text  # there were none to archive


def test_policy_leaves_the_model_card_fresh(model: RegisteredModel, owner: Any, reviewer: Any, reviewer2: Any) -> None:
    """With enough reviewers for the policy, so that no one-time warning stands beside the box."""
    for page in (MODEL_URL, PENDING_URL):
        RegisteredModel.objects.filter(pk=model.pk).update(
            required_approvals=1, updated_at=timezone.now() - timedelta(days=30)
        )
        updated = act(
            client_for(owner),
            POLICY_URL,
            data={"required_approvals": "2"},
            headers=HTMX | {"HX-Target": "policy-box"},
            page=page,
            target="policy-box",
        )
        assert "just now" in element(updated, "model-meta").text


@pytest.mark.parametrize(("action", "persona"), [("approve", "reviewer"), ("reject", "reviewer"), ("cancel", "editor")])
def test_card_actions_leave_the_inbox_fresh(
    request: pytest.FixtureRequest, model: RegisteredModel, promotion: StageChangeRequest, action: str, persona: str
) -> None:
    services.request_stage_change(  # stays in both of the inbox's lists
        actor=request.getfixturevalue("editor"), version=version_in(model, "v2.0.0"), to_stage=Stage.DEVELOPMENT
    )
    card = f"change-request-{promotion.pk}"
    updated = act(
        client_for(request.getfixturevalue(persona)),
        action_url(action, promotion),
        headers=card_target(promotion, INBOX_URL),
        page=INBOX_URL,
        target=card,
        leave_out=(card,),
    )
    if persona == "editor":
        assert element(updated, "own-count").text == "(1)"
