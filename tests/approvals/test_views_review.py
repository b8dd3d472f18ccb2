"""Approving, rejecting and cancelling a change request from the version page, the Pending Approvals tab and the
inbox, with and without JavaScript; comments show as text, never as markup."""

from __future__ import annotations

from html import escape
from typing import Any

import pytest

from approvals import services
from approvals.models import StageChangeRequest, Status
from catalog.models import LockLevel, Stage
from tests.helpers import (
    CARD_OOB,
    HTMX,
    INBOX_CARD_OOB,
    INBOX_URL,
    PANEL,
    PENDING_URL,
    VERSION_OOB,
    VERSION_URL,
    action_url,
    assert_fragment,
    buttons,
    card_target,
    client_for,
    count_badge,
    database_state,
    element,
    feed_items,
    messages_shown,
    refetch,
    stage_of,
)


def test_approve_from_the_version_page_moves_the_version_and_updates_the_page(
    pending: StageChangeRequest, version: Any, reviewer: Any, editor: Any
) -> None:
    response = client_for(reviewer).post(
        action_url("approve", pending), {"comment": "Metrics check out"}, headers=PANEL
    )
    assert_fragment(response, "request-panel", VERSION_OOB)
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
    assert_fragment(response, card_id, CARD_OOB)
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
    assert_fragment(response, f"change-request-{pending.pk}", INBOX_CARD_OOB)  # the inbox has no per-model badge
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
    assert_fragment(response, "request-panel", VERSION_OOB)
    assert refetch(pending).status == Status.CANCELLED
    assert element(response.text, "request-panel").text == "Request cancelled."
    stage_box = element(response.text, "stage-box")
    assert '<label for="stage-select">Stage</label>' in stage_box.html
    feed = element(response.text, "activity-feed").text
    assert "editor cancelled the request to move v1.0.0 from Unassigned to Staging" in feed


def test_owner_cancels_someone_elses_request_from_the_tab(pending: StageChangeRequest, owner: Any) -> None:
    response = client_for(owner).post(action_url("cancel", pending), headers=card_target(pending))
    assert_fragment(response, f"change-request-{pending.pk}", CARD_OOB)
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
