"""Every POST URL of the pages × every persona × valid, empty and invalid input: the permission is decided before the
input is read, so a refused persona gets the same answer (login, 404, 403) whatever it sends and nothing changes,
and an allowed persona's bad input is a form error (200) or a message after a redirect (302), never a 4xx or 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from api.services import create_api_token
from approvals.models import StageChangeRequest
from approvals.services import request_stage_change
from catalog.models import Stage
from tests.factories import VersionFactory
from tests.helpers import HTMX, client_for, database_state

ROLES = ["owner", "editor", "reviewer", "viewer"]
PERSONAS = [*ROLES, "requester", "outsider", "anonymous"]  # requester: editor2, who filed the pending request
EVERYONE = set(PERSONAS) - {"anonymous"}
M = "/models/churn-predictor"
V = f"{M}/versions/v1.0.0"
LONG = "x" * 20_000  # longer than any comment, description or name may be

# (name, path, allowed personas, {input kind: data}); "{pending}" is the pending request on v1.0.0, "{token}" one of
# the owner's API tokens. A persona not allowed gets: a role 403, the outsider 404, anonymous the login page.
POSTS: list[tuple[str, str, set[str], dict[str, dict[str, str]]]] = [
    (
        "model-register",
        "/models/new/",
        EVERYONE,
        {"valid": {"name": "Brand New", "visibility": "private"}, "invalid": {"name": LONG, "visibility": "moon"}},
    ),
    (
        "model-edit",
        f"{M}/edit/",
        {"owner", "editor", "requester"},
        {
            "valid": {"description": "New", "task_type": "other", "data_type": "text", "visibility": "private"},
            "invalid": {"description": LONG, "task_type": "astrology", "visibility": "moon", "labels": "NOT OK!"},
        },
    ),
    (
        "collaborator-add",
        f"{M}/collaborators/add/",
        {"owner"},
        {"valid": {"kind": "user", "name": "outsider", "role": "viewer"}, "invalid": {"kind": "robot", "role": "god"}},
    ),
    (
        "collaborator-remove",
        f"{M}/collaborators/remove/",
        {"owner"},
        {"valid": {"kind": "user", "name": "viewer"}, "invalid": {"kind": "robot", "name": "nobody-at-all"}},
    ),
    (
        "version-register",
        f"{M}/versions/new/",
        {"owner", "editor", "requester"},
        {"valid": {"name": "v9.9.9"}, "invalid": {"name": "bad/name\x00", "attributes": "no equals sign"}},
    ),
    (
        "version-edit",
        f"{V}/edit/",
        {"owner", "editor", "requester"},
        {"valid": {"description": "New"}, "invalid": {"description": LONG, "attributes": "no equals sign"}},
    ),
    (
        "change-request-create",
        f"{M}/versions/v2/request/",
        {"owner", "editor", "requester"},
        {"valid": {"to_stage": "staging", "comment": "Ready"}, "invalid": {"to_stage": "heaven", "comment": LONG}},
    ),
    ("approve", "/approvals/requests/{pending}/approve/", {"owner", "reviewer"}, {"valid": {}, "invalid": {}}),
    ("reject", "/approvals/requests/{pending}/reject/", {"owner", "reviewer"}, {"valid": {}, "invalid": {}}),
    ("cancel", "/approvals/requests/{pending}/cancel/", {"owner", "requester"}, {"valid": {}, "invalid": {}}),
    (
        "lock-level-set",
        f"{V}/lock/",
        {"owner", "editor", "requester"},
        {"valid": {"lock_level": "closed"}, "invalid": {"lock_level": "welded"}},
    ),
    (
        "policy-set",
        f"{M}/policy/",
        {"owner"},
        {"valid": {"required_approvals": "2"}, "invalid": {"required_approvals": "99"}},
    ),
    (
        "version-comment",
        f"{V}/comments/",
        {"owner", "editor", "reviewer", "requester"},
        {"valid": {"comment": "Looks fine."}, "invalid": {"comment": LONG}},
    ),
    ("token-create", "/settings/tokens/", EVERYONE, {"valid": {"name": "ci"}, "invalid": {"name": LONG}}),
    (
        "token-revoke",
        "/settings/tokens/{token}/revoke/",
        {"owner"},
        {"valid": {}, "invalid": {}},
    ),  # someone else's: 404
    ("notifications-read", "/notifications/read/", EVERYONE, {"valid": {}, "invalid": {"junk": LONG}}),
    ("decision-dismiss", "/notifications/decisions/{pending}/dismiss/", {"requester"}, {"valid": {}}),
    (
        "profile",
        "/accounts/profile/",
        EVERYONE,
        {"valid": {"time_zone": "Europe/Paris"}, "invalid": {"time_zone": "Mars"}},
    ),
]
# The review actions take an optional comment: a too long one is their invalid input.
for _name, _path, _allowed, _inputs in POSTS:
    if _name in {"approve", "reject", "cancel", "token-revoke", "decision-dismiss"}:
        _inputs["invalid"] = {"comment": LONG}
ACCEPTS_ANY_INPUT = {"notifications-read", "decision-dismiss", "token-revoke"}  # they read no field
EMPTY_IS_VALID = {("empty", name) for name in ("approve", "reject", "cancel")}  # the comment is optional
CASES = [
    (name, path, allowed, kind, data)
    for name, path, allowed, inputs in POSTS
    for kind, data in [*inputs.items(), ("empty", {})]
]


def refusal(persona: str, name: str) -> int:
    if persona == "anonymous":
        return 302  # to the login page
    return 404 if persona == "outsider" or name == "token-revoke" else 403


@pytest.fixture
def people(owner: Any, editor: Any, editor2: Any, reviewer: Any, viewer: Any, outsider: Any, version: Any) -> Any:
    VersionFactory.create(model=version.model, name="v2")  # with no pending request, for new ones
    pending = request_stage_change(actor=editor2, version=version, to_stage=Stage.DEVELOPMENT)
    token, _ = create_api_token(actor=owner, name="owner's")
    return {
        "owner": owner,
        "editor": editor,
        "requester": editor2,
        "reviewer": reviewer,
        "viewer": viewer,
        "outsider": outsider,
        "anonymous": None,
        "pending": pending,
        "token": token,
    }


REQUESTS_PER_CASE = 2  # as a plain form and as htmx


def statuses(client: Client, url: str, data: dict[str, str]) -> set[int]:
    return {client.post(url, data, headers=headers).status_code for headers in ({}, HTMX)}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("name", "path", "allowed", "kind", "data"), CASES, ids=[f"{c[0]}-{c[3]}" for c in CASES])
def test_each_post_for_each_persona_and_input(
    people: dict[str, Any],
    persona: str,
    name: str,
    path: str,
    allowed: set[str],
    kind: str,
    data: dict[str, str],
) -> None:
    pending: StageChangeRequest = people["pending"]
    url = path.format(pending=pending.pk, token=people["token"].pk)
    before = database_state()
    answers = statuses(client_for(people[persona]), url, data)
    if persona in allowed:
        assert answers <= {200, 302}, f"{persona} {kind}: {answers}"
        if kind != "valid" and name not in ACCEPTS_ANY_INPUT and (kind, name) not in EMPTY_IS_VALID:
            assert database_state() == before, f"{persona}'s {kind} input changed something"
    else:
        assert answers == {refusal(persona, name)}, f"{persona} {kind}: {answers}"
        assert database_state() == before


def test_the_matrix_covers_every_post_url() -> None:
    assert len(CASES) * len(PERSONAS) * REQUESTS_PER_CASE == 756
