"""set_lock_level and set_approval_policy: success, each guard, the activity entry written and nothing changed on
refusal."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from activity.models import Verb
from approvals.models import Status
from approvals.services import (
    WorkflowError,
    approve_change_request,
    request_stage_change,
    set_approval_policy,
    set_lock_level,
)
from catalog.models import LockLevel, ModelVersion, RegisteredModel, Stage
from tests.helpers import (
    ChangesNothing,
    assert_stage_counts_are_true,
    entries_since,
    entry_mark,
    refetch,
    stage_of,
    version_in,
)

# set_lock_level


def test_an_editor_raises_the_lock_level_step_by_step(version: ModelVersion, editor: Any) -> None:
    mark = entry_mark()

    set_lock_level(actor=editor, version=version, lock_level=LockLevel.CLOSED, comment=" Frozen for audit. ")
    set_lock_level(actor=editor, version=version, lock_level=LockLevel.REDACT)

    version.refresh_from_db()
    assert version.lock_level == LockLevel.REDACT
    assert version.stage == Stage.UNASSIGNED
    assert entries_since(mark) == [
        (Verb.LOCK_CHANGED, "editor", "v1.0.0", "", "", "Frozen for audit.", {"from": "Open", "to": "Closed"}),
        (Verb.LOCK_CHANGED, "editor", "v1.0.0", "", "", "", {"from": "Closed", "to": "Redact"}),
    ]


def test_an_editor_may_raise_the_lock_level_straight_to_redact(version: ModelVersion, editor: Any) -> None:
    set_lock_level(actor=editor, version=version, lock_level=LockLevel.REDACT)

    version.refresh_from_db()
    assert version.lock_level == LockLevel.REDACT


@pytest.mark.parametrize(
    ("start", "lower"),
    [(LockLevel.CLOSED, LockLevel.OPEN), (LockLevel.REDACT, LockLevel.CLOSED), (LockLevel.REDACT, LockLevel.OPEN)],
)
def test_an_editor_cannot_lower_the_lock_level(
    version: ModelVersion,
    owner: Any,
    editor: Any,
    changes_nothing: ChangesNothing,
    start: LockLevel,
    lower: LockLevel,
) -> None:
    set_lock_level(actor=owner, version=version, lock_level=start)

    with (
        changes_nothing(),
        pytest.raises(PermissionDenied, match=r"^Only owners of this model can lower a lock level\.$"),
    ):
        set_lock_level(actor=editor, version=version, lock_level=lower)


@pytest.mark.parametrize(
    ("start", "lower"),
    [(LockLevel.CLOSED, LockLevel.OPEN), (LockLevel.REDACT, LockLevel.CLOSED), (LockLevel.REDACT, LockLevel.OPEN)],
)
def test_an_owner_lowers_the_lock_level(version: ModelVersion, owner: Any, start: LockLevel, lower: LockLevel) -> None:
    set_lock_level(actor=owner, version=version, lock_level=start)
    mark = entry_mark()

    set_lock_level(actor=owner, version=version, lock_level=lower)

    version.refresh_from_db()
    assert version.lock_level == lower
    assert entries_since(mark) == [
        (Verb.LOCK_CHANGED, "owner", "v1.0.0", "", "", "", {"from": start.label, "to": lower.label})
    ]


@pytest.mark.parametrize("persona", ["editor", "owner"])
@pytest.mark.parametrize(("level", "label"), [(LockLevel.OPEN, "Open"), (LockLevel.REDACT, "Redact")])
def test_set_lock_level_refuses_the_current_level(
    version: ModelVersion,
    owner: Any,
    changes_nothing: ChangesNothing,
    persona: str,
    level: LockLevel,
    label: str,
    request: pytest.FixtureRequest,
) -> None:
    actor = request.getfixturevalue(persona)
    if level != LockLevel.OPEN:
        set_lock_level(actor=owner, version=version, lock_level=level)

    with changes_nothing(), pytest.raises(WorkflowError, match=rf"^Version v1\.0\.0 is already {label}\.$"):
        set_lock_level(actor=actor, version=version, lock_level=level)


@pytest.mark.parametrize("persona", ["viewer", "reviewer", "outsider"])
@pytest.mark.parametrize(("start", "new"), [(LockLevel.OPEN, LockLevel.CLOSED), (LockLevel.CLOSED, LockLevel.OPEN)])
def test_set_lock_level_is_refused_to_non_editors(
    version: ModelVersion,
    owner: Any,
    changes_nothing: ChangesNothing,
    persona: str,
    start: LockLevel,
    new: LockLevel,
    request: pytest.FixtureRequest,
) -> None:
    actor = request.getfixturevalue(persona)
    if start != LockLevel.OPEN:
        set_lock_level(actor=owner, version=version, lock_level=start)

    with (
        changes_nothing(),
        pytest.raises(PermissionDenied, match=r"^Only editors and owners of this model can lock its versions\.$"),
    ):
        set_lock_level(actor=actor, version=version, lock_level=new)


def test_set_lock_level_refuses_an_unknown_level(
    version: ModelVersion, owner: Any, changes_nothing: ChangesNothing
) -> None:
    with changes_nothing(), pytest.raises(WorkflowError, match=r"^Choose one of the lock levels\.$"):
        set_lock_level(actor=owner, version=version, lock_level="sealed")


def test_set_lock_level_refuses_a_comment_over_5000_characters(
    version: ModelVersion, editor: Any, changes_nothing: ChangesNothing
) -> None:
    with changes_nothing(), pytest.raises(WorkflowError, match="The comment has 5,001 characters"):
        set_lock_level(actor=editor, version=version, lock_level=LockLevel.CLOSED, comment="c" * 5001)


def test_locking_leaves_a_pending_request_pending(version: ModelVersion, editor: Any) -> None:
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)

    set_lock_level(actor=editor, version=version, lock_level=LockLevel.CLOSED)

    assert refetch(change_request).status == Status.PENDING
    assert stage_of(version) == Stage.UNASSIGNED


# set_approval_policy


@pytest.mark.parametrize("required", [2, 3, 4, 5])
def test_an_owner_sets_the_approval_policy(model: RegisteredModel, owner: Any, required: int) -> None:
    mark = entry_mark()

    set_approval_policy(actor=owner, model=model, required_approvals=required)

    model.refresh_from_db()
    assert model.required_approvals == required
    assert entries_since(mark) == [(Verb.POLICY_CHANGED, "owner", None, "", "", "", {"from": 1, "to": required})]


def test_an_owner_may_lower_the_approval_policy_back_to_one(model: RegisteredModel, owner: Any) -> None:
    set_approval_policy(actor=owner, model=model, required_approvals=4)

    set_approval_policy(actor=owner, model=model, required_approvals=1)

    model.refresh_from_db()
    assert model.required_approvals == 1


@pytest.mark.parametrize("persona", ["editor", "reviewer", "viewer", "outsider"])
def test_set_approval_policy_is_for_owners_only(
    model: RegisteredModel, changes_nothing: ChangesNothing, persona: str, request: pytest.FixtureRequest
) -> None:
    actor = request.getfixturevalue(persona)

    with (
        changes_nothing(),
        pytest.raises(PermissionDenied, match=r"^Only owners of this model can change its approval policy\.$"),
    ):
        set_approval_policy(actor=actor, model=model, required_approvals=2)


@pytest.mark.parametrize("required", [0, 6, -1, 100])
def test_set_approval_policy_refuses_numbers_outside_one_to_five(
    model: RegisteredModel, owner: Any, changes_nothing: ChangesNothing, required: int
) -> None:
    with changes_nothing(), pytest.raises(WorkflowError, match=r"^A stage change needs between 1 and 5 approvals\.$"):
        set_approval_policy(actor=owner, model=model, required_approvals=required)


def test_set_approval_policy_refuses_the_current_value(
    model: RegisteredModel, owner: Any, changes_nothing: ChangesNothing
) -> None:
    with changes_nothing(), pytest.raises(WorkflowError, match=r"^Stage changes already need 1 approval\(s\)\.$"):
        set_approval_policy(actor=owner, model=model, required_approvals=1)


def test_a_pending_request_keeps_the_policy_it_was_made_under(
    model: RegisteredModel, owner: Any, editor: Any, reviewer: Any, reviewer2: Any
) -> None:
    lenient_version = version_in(model, "lenient")
    strict_version = version_in(model, "strict")
    lenient = request_stage_change(actor=editor, version=lenient_version, to_stage=Stage.DEVELOPMENT)
    set_approval_policy(actor=owner, model=model, required_approvals=2)
    strict = request_stage_change(actor=editor, version=strict_version, to_stage=Stage.DEVELOPMENT)
    set_approval_policy(actor=owner, model=model, required_approvals=1)

    approve_change_request(actor=reviewer, change_request=lenient)
    approve_change_request(actor=reviewer, change_request=strict)

    assert (refetch(lenient).required_approvals, refetch(lenient).status) == (1, Status.APPROVED)
    assert (refetch(strict).required_approvals, refetch(strict).status) == (2, Status.PENDING)
    approve_change_request(actor=reviewer2, change_request=strict)
    assert refetch(strict).status == Status.APPROVED
    assert_stage_counts_are_true(model)
