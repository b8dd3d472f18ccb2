"""Requesting a stage change from the version page: the compose panel, the request with and without JavaScript,
and the errors and refusals that change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils.cache import has_vary_header

from approvals import services
from approvals.models import StageChangeRequest
from catalog.models import LockLevel, Stage
from tests.factories import VersionFactory
from tests.helpers import (
    CREATE_URL,
    HTMX,
    PANEL,
    VERSION_OOB,
    VERSION_URL,
    action_url,
    assert_fragment,
    assert_full_page,
    buttons,
    client_for,
    count_badge,
    database_state,
    element,
    messages_shown,
    set_stage,
    stage_of,
)
from tests.tasks import run_tasks


def test_choosing_a_stage_opens_the_compose_panel_with_the_skip_warning(version: Any, editor: Any) -> None:
    response = client_for(editor).get(f"{CREATE_URL}?to_stage=production", headers=HTMX)
    assert_fragment(response, "request-panel")
    assert has_vary_header(response, "HX-Request")
    panel = element(response.text, "request-panel")
    assert "Request a move from Unassigned to Production" in panel.text
    assert "This skips Development and Staging." in panel.text
    assert '<input type="hidden" name="to_stage" value="production">' in panel.html
    assert '<label for="id_comment">Comment</label>' in panel.html
    assert buttons(panel.html) == ["Request"]
    assert 'name="archive_others"' not in panel.html  # no other version is in Production


def test_one_stage_forward_has_no_skip_warning(version: Any, editor: Any) -> None:
    response = client_for(editor).get(f"{CREATE_URL}?to_stage=development", headers=HTMX)
    panel = element(response.text, "request-panel")
    assert "Request a move from Unassigned to Development" in panel.text
    assert "skips" not in panel.text


@pytest.mark.parametrize(
    ("other_stage", "to_stage", "offered"),
    [
        (Stage.PRODUCTION, "production", True),
        (Stage.STAGING, "staging", True),
        (Stage.STAGING, "production", False),
        (Stage.DEVELOPMENT, "development", False),
        (Stage.ARCHIVED, "archived", False),
    ],
)
def test_archive_option_only_when_other_versions_are_in_the_target_stage(
    model: Any, version: Any, editor: Any, other_stage: Stage, to_stage: str, offered: bool
) -> None:
    set_stage(VersionFactory.create(model=model, name="v0.9.0"), other_stage)
    response = client_for(editor).get(f"{CREATE_URL}?to_stage={to_stage}", headers=HTMX)
    panel = element(response.text, "request-panel")
    assert ('type="checkbox" name="archive_others"' in panel.html) is offered
    if offered:
        label = Stage(to_stage).label
        assert f"Archive the 1 version now in {label} (v0.9.0) when this is approved" in panel.text


def test_choosing_a_stage_without_javascript_opens_the_version_page_with_the_panel(version: Any, editor: Any) -> None:
    client = client_for(editor)
    response = client.get(f"{CREATE_URL}?to_stage=staging")
    assert response.status_code == 302
    assert response["Location"] == f"{VERSION_URL}?to_stage=staging"
    assert has_vary_header(response, "HX-Request")
    page = client.get(response["Location"])
    assert_full_page(page)
    panel = element(page.text, "request-panel")
    assert "Request a move from Unassigned to Staging" in panel.text
    assert "This skips Development." in panel.text
    assert buttons(panel.html) == ["Request"]
    assert '<option value="staging" selected>Staging</option>' in element(page.text, "stage-box").html


def test_request_with_htmx_updates_panel_stage_box_lock_box_feed_and_inbox_count(
    version: Any, editor: Any, reviewer: Any
) -> None:
    data = {"to_stage": "development", "comment": "First training run done."}
    response = client_for(editor).post(CREATE_URL, data, headers=PANEL)
    assert_fragment(response, "request-panel", VERSION_OOB)
    change_request = StageChangeRequest.objects.get()
    assert (change_request.status, change_request.to_stage, change_request.requester) == (
        "pending",
        "development",
        editor,
    )
    assert change_request.comment == "First training run done."

    panel = element(response.text, "request-panel")
    assert "Requested. Reviewers have been notified." in panel.text
    assert "Stage change waiting for approval" in panel.text
    assert "Unassigned → to Development" in panel.text
    assert "Requested by editor" in panel.text
    assert "approvals 0 of 1" in panel.text
    assert "First training run done." in panel.text
    assert buttons(panel.html) == ["Cancel request"]

    stage_box = element(response.text, "stage-box")
    assert stage_box.text.startswith("Current stage Unassigned")
    assert "A stage change is waiting for approval." in stage_box.text
    assert "stage-select" not in stage_box.html
    assert (
        "editor requested moving v1.0.0 from Unassigned to Development" in element(response.text, "activity-feed").text
    )
    assert count_badge(response.text, "inbox-count") == 0
    assert count_badge(client_for(reviewer).get("/models/").text, "inbox-count") == 1


def test_request_without_javascript_redirects_to_the_version_page_with_a_message(version: Any, editor: Any) -> None:
    client = client_for(editor)
    response = client.post(CREATE_URL, {"to_stage": "staging", "comment": "Ready"})
    assert response.status_code == 302
    assert response["Location"] == VERSION_URL
    page = client.get(VERSION_URL)
    assert messages_shown(page.text) == ["Requested. Reviewers have been notified."]
    assert "Stage change waiting for approval" in element(page.text, "request-panel").text
    assert StageChangeRequest.objects.get().to_stage == Stage.STAGING


def test_request_to_archive_the_others_archives_them_on_approval(
    model: Any, version: Any, editor: Any, reviewer: Any
) -> None:
    live = VersionFactory.create(model=model, name="v0.9.0")
    set_stage(live, Stage.PRODUCTION)
    client_for(editor).post(CREATE_URL, {"to_stage": "production", "archive_others": "on"}, headers=PANEL)
    change_request = StageChangeRequest.objects.get()
    assert change_request.archive_others
    assert change_request.skips_stages
    panel = element(client_for(reviewer).get(VERSION_URL).text, "request-panel")
    assert "archives the versions in Production" in panel.text

    response = client_for(reviewer).post(action_url("approve", change_request), headers=PANEL)
    assert element(response.text, "stage-badge").text == "Production"
    assert stage_of(live) == Stage.ARCHIVED
    live_page = client_for(editor).get("/models/churn-predictor/versions/v0.9.0/").text
    assert element(live_page, "stage-badge").text == "Archived"
    assert "reviewer moved v0.9.0 from Production to Archived" in element(live_page, "activity-feed").text


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/approvals/", "/approvals/"),
        ("/models/churn-predictor/pending/?page=1", "/models/churn-predictor/pending/?page=1"),
        ("https://evil.example/", VERSION_URL),
        ("//evil.example/steal", VERSION_URL),
        ("", VERSION_URL),
    ],
)
def test_without_javascript_the_redirect_follows_only_a_safe_local_next(
    version: Any, editor: Any, next_url: str, expected: str
) -> None:
    response = client_for(editor).post(CREATE_URL, {"to_stage": "staging", "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == expected


@pytest.mark.parametrize("headers", [{}, PANEL], ids=["plain", "htmx"])
def test_too_long_comment_rerenders_the_form_with_the_error(version: Any, editor: Any, headers: dict[str, str]) -> None:
    before = database_state()
    response = client_for(editor).post(CREATE_URL, {"to_stage": "staging", "comment": "x" * 5_001}, headers=headers)
    assert response.status_code == 200
    panel = element(response.text, "request-panel")
    assert "Ensure this value has at most 5000 characters (it has 5001)." in panel.text
    assert buttons(panel.html) == ["Request"]
    assert database_state() == before
    if headers:
        assert "<html" not in response.text
    else:
        assert_full_page(response)


@pytest.mark.parametrize("headers", [{}, PANEL], ids=["plain", "htmx"])
def test_unknown_stage_rerenders_with_an_error(version: Any, editor: Any, headers: dict[str, str]) -> None:
    before = database_state()
    response = client_for(editor).post(CREATE_URL, {"to_stage": "moon", "comment": "Go"}, headers=headers)
    assert response.status_code == 200
    assert element(response.text, "request-panel").text == "Choose one of the stages."
    assert database_state() == before


@pytest.mark.parametrize("headers", [{}, PANEL], ids=["plain", "htmx"])
def test_requesting_the_current_stage_is_refused_with_a_message(
    version: Any, editor: Any, headers: dict[str, str]
) -> None:
    before = database_state()
    response = client_for(editor).post(CREATE_URL, {"to_stage": "unassigned"}, headers=headers, follow=True)
    assert response.status_code == 200
    assert "Version v1.0.0 is already in Unassigned." in response.text
    assert database_state() == before


REFUSED_WHILE_PENDING = (
    "Version v1.0.0 already has a pending request (Unassigned → Staging, by editor). "
    "It must be approved, rejected or cancelled first."
)


def test_request_while_one_is_pending_names_it(pending: StageChangeRequest, owner: Any) -> None:
    before = database_state()
    client = client_for(owner)
    response = client.post(CREATE_URL, {"to_stage": "production"}, headers=PANEL)
    assert_fragment(response, "request-panel", VERSION_OOB)
    assert REFUSED_WHILE_PENDING in element(response.text, "request-panel").text
    page = client.post(CREATE_URL, {"to_stage": "production"}, follow=True)
    assert messages_shown(page.text) == [REFUSED_WHILE_PENDING]
    assert database_state() == before


def test_request_on_a_locked_version_is_refused_with_a_message(version: Any, owner: Any, editor: Any) -> None:
    services.set_lock_level(actor=owner, version=version, lock_level=LockLevel.CLOSED)
    before = database_state()
    page = client_for(editor).post(CREATE_URL, {"to_stage": "staging"}, follow=True)
    assert messages_shown(page.text) == ["Version v1.0.0 is locked (Closed); its stage cannot change."]
    assert database_state() == before


# --- Who can approve: a new model is not a dead end ------------------------------------------------------------------


def test_the_panel_names_who_can_approve_before_and_after_the_request(version: Any, editor: Any, reviewer: Any) -> None:
    client = client_for(editor)
    compose = element(client.get(f"{CREATE_URL}?to_stage=staging", headers=HTMX).text, "request-panel")
    assert "Who can approve: owner and reviewer (Reviewers and Owners of this model other than you)." in compose.text
    response = client.post(CREATE_URL, {"to_stage": "staging"}, headers=PANEL)
    panel = element(response.text, "request-panel")
    assert "Requested. Reviewers have been notified." in panel.text
    assert "Who can approve: owner and reviewer" in panel.text
    # Another reader of the version page sees the same names, without "other than you".
    seen_by_reviewer = element(client_for(reviewer).get(VERSION_URL).text, "request-panel")
    assert "Who can approve: owner and reviewer (Reviewers and Owners of this model)." in seen_by_reviewer.text


def test_a_request_nobody_else_can_review_says_so_and_links_owners_to_the_collaborators_tab(
    version: Any, owner: Any, viewer: Any, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).post(CREATE_URL, {"to_stage": "staging"}, headers=PANEL)
    run_tasks()
    assert mailoutbox == []
    panel = element(response.text, "request-panel")
    assert "Requested. Nobody was notified by mail." in panel.text
    assert "Reviewers have been notified" not in panel.text
    assert "Nobody but you can review this model’s stage changes, so only a superuser can approve your request." in (
        panel.text
    )
    assert 'href="/models/churn-predictor/collaborators/"' in panel.html
    assert "Add reviewers on the Collaborators tab" in panel.text

    # A viewer reads who made it, and is not offered a page they cannot use.
    seen_by_viewer = element(client_for(viewer).get(VERSION_URL).text, "request-panel")
    assert "Nobody but owner can review this model’s stage changes" in seen_by_viewer.text
    assert "Ask an owner of the model to add reviewers." in seen_by_viewer.text
    assert "/collaborators/" not in seen_by_viewer.html


def test_reviewers_without_an_address_are_named_but_not_said_to_be_notified(
    version: Any, editor: Any, reviewer: Any, owner: Any
) -> None:
    type(owner).objects.filter(pk__in=[owner.pk, reviewer.pk]).update(email="")
    client = client_for(editor)
    client.post(CREATE_URL, {"to_stage": "staging"})
    page = client.get(VERSION_URL)
    assert messages_shown(page.text) == ["Requested. Nobody was notified by mail."]
    assert "Who can approve: owner and reviewer" in element(page.text, "request-panel").text
