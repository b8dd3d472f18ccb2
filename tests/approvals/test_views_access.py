"""Who may open each URL of the approval workflow: anonymous users go to the login page, outsiders get 404,
roles without the right get a readable 403, other methods get 405, and a refusal changes nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from approvals import services
from approvals.models import StageChangeRequest, Status
from catalog.models import Stage
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
    card_target,
    client_for,
    database_state,
    refetch,
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
