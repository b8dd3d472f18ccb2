"""Views of the approval workflow: every URL for every persona, the htmx fragments and what works without JavaScript."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote

import pytest
from django.utils.cache import has_vary_header

from approvals import services
from approvals.models import StageChangeRequest, Status
from catalog.models import LockLevel, ModelVersion, RegisteredModel, Stage
from catalog.permissions import Role
from catalog.services import add_collaborator
from tests.factories import ModelFactory, VersionFactory
from tests.helpers import (
    CREATE_URL,
    HTMX,
    INBOX_URL,
    LOCK_URL,
    PANEL,
    PENDING_URL,
    POLICY_URL,
    REQUEST_COMMENT,
    VERSION_URL,
    action_url,
    assert_fragment,
    assert_full_page,
    buttons,
    card_ids,
    card_target,
    client_for,
    count_badge,
    current_page_links,
    database_state,
    element,
    feed_items,
    messages_shown,
    refetch,
    select,
    select_options,
    set_stage,
    stage_of,
    visible_text,
)

NOT_YOURS = "You made this request, so someone else has to review it."
NOT_A_REVIEWER = "Only reviewers and owners of this model can approve or reject stage changes."
NOT_THE_REQUESTER = "Only the requester or an owner of this model can cancel this request."
NOT_AN_EDITOR_TO_LOCK = "Only editors and owners of this model can lock its versions."

# A valid POST for each action, as a user would submit it.
POSTS: dict[str, dict[str, str]] = {
    "create": {"to_stage": "production", "comment": "Ship it"},
    "approve": {"comment": "Looks good"},
    "reject": {"comment": "Not yet"},
    "cancel": {},
    "lock": {"lock_level": "closed"},
    "policy": {"required_approvals": "3"},
}


def url_for(name: str, change_request: StageChangeRequest) -> str:
    """The URL of each workflow view, by a short name; the review actions act on change_request."""
    urls = {
        "create": CREATE_URL,
        "lock": LOCK_URL,
        "policy": POLICY_URL,
        "pending": PENDING_URL,
        "inbox": INBOX_URL,
    }
    return urls.get(name) or action_url(name, change_request)


@pytest.fixture
def pending(version: Any, editor: Any, reviewer: Any, viewer: Any) -> StageChangeRequest:
    """editor asks to move v1.0.0 from Unassigned to Staging; reviewer and viewer are there to look at it."""
    return services.request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING, comment=REQUEST_COMMENT)


# --- Who may open what -------------------------------------------------------------------------------------------

EVERY_URL = [
    ("create", "get"),
    ("create", "post"),
    ("approve", "post"),
    ("reject", "post"),
    ("cancel", "post"),
    ("lock", "post"),
    ("policy", "post"),
    ("pending", "get"),
    ("inbox", "get"),
]


@pytest.mark.parametrize(("name", "method"), EVERY_URL)
def test_anonymous_is_sent_to_login(pending: StageChangeRequest, name: str, method: str) -> None:
    url = url_for(name, pending)
    before = database_state()
    for headers in ({}, HTMX):
        client = client_for(None)
        response = (
            client.post(url, POSTS[name], headers=headers) if method == "post" else client.get(url, headers=headers)
        )
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={quote(url)}"
    assert database_state() == before


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        (f"{CREATE_URL}?to_stage=staging", HTMX),
        (f"{CREATE_URL}?to_stage=staging", {}),
        (PENDING_URL, {}),
        (PENDING_URL, HTMX),
        (f"{VERSION_URL}?to_stage=staging", {}),
    ],
)
def test_outsider_gets_404_for_pages_and_fragments_of_a_private_model(
    pending: StageChangeRequest, outsider: Any, url: str, headers: dict[str, str]
) -> None:
    response = client_for(outsider).get(url, headers=headers)
    assert response.status_code == 404
    assert "Churn Predictor" not in response.text
    assert "v1.0.0" not in response.text
    assert REQUEST_COMMENT not in response.text


@pytest.mark.parametrize("name", POSTS)
def test_outsider_gets_404_for_actions_on_a_private_model(
    pending: StageChangeRequest, outsider: Any, name: str
) -> None:
    before = database_state()
    for headers in ({}, HTMX, PANEL, card_target(pending)):
        response = client_for(outsider).post(url_for(name, pending), POSTS[name], headers=headers)
        assert response.status_code == 404
        assert "Churn Predictor" not in response.text
        assert REQUEST_COMMENT not in response.text
    assert database_state() == before


@pytest.mark.parametrize("action", ["approve", "reject", "cancel"])
def test_unknown_request_is_404(owner: Any, action: str) -> None:
    response = client_for(owner).post(f"/approvals/requests/999999/{action}/", headers=HTMX)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("name", "method", "reason"),
    [
        ("create", "get", "Only editors and owners of this model can request stage changes."),
        ("create", "post", "Only editors and owners of this model can request stage changes."),
        ("approve", "post", NOT_A_REVIEWER),
        ("reject", "post", NOT_A_REVIEWER),
        ("cancel", "post", NOT_THE_REQUESTER),
        ("lock", "post", NOT_AN_EDITOR_TO_LOCK),
        ("policy", "post", "Only owners of this model can change its approval policy."),
    ],
)
def test_viewer_gets_a_readable_403_when_acting(
    pending: StageChangeRequest, viewer: Any, name: str, method: str, reason: str
) -> None:
    url = url_for(name, pending)
    before = database_state()
    for headers in ({}, HTMX, PANEL):
        client = client_for(viewer)
        response = (
            client.post(url, POSTS[name], headers=headers)
            if method == "post"
            else client.get(f"{url}?to_stage=production", headers=headers)
        )
        assert response.status_code == 403
        assert "<h1>Not allowed</h1>" in response.text
        assert reason in response.text
    assert database_state() == before


@pytest.mark.parametrize(
    ("persona", "name", "reason"),
    [
        ("reviewer", "create", "Only editors and owners of this model can request stage changes."),
        ("reviewer", "cancel", NOT_THE_REQUESTER),
        ("reviewer", "lock", NOT_AN_EDITOR_TO_LOCK),
        ("reviewer", "policy", "Only owners of this model can change its approval policy."),
        ("editor2", "approve", NOT_A_REVIEWER),
        ("editor2", "reject", NOT_A_REVIEWER),
        ("editor2", "cancel", NOT_THE_REQUESTER),
        ("editor", "policy", "Only owners of this model can change its approval policy."),
    ],
)
def test_other_roles_get_a_403_for_what_their_role_does_not_allow(
    request: pytest.FixtureRequest, pending: StageChangeRequest, persona: str, name: str, reason: str
) -> None:
    user = request.getfixturevalue(persona)
    before = database_state()
    response = client_for(user).post(url_for(name, pending), POSTS[name], headers=PANEL)
    assert response.status_code == 403
    assert reason in response.text
    assert database_state() == before


@pytest.mark.parametrize("action", ["approve", "reject"])
@pytest.mark.parametrize("headers", [{}, PANEL], ids=["plain", "htmx"])
def test_requester_cannot_review_their_own_request(
    pending: StageChangeRequest, editor: Any, action: str, headers: dict[str, str]
) -> None:
    before = database_state()
    response = client_for(editor).post(action_url(action, pending), {"comment": "Mine is fine"}, headers=headers)
    assert response.status_code == 403
    assert NOT_YOURS in response.text
    assert database_state() == before


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_owner_who_made_the_request_cannot_review_it_either(version: Any, owner: Any, action: str) -> None:
    own = services.request_stage_change(actor=owner, version=version, to_stage=Stage.DEVELOPMENT)
    before = database_state()
    response = client_for(owner).post(action_url(action, own), headers=card_target(own))
    assert response.status_code == 403
    assert NOT_YOURS in response.text
    assert database_state() == before
    assert refetch(own).status == Status.PENDING


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "approve"),
        ("get", "reject"),
        ("get", "cancel"),
        ("get", "lock"),
        ("get", "policy"),
        ("put", "create"),
        ("delete", "create"),
        ("post", "pending"),
        ("post", "inbox"),
    ],
)
def test_wrong_method_is_405(pending: StageChangeRequest, owner: Any, method: str, name: str) -> None:
    before = database_state()
    response = getattr(client_for(owner), method)(url_for(name, pending))
    assert response.status_code == 405
    assert database_state() == before


# --- Request a stage change ---------------------------------------------------------------------------------------


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
    assert_fragment(response, "request-panel", ["stage-box", "lock-box", "activity-feed", "inbox-count"])
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
    assert_fragment(response, "request-panel", ["stage-box", "lock-box", "activity-feed", "inbox-count"])
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


# --- Approve, reject, cancel --------------------------------------------------------------------------------------


def test_approve_from_the_version_page_moves_the_version_and_updates_the_page(
    pending: StageChangeRequest, version: Any, reviewer: Any, editor: Any
) -> None:
    response = client_for(reviewer).post(
        action_url("approve", pending), {"comment": "Metrics check out"}, headers=PANEL
    )
    assert_fragment(response, "request-panel", ["stage-box", "lock-box", "activity-feed", "inbox-count"])
    assert stage_of(version) == Stage.STAGING
    assert refetch(pending).status == Status.APPROVED

    panel = element(response.text, "request-panel")
    assert panel.text == "Approved."
    assert element(response.text, "stage-badge").text == "Staging"
    assert element(response.text, "stage-box").text.startswith("Current stage Staging")
    feed = element(response.text, "activity-feed").text
    assert "reviewer moved v1.0.0 from Unassigned to Staging" in feed
    assert "reviewer approved moving v1.0.0 from Unassigned to Staging" in feed
    assert "Metrics check out" in feed
    assert count_badge(response.text, "inbox-count") == 0

    page = client_for(editor).get(VERSION_URL)
    assert element(page.text, "stage-badge").text == "Staging"
    assert "Stage change waiting for approval" not in page.text


def test_approve_from_a_card_returns_the_card_and_the_counts(pending: StageChangeRequest, reviewer: Any) -> None:
    response = client_for(reviewer).post(action_url("approve", pending), headers=card_target(pending))
    card_id = f"change-request-{pending.pk}"
    assert_fragment(response, card_id, ["pending-count", "inbox-count"])
    card = element(response.text, card_id)
    assert "Approved by reviewer" in card.text
    assert "approvals 1 of 1" in card.text
    assert buttons(card.html) == []
    assert count_badge(response.text, "pending-count") == 0
    assert count_badge(response.text, "inbox-count") == 0
    assert refetch(pending).status == Status.APPROVED


def test_approve_from_the_inbox_returns_the_card_with_its_model_and_the_inbox_count(
    pending: StageChangeRequest, reviewer: Any
) -> None:
    client = client_for(reviewer)
    before = element(client.get(INBOX_URL).text, f"change-request-{pending.pk}")
    assert before.text.startswith("Churn Predictor · v1.0.0")
    response = client.post(action_url("approve", pending), headers=card_target(pending, f"{INBOX_URL}?model=churn"))
    assert_fragment(response, f"change-request-{pending.pk}", ["inbox-count"])  # the inbox has no per-model badge
    card = element(response.text, f"change-request-{pending.pk}")
    assert card.text.startswith("Churn Predictor · v1.0.0")
    assert "Approved by reviewer" in card.text
    assert count_badge(response.text, "inbox-count") == 0
    assert refetch(pending).status == Status.APPROVED


def test_approve_without_javascript_returns_to_next_with_a_message(
    pending: StageChangeRequest, version: Any, reviewer: Any
) -> None:
    client = client_for(reviewer)
    response = client.post(action_url("approve", pending), {"next": PENDING_URL})
    assert response.status_code == 302
    assert response["Location"] == PENDING_URL
    page = client.get(PENDING_URL)
    assert messages_shown(page.text) == ["Approved."]
    assert "No stage change is waiting for approval on this model." in page.text
    assert stage_of(version) == Stage.STAGING


def test_approve_without_javascript_ignores_an_external_next(pending: StageChangeRequest, reviewer: Any) -> None:
    response = client_for(reviewer).post(action_url("approve", pending), {"next": "https://evil.example/"}, follow=True)
    assert response.redirect_chain == [(VERSION_URL, 302)]
    assert messages_shown(response.text) == ["Approved."]
    assert element(response.text, "stage-badge").text == "Staging"


def test_approval_short_of_the_policy_keeps_the_request_pending(
    model: Any, version: Any, owner: Any, editor: Any, reviewer: Any
) -> None:
    services.set_approval_policy(actor=owner, model=model, required_approvals=2)
    change_request = services.request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)
    response = client_for(reviewer).post(action_url("approve", change_request), headers=PANEL)
    panel = element(response.text, "request-panel")
    assert "Approved." in panel.text
    assert "approvals 1 of 2" in panel.text
    assert "reviewer approved" in panel.text
    assert buttons(panel.html) == []  # reviewed already
    assert element(response.text, "stage-badge").text == "Unassigned"
    assert refetch(change_request).status == Status.PENDING


def test_owner_approval_completes_a_two_approval_request(
    model: Any, version: Any, owner: Any, editor: Any, reviewer: Any
) -> None:
    services.set_approval_policy(actor=owner, model=model, required_approvals=2)
    change_request = services.request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)
    services.approve_change_request(actor=reviewer, change_request=change_request)
    response = client_for(owner).post(action_url("approve", change_request), headers=PANEL)
    assert element(response.text, "stage-badge").text == "Staging"
    assert stage_of(version) == Stage.STAGING


@pytest.mark.parametrize("from_card", [False, True], ids=["plain", "card"])
def test_reject_with_a_comment_ends_the_request(
    pending: StageChangeRequest, version: Any, reviewer: Any, editor: Any, from_card: bool
) -> None:
    data = {"comment": "Not enough evaluation data."}
    response = client_for(reviewer).post(
        action_url("reject", pending), data, headers=card_target(pending) if from_card else {}
    )
    assert refetch(pending).status == Status.REJECTED
    assert stage_of(version) == Stage.UNASSIGNED
    if from_card:
        card = element(response.text, f"change-request-{pending.pk}")
        assert "Rejected by reviewer" in card.text
        assert "reviewer rejected" in card.text
        assert "Not enough evaluation data." in card.text
        assert "Rejected by reviewer" in card.text
        assert count_badge(response.text, "pending-count") == 0
    else:
        assert response["Location"] == VERSION_URL
    page = client_for(editor).get(VERSION_URL).text
    assert "Stage change waiting for approval" not in page
    entry = next((item for item in feed_items(page) if item.startswith("reviewer rejected moving")), None)
    assert entry, "no rejection in the activity feed"
    assert "reviewer rejected moving v1.0.0 from Unassigned to Staging" in entry
    assert "Not enough evaluation data." in entry


def test_requester_cancels_and_may_request_again(pending: StageChangeRequest, editor: Any) -> None:
    response = client_for(editor).post(action_url("cancel", pending), headers=PANEL)
    assert_fragment(response, "request-panel", ["stage-box", "lock-box", "activity-feed", "inbox-count"])
    assert refetch(pending).status == Status.CANCELLED
    assert element(response.text, "request-panel").text == "Request cancelled."
    stage_box = element(response.text, "stage-box")
    assert '<label for="stage-select">Stage</label>' in stage_box.html
    feed = element(response.text, "activity-feed").text
    assert "editor cancelled the request to move v1.0.0 from Unassigned to Staging" in feed


def test_owner_cancels_someone_elses_request_from_the_tab(pending: StageChangeRequest, owner: Any) -> None:
    response = client_for(owner).post(action_url("cancel", pending), headers=card_target(pending))
    assert_fragment(response, f"change-request-{pending.pk}", ["pending-count", "inbox-count"])
    assert "Cancelled by owner" in element(response.text, f"change-request-{pending.pk}").text
    assert count_badge(response.text, "pending-count") == 0
    assert refetch(pending).status == Status.CANCELLED


@pytest.mark.parametrize("headers", [{}, PANEL], ids=["plain", "htmx"])
def test_approving_an_approved_request_says_so(
    pending: StageChangeRequest, reviewer: Any, reviewer2: Any, headers: dict[str, str]
) -> None:
    services.approve_change_request(actor=reviewer, change_request=pending)
    before = database_state()
    for user in (reviewer, reviewer2):
        response = client_for(user).post(action_url("approve", pending), headers=headers, follow=True)
        assert response.status_code == 200
        shown = element(response.text, "request-panel").text if headers else " ".join(messages_shown(response.text))
        assert shown == "This request was already approved by reviewer."
    assert database_state() == before


def test_approving_twice_is_refused(model: Any, version: Any, owner: Any, editor: Any, reviewer: Any) -> None:
    services.set_approval_policy(actor=owner, model=model, required_approvals=2)
    change_request = services.request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)
    client = client_for(reviewer)
    client.post(action_url("approve", change_request), headers=card_target(change_request))
    before = database_state()
    response = client.post(action_url("approve", change_request), headers=card_target(change_request))
    assert (
        "You have already reviewed this request." in element(response.text, f"change-request-{change_request.pk}").text
    )
    assert database_state() == before


@pytest.mark.parametrize("action", ["approve", "reject", "cancel"])
def test_acting_on_a_cancelled_request_says_so(
    pending: StageChangeRequest, owner: Any, editor: Any, action: str
) -> None:
    services.cancel_change_request(actor=editor, change_request=pending)
    before = database_state()
    page = client_for(owner).post(action_url(action, pending), {"next": PENDING_URL}, follow=True)
    assert page.redirect_chain == [(PENDING_URL, 302)]
    assert messages_shown(page.text) == ["This request was already cancelled by editor."]
    assert database_state() == before


def test_approving_after_the_version_was_locked_keeps_the_request_pending(
    pending: StageChangeRequest, version: Any, owner: Any, reviewer: Any
) -> None:
    services.set_lock_level(actor=owner, version=version, lock_level=LockLevel.CLOSED)
    before = database_state()
    response = client_for(reviewer).post(action_url("approve", pending), headers=PANEL)
    panel = element(response.text, "request-panel")
    assert "Version v1.0.0 was locked (Closed) after this request was made" in panel.text
    assert "Stage change waiting for approval" in panel.text
    assert element(response.text, "lock-box").text.startswith("Lock: Closed")
    assert database_state() == before
    assert refetch(pending).status == Status.PENDING


# --- Lock level and approval policy -------------------------------------------------------------------------------


def test_editor_raises_the_lock_level(version: Any, editor: Any) -> None:
    response = client_for(editor).post(LOCK_URL, {"lock_level": "closed"}, headers=PANEL)
    assert_fragment(response, "request-panel", ["stage-box", "lock-box", "activity-feed", "inbox-count"])
    assert element(response.text, "request-panel").text == "Lock level set to Closed."
    lock_box = element(response.text, "lock-box")
    assert lock_box.text.startswith("Lock: Closed — the stage and metadata cannot change")
    assert select_options(lock_box.html, "lock-select") == ["Redact"]
    assert "Locked: the stage cannot change." in element(response.text, "stage-box").text
    assert "editor changed the lock level of v1.0.0 from Open to Closed" in element(response.text, "activity-feed").text
    assert ModelVersion.objects.get(pk=version.pk).lock_level == LockLevel.CLOSED


def test_editor_cannot_lower_the_lock_level_but_the_owner_can(version: Any, owner: Any, editor: Any) -> None:
    services.set_lock_level(actor=owner, version=version, lock_level=LockLevel.CLOSED)
    before = database_state()
    refused = client_for(editor).post(LOCK_URL, {"lock_level": "open"}, headers=PANEL)
    assert refused.status_code == 403
    assert "Only owners of this model can lower a lock level." in refused.text
    assert database_state() == before

    client = client_for(owner)
    response = client.post(LOCK_URL, {"lock_level": "open"})
    assert response.status_code == 302
    assert response["Location"] == VERSION_URL
    page = client.get(VERSION_URL)
    assert messages_shown(page.text) == ["Lock level set to Open."]
    assert element(page.text, "lock-box").text.startswith("Lock: Open")
    assert ModelVersion.objects.get(pk=version.pk).lock_level == LockLevel.OPEN


@pytest.mark.parametrize(("level", "message"), [("bogus", "Choose one of the lock levels."), ("open", "already Open")])
def test_bad_lock_level_is_a_message(version: Any, owner: Any, level: str, message: str) -> None:
    before = database_state()
    response = client_for(owner).post(LOCK_URL, {"lock_level": level}, headers=PANEL)
    assert response.status_code == 200
    assert message in element(response.text, "request-panel").text
    assert database_state() == before


def test_owner_sets_the_approval_policy(model: Any, owner: Any) -> None:
    response = client_for(owner).post(POLICY_URL, {"required_approvals": "3"}, headers=HTMX)
    assert_fragment(response, "policy-box")
    box = element(response.text, "policy-box")
    assert "Each stage change needs 3 approvals from someone other than the requester." in box.text
    assert "Stage changes now need 3 approval(s)." in box.text
    assert RegisteredModel.objects.get(pk=model.pk).required_approvals == 3


def test_owner_sets_the_approval_policy_without_javascript(model: Any, owner: Any) -> None:
    client = client_for(owner)
    response = client.post(POLICY_URL, {"required_approvals": "2"})
    assert response.status_code == 302
    assert response["Location"] == "/models/churn-predictor/"
    page = client.get(response["Location"])
    assert messages_shown(page.text) == ["Stage changes now need 2 approval(s)."]
    assert element(page.text, "required-approvals").text == "2"


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("0", "Ensure this value is greater than or equal to 1."),
        ("6", "Ensure this value is less than or equal to 5."),
        ("abc", "Enter a whole number."),
        ("", "This field is required."),
        ("1", "Stage changes already need 1 approval(s)."),
    ],
)
def test_policy_out_of_range_is_an_error_and_changes_nothing(model: Any, owner: Any, value: str, error: str) -> None:
    before = database_state()
    client = client_for(owner)
    response = client.post(POLICY_URL, {"required_approvals": value}, headers=HTMX)
    assert response.status_code == 200
    box = element(response.text, "policy-box")
    assert error in box.text
    assert element(response.text, "required-approvals").text == "1"
    page = client.post(POLICY_URL, {"required_approvals": value}, follow=True)
    assert messages_shown(page.text) == [error]
    assert database_state() == before


# --- The version page ---------------------------------------------------------------------------------------------

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
    assert "Requested by editor just now · approvals 0 of 1" in panel.text
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


# --- Pending Approvals tab ----------------------------------------------------------------------------------------


def test_pending_tab_lists_requests_with_what_the_viewer_may_do(pending: StageChangeRequest, reviewer: Any) -> None:
    response = client_for(reviewer).get(PENDING_URL)
    assert_full_page(response)
    assert has_vary_header(response, "HX-Request")
    [tab] = [link for link in current_page_links(response.text) if link.find("pending-count")]
    assert tab.text.startswith("Pending Approvals")
    assert count_badge(response.text, "pending-count") == 1
    assert count_badge(response.text, "pending-count") == 1
    assert card_ids(response.text) == [pending.pk]
    card = element(response.text, f"change-request-{pending.pk}")
    assert card.text.startswith("v1.0.0 Unassigned → to Staging Skips Development")
    assert "Requested by editor" in card.text
    assert "approvals 0 of 1" in card.text
    assert REQUEST_COMMENT in card.text
    assert buttons(card.html) == ["Approve", "Reject"]
    assert f'<input type="hidden" name="next" value="{PENDING_URL}">' in card.html


def test_pending_tab_fragment(pending: StageChangeRequest, viewer: Any) -> None:
    response = client_for(viewer).get(PENDING_URL, headers=HTMX)
    assert_fragment(response, "model-tabs")
    assert has_vary_header(response, "HX-Request")
    card = element(response.text, f"change-request-{pending.pk}")
    assert "approvals 0 of 1" in card.text
    assert buttons(card.html) == []
    assert "Stage summary" not in response.text


def test_pending_tab_flags_a_skip(version: Any, editor: Any, viewer: Any) -> None:
    change_request = services.request_stage_change(actor=editor, version=version, to_stage=Stage.PRODUCTION)
    card = element(client_for(viewer).get(PENDING_URL).text, f"change-request-{change_request.pk}")
    assert "Unassigned → to Production Skips Development and Staging" in card.text


def test_pending_tab_when_nothing_is_pending(model: Any, version: Any, viewer: Any) -> None:
    response = client_for(viewer).get(PENDING_URL)
    assert "No stage change is waiting for approval on this model." in response.text
    assert count_badge(response.text, "pending-count") == 0


@pytest.mark.parametrize("persona", ["owner", "editor", "reviewer", "viewer"])
def test_pending_count_badge_on_the_model_card(
    request: pytest.FixtureRequest, model: Any, pending: StageChangeRequest, editor: Any, persona: str
) -> None:
    other = VersionFactory.create(model=model, name="v2.0.0")
    services.request_stage_change(actor=editor, version=other, to_stage=Stage.DEVELOPMENT)
    third = VersionFactory.create(model=model, name="v3.0.0")
    services.cancel_change_request(
        actor=editor,
        change_request=services.request_stage_change(actor=editor, version=third, to_stage=Stage.DEVELOPMENT),
    )
    client = client_for(request.getfixturevalue(persona))
    assert count_badge(client.get("/models/churn-predictor/").text, "pending-count") == 2
    tab = client.get(PENDING_URL, headers=HTMX).text
    assert count_badge(tab, "pending-count") == 2
    assert len(card_ids(tab)) == 2


# --- Inbox --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "count"), [("owner", 1), ("reviewer", 1), ("editor", 0), ("viewer", 0), ("outsider", 0)]
)
def test_nav_inbox_count_for_each_persona(
    request: pytest.FixtureRequest, pending: StageChangeRequest, outsider: Any, persona: str, count: int
) -> None:
    response = client_for(request.getfixturevalue(persona)).get("/models/")
    assert count_badge(response.text, "inbox-count") == count


def test_inbox_lists_what_the_reviewer_may_review(pending: StageChangeRequest, reviewer: Any) -> None:
    response = client_for(reviewer).get(INBOX_URL)
    assert_full_page(response)
    assert has_vary_header(response, "HX-Request")
    [nav] = [link for link in current_page_links(response.text) if link.find("inbox-count")]
    assert nav.text.startswith("Pending Approvals")
    assert count_badge(response.text, "inbox-count") == 1
    results = element(response.text, "inbox-results")
    assert card_ids(results.html) == [pending.pk]
    card = element(results.html, f"change-request-{pending.pk}")
    assert card.text.startswith("Churn Predictor · v1.0.0 Unassigned → to Staging")
    assert "Requested by editor" in card.text
    assert REQUEST_COMMENT in card.text
    assert buttons(card.html) == ["Approve", "Reject"]
    assert "Your pending requests (0)" in visible_text(response.text)


def test_inbox_lists_own_requests_apart(pending: StageChangeRequest, editor: Any) -> None:
    response = client_for(editor).get(INBOX_URL)
    results = element(response.text, "inbox-results")
    assert card_ids(results.html) == []
    assert "Nothing is waiting for your review." in results.text
    [own] = select(response.text, "section", class_="own-requests")
    assert "Your pending requests (1)" in own.text
    assert card_ids(own.html) == [pending.pk]
    assert buttons(element(own.html, f"change-request-{pending.pk}").html) == ["Cancel request"]
    assert count_badge(response.text, "inbox-count") == 0


def test_owners_own_request_is_not_in_their_inbox(version: Any, owner: Any, reviewer: Any) -> None:
    own = services.request_stage_change(actor=owner, version=version, to_stage=Stage.DEVELOPMENT)
    page = client_for(owner).get(INBOX_URL).text
    assert card_ids(element(page, "inbox-results").html) == []
    assert count_badge(page, "inbox-count") == 0
    assert card_ids(select(page, "section", class_="own-requests")[0].html) == [own.pk]
    assert card_ids(client_for(reviewer).get(INBOX_URL).text) == [own.pk]


def test_reviewed_requests_leave_the_inbox_count(
    model: Any, version: Any, owner: Any, editor: Any, reviewer: Any, reviewer2: Any
) -> None:
    services.set_approval_policy(actor=owner, model=model, required_approvals=2)
    change_request = services.request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)
    response = client_for(reviewer).post(action_url("approve", change_request), headers=card_target(change_request))
    assert count_badge(response.text, "inbox-count") == 0
    assert count_badge(response.text, "pending-count") == 1

    page = client_for(reviewer).get(INBOX_URL).text
    assert count_badge(page, "inbox-count") == 0
    card = element(page, f"change-request-{change_request.pk}")
    assert "approvals 1 of 2" in card.text
    assert "reviewer approved" in card.text
    assert buttons(card.html) == []
    assert count_badge(client_for(reviewer2).get(INBOX_URL).text, "inbox-count") == 1
    assert count_badge(client_for(owner).get(INBOX_URL).text, "inbox-count") == 1


@pytest.fixture
def two_models(model: Any, owner: Any, editor: Any, reviewer: Any) -> dict[str, StageChangeRequest]:
    """Requests on two models reviewer reviews: Churn Predictor to Staging, then Fraud Detector to Production."""
    churn = services.request_stage_change(
        actor=editor, version=VersionFactory.create(model=model, name="v1"), to_stage=Stage.STAGING
    )
    fraud = ModelFactory.create(owner=owner, name="Fraud Detector", visibility="private")
    add_collaborator(actor=owner, model=fraud, user=editor, role=Role.EDITOR)
    add_collaborator(actor=owner, model=fraud, user=reviewer, role=Role.REVIEWER)
    fraud_request = services.request_stage_change(
        actor=editor, version=VersionFactory.create(model=fraud, name="f1"), to_stage=Stage.PRODUCTION
    )
    return {"churn": churn, "fraud": fraud_request}


def test_inbox_lists_oldest_first_across_models(two_models: dict[str, StageChangeRequest], reviewer: Any) -> None:
    page = client_for(reviewer).get(INBOX_URL).text
    assert card_ids(element(page, "inbox-results").html) == [two_models["churn"].pk, two_models["fraud"].pk]
    assert count_badge(page, "inbox-count") == 2


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("model=fraud", ["fraud"]),
        ("model=CHURN", ["churn"]),
        ("to_stage=staging", ["churn"]),
        ("to_stage=production", ["fraud"]),
        ("model=fraud&to_stage=staging", []),
        ("model=", ["churn", "fraud"]),
    ],
)
def test_inbox_filters_by_model_and_target_stage(
    two_models: dict[str, StageChangeRequest], reviewer: Any, query: str, expected: list[str]
) -> None:
    client = client_for(reviewer)
    page = client.get(f"{INBOX_URL}?{query}")
    assert_full_page(page)
    fragment = client.get(f"{INBOX_URL}?{query}", headers=HTMX)
    assert_fragment(fragment, "inbox-results")
    assert has_vary_header(fragment, "HX-Request")
    wanted = [two_models[name].pk for name in expected]
    assert card_ids(element(page.text, "inbox-results").html) == wanted
    assert card_ids(fragment.text) == wanted
    if not expected:
        assert "Nothing is waiting for your review with these filters." in fragment.text
    assert count_badge(page.text, "inbox-count") == 2  # the badge counts everything waiting, not the filtered list


def test_inbox_invalid_filter_shows_an_error(two_models: dict[str, StageChangeRequest], reviewer: Any) -> None:
    for headers in ({}, HTMX):
        response = client_for(reviewer).get(f"{INBOX_URL}?to_stage=bogus", headers=headers)
        assert response.status_code == 200
        results = element(response.text, "inbox-results")
        assert "Select a valid choice. bogus is not one of the available choices." in results.text


def test_inbox_hides_requests_on_models_the_user_cannot_review(
    pending: StageChangeRequest, outsider: Any, viewer: Any
) -> None:
    for user in (outsider, viewer):
        page = client_for(user).get(INBOX_URL).text
        assert card_ids(page) == []
        assert "Churn Predictor" not in page
        assert REQUEST_COMMENT not in page


# --- Comments are text, never markup ------------------------------------------------------------------------------

SCRIPT = '<script>alert("request")</script>'
IMAGE = '<img src=x onerror="alert(1)">'
BOLD = "<b onmouseover='alert(2)'>reject</b>"


def assert_escaped(html: str, markup: str, times: int) -> None:
    assert markup not in html
    assert html.count(escape(markup)) >= times, f"{escape(markup)} shown {html.count(escape(markup))} times"


def test_comments_are_escaped_everywhere(
    model: Any, version: Any, owner: Any, editor: Any, reviewer: Any, reviewer2: Any
) -> None:
    services.set_approval_policy(actor=owner, model=model, required_approvals=2)
    change_request = services.request_stage_change(
        actor=editor, version=version, to_stage=Stage.STAGING, comment=SCRIPT
    )
    approved = client_for(reviewer).post(action_url("approve", change_request), {"comment": IMAGE}, headers=PANEL)
    assert_escaped(approved.text, SCRIPT, 2)  # the panel and the activity feed
    assert_escaped(approved.text, IMAGE, 2)

    client = client_for(reviewer2)
    assert_escaped(client.get(VERSION_URL).text, SCRIPT, 2)
    assert_escaped(client.get(VERSION_URL).text, IMAGE, 2)
    for url, headers in [(PENDING_URL, {}), (PENDING_URL, HTMX), (INBOX_URL, {}), (INBOX_URL, HTMX)]:
        html = client.get(url, headers=headers).text
        assert_escaped(html, SCRIPT, 1)
        assert_escaped(html, IMAGE, 1)
    assert_escaped(client.get("/models/churn-predictor/activity/").text, SCRIPT, 1)

    card = client.post(action_url("reject", change_request), {"comment": BOLD}, headers=card_target(change_request))
    assert_escaped(card.text, SCRIPT, 1)
    assert_escaped(card.text, BOLD, 1)
    page = client_for(editor).get(VERSION_URL).text
    assert_escaped(page, BOLD, 1)  # the activity feed
    assert_escaped(client_for(editor).get("/models/churn-predictor/activity/").text, BOLD, 1)
