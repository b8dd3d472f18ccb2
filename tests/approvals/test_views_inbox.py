"""The model's Pending Approvals tab and the inbox across models: the cards, the counts, the filters and what each
persona sees."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils.cache import has_vary_header

from approvals import services
from approvals.models import StageChangeRequest
from catalog.models import Stage
from catalog.permissions import Role
from catalog.services import add_collaborator
from tests.factories import ModelFactory, VersionFactory
from tests.helpers import (
    HTMX,
    INBOX_URL,
    PENDING_URL,
    REQUEST_COMMENT,
    action_url,
    assert_fragment,
    assert_full_page,
    buttons,
    card_ids,
    card_target,
    client_for,
    count_badge,
    current_page_links,
    element,
    select,
    visible_text,
)

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
