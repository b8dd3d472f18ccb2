"""The workflow's controls on the version page: the stage select, the review buttons and the lock controls each
persona sees."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils.cache import has_vary_header

from approvals import services
from approvals.models import StageChangeRequest
from catalog.models import LockLevel, Stage
from tests.helpers import REQUEST_COMMENT, VERSION_URL, assert_full_page, buttons, client_for, element, select_options

STAGES_BUT_UNASSIGNED = ["Development", "Staging", "Production", "Archived"]


@pytest.mark.parametrize(
    ("persona", "can_choose"), [("owner", True), ("editor", True), ("reviewer", False), ("viewer", False)]
)
def test_stage_select_only_for_editors_and_owners(
    request: pytest.FixtureRequest, version: Any, persona: str, can_choose: bool
) -> None:
    response = client_for(request.getfixturevalue(persona)).get(VERSION_URL)
    assert_full_page(response)
    assert has_vary_header(response, "HX-Request")
    stage_box = element(response.text, "stage-box")
    assert stage_box.text.startswith("Current stage Unassigned")
    assert ('<label for="stage-select">Stage</label>' in stage_box.html) is can_choose
    assert select_options(stage_box.html, "stage-select") == (
        ["Request a change…", *STAGES_BUT_UNASSIGNED] if can_choose else []
    )
    assert element(response.text, "request-panel").text == ""


@pytest.mark.parametrize("persona", ["owner", "editor"])
def test_no_stage_select_while_a_request_is_pending(
    request: pytest.FixtureRequest, pending: StageChangeRequest, persona: str
) -> None:
    stage_box = element(client_for(request.getfixturevalue(persona)).get(VERSION_URL).text, "stage-box")
    assert "stage-select" not in stage_box.html
    assert "A stage change is waiting for approval." in stage_box.text


@pytest.mark.parametrize("level", [LockLevel.CLOSED, LockLevel.REDACT])
def test_no_stage_select_while_the_version_is_locked(version: Any, owner: Any, level: LockLevel) -> None:
    services.set_lock_level(actor=owner, version=version, lock_level=level)
    page = client_for(owner).get(f"{VERSION_URL}?to_stage=staging").text
    stage_box = element(page, "stage-box")
    assert "stage-select" not in stage_box.html
    assert "Locked: the stage cannot change." in stage_box.text
    assert "Request a move" not in page


@pytest.mark.parametrize(
    ("persona", "shown"),
    [
        ("owner", ["Approve", "Reject", "Cancel request"]),
        ("editor", ["Cancel request"]),
        ("reviewer", ["Approve", "Reject"]),
        ("viewer", []),
        ("editor2", []),
    ],
)
def test_review_buttons_only_for_those_who_may_use_them(
    request: pytest.FixtureRequest, pending: StageChangeRequest, persona: str, shown: list[str]
) -> None:
    page = client_for(request.getfixturevalue(persona)).get(VERSION_URL).text
    panel = element(page, "request-panel")
    assert "Stage change waiting for approval" in panel.text
    assert "Unassigned → to Staging Skips Development" in panel.text
    assert re.search(r"Requested by editor \d{4}-\d\d-\d\d \d\d:\d\d UTC · just now · approvals 0 of 1", panel.text)
    assert REQUEST_COMMENT in panel.text
    assert buttons(panel.html) == shown
    assert ('<label for="comment-request-panel">Comment</label>' in panel.html) is ("Approve" in shown)


def test_owners_own_request_offers_cancel_but_not_approve(version: Any, owner: Any, reviewer: Any) -> None:
    services.request_stage_change(actor=owner, version=version, to_stage=Stage.DEVELOPMENT)
    assert buttons(element(client_for(owner).get(VERSION_URL).text, "request-panel").html) == ["Cancel request"]
    assert buttons(element(client_for(reviewer).get(VERSION_URL).text, "request-panel").html) == ["Approve", "Reject"]


@pytest.mark.parametrize(
    ("persona", "level", "choices"),
    [
        ("owner", LockLevel.OPEN, ["Closed", "Redact"]),
        ("owner", LockLevel.CLOSED, ["Open", "Redact"]),
        ("owner", LockLevel.REDACT, ["Open", "Closed"]),
        ("editor", LockLevel.OPEN, ["Closed", "Redact"]),
        ("editor", LockLevel.CLOSED, ["Redact"]),
        ("editor", LockLevel.REDACT, []),
        ("reviewer", LockLevel.OPEN, []),
        ("viewer", LockLevel.OPEN, []),
    ],
)
def test_lock_controls_offer_only_the_allowed_levels(
    request: pytest.FixtureRequest, version: Any, owner: Any, persona: str, level: LockLevel, choices: list[str]
) -> None:
    if level != LockLevel.OPEN:
        services.set_lock_level(actor=owner, version=version, lock_level=level)
    lock_box = element(client_for(request.getfixturevalue(persona)).get(VERSION_URL).text, "lock-box")
    assert lock_box.text.startswith(f"Lock: {level.label}")
    assert select_options(lock_box.html, "lock-select") == choices
    assert ('<label for="lock-select">Lock level</label>' in lock_box.html) is bool(choices)
    assert buttons(lock_box.html) == (["Set lock level"] if choices else [])
