"""Who may request, review, cancel, lock and set the approval policy: each persona, directly and via a group."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from approvals import permissions
from catalog.models import LOCK_ORDER, LockLevel, ModelVersion, RegisteredModel
from catalog.permissions import REVIEW, Access, Role, Verdict
from catalog.services import add_collaborator
from tests.factories import GroupFactory, UserFactory
from tests.helpers import fresh, raw_request

PERSONAS = ["owner", "editor", "editor2", "reviewer", "viewer", "outsider", "anonymous", "inactive_reviewer"]


@pytest.fixture
def people(
    owner: Any,
    editor: Any,
    editor2: Any,
    reviewer: Any,
    viewer: Any,
    outsider: Any,
    anonymous: AnonymousUser,
    model: RegisteredModel,
) -> dict[str, Any]:
    inactive = UserFactory.create(username="retired")
    add_collaborator(actor=owner, model=model, user=inactive, role=Role.REVIEWER)
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    return {
        "owner": owner,
        "editor": editor,
        "editor2": editor2,
        "reviewer": reviewer,
        "viewer": viewer,
        "outsider": outsider,
        "anonymous": anonymous,
        "inactive_reviewer": inactive,
    }


def _by_role(verdict: Verdict) -> bool:
    """Allowed as far as the actor's role goes (the version's state aside)."""
    return not verdict.forbidden


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("owner", True),
        ("editor", True),
        ("editor2", True),
        ("reviewer", False),
        ("viewer", False),
        ("outsider", False),
        ("anonymous", False),
        ("inactive_reviewer", False),
    ],
)
def test_can_request(people: dict[str, Any], version: ModelVersion, persona: str, expected: bool) -> None:
    assert bool(permissions.may_request_stage_change(people[persona], version, pending=None)) is expected


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("owner", True),
        ("editor", False),
        ("editor2", False),
        ("reviewer", True),
        ("viewer", False),
        ("outsider", False),
        ("anonymous", False),
        ("inactive_reviewer", False),
    ],
)
def test_can_review_model(people: dict[str, Any], model: RegisteredModel, persona: str, expected: bool) -> None:
    assert Access(people[persona]).holds(fresh(model), REVIEW) is expected


@pytest.mark.parametrize(
    ("requester", "reviewers"),
    [("editor", {"owner", "reviewer"}), ("owner", {"reviewer"})],
)
def test_can_review_excludes_the_requester(
    people: dict[str, Any], version: ModelVersion, requester: str, reviewers: set[str]
) -> None:
    change_request = raw_request(version, people[requester])

    allowed = {
        name for name in PERSONAS if permissions.may_review(people[name], change_request, already_reviewed=False)
    }

    assert allowed == reviewers


@pytest.mark.parametrize(
    ("requester", "cancellers"),
    [("editor", {"editor", "owner"}), ("editor2", {"editor2", "owner"}), ("owner", {"owner"})],
)
def test_can_cancel_is_the_requester_or_an_owner(
    people: dict[str, Any], version: ModelVersion, requester: str, cancellers: set[str]
) -> None:
    change_request = raw_request(version, people[requester])

    allowed = {name for name in PERSONAS if permissions.may_cancel(people[name], change_request)}

    assert allowed == cancellers


LOCK_MOVES = list(itertools.product(LOCK_ORDER, repeat=2))


def _lock_id(move: tuple[LockLevel, ...]) -> str:
    return f"{move[0].value}_to_{move[1].value}"


@pytest.mark.parametrize("move", LOCK_MOVES, ids=[_lock_id(m) for m in LOCK_MOVES])
def test_can_set_lock_level_editors_raise_and_owners_also_lower(
    people: dict[str, Any], version: ModelVersion, move: tuple[LockLevel, LockLevel]
) -> None:
    current, new = move
    raises_or_keeps = LOCK_ORDER.index(new) >= LOCK_ORDER.index(current)
    expected = {"owner"} | ({"editor", "editor2"} if raises_or_keeps else set())
    version.lock_level = current

    allowed = {name for name in PERSONAS if _by_role(permissions.may_set_lock_level(people[name], version, new))}

    assert allowed == expected


def test_can_set_policy_is_for_owners_only(people: dict[str, Any], model: RegisteredModel) -> None:
    stored = fresh(model)

    assert {name for name in PERSONAS if permissions.may_set_approval_policy(people[name], stored)} == {"owner"}


def test_a_group_role_counts_like_a_direct_one(owner: Any, model: RegisteredModel, version: ModelVersion) -> None:
    reviewers, editors = GroupFactory.create(name="reviewers"), GroupFactory.create(name="editors")
    gina, ed = UserFactory.create(username="gina"), UserFactory.create(username="ed")
    gina.groups.add(reviewers)
    ed.groups.add(editors)
    add_collaborator(actor=owner, model=model, group=reviewers, role=Role.REVIEWER)
    add_collaborator(actor=owner, model=model, group=editors, role=Role.EDITOR)
    change_request = raw_request(version, ed)
    stored = fresh(model)

    assert permissions.may_review(gina, change_request, already_reviewed=False)
    assert not permissions.may_request_stage_change(gina, version, pending=None)
    assert permissions.may_request_stage_change(ed, version, pending=None)
    assert not permissions.may_review(ed, change_request, already_reviewed=False)
    assert permissions.may_cancel(ed, change_request)
    assert not permissions.may_cancel(gina, change_request)
    assert permissions.may_set_lock_level(ed, version, LockLevel.CLOSED)
    version.lock_level = LockLevel.CLOSED
    assert not permissions.may_set_lock_level(ed, version, LockLevel.OPEN)
    version.lock_level = LockLevel.OPEN
    assert not permissions.may_set_lock_level(gina, version, LockLevel.CLOSED)
    assert not permissions.may_set_approval_policy(ed, stored)


def test_a_superuser_may_do_everything_but_review_their_own_request(version: ModelVersion) -> None:
    root = UserFactory.create(username="root", is_superuser=True)
    own = raw_request(version, root)
    model = fresh(version.model)

    assert permissions.may_request_stage_change(root, version, pending=None)
    assert Access(root).holds(model, REVIEW)
    assert not permissions.may_review(root, own, already_reviewed=False)
    assert permissions.may_cancel(root, own)
    version.lock_level = LockLevel.REDACT
    assert permissions.may_set_lock_level(root, version, LockLevel.OPEN)
    assert permissions.may_set_approval_policy(root, model)
