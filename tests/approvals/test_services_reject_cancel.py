"""reject_change_request and cancel_change_request: success, each guard, the activity entry written and nothing
changed on refusal."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from activity.models import ActivityEntry, Verb
from approvals.models import Decision, Status
from approvals.services import (
    WorkflowError,
    approve_change_request,
    cancel_change_request,
    reject_change_request,
    request_stage_change,
    set_approval_policy,
    set_lock_level,
)
from catalog.models import LockLevel, ModelVersion, Stage
from tests.helpers import ChangesNothing, assert_stage_counts_are_true, entries_since, entry_mark, refetch, stage_of

# reject_change_request


def test_reject_ends_the_request_without_moving_the_version(version: ModelVersion, editor: Any, reviewer: Any) -> None:
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.PRODUCTION)
    mark = entry_mark()

    reject_change_request(actor=reviewer, change_request=change_request, comment=" Not yet. ")

    change_request = refetch(change_request)
    assert change_request.status == Status.REJECTED
    assert change_request.resolved_by == reviewer
    assert change_request.resolved_at is not None
    assert list(change_request.reviews.values_list("reviewer__username", "decision", "comment")) == [
        ("reviewer", Decision.REJECT, "Not yet.")
    ]
    assert stage_of(version) == Stage.UNASSIGNED
    assert entries_since(mark) == [
        (
            Verb.STAGE_CHANGE_REJECTED,
            "reviewer",
            "v1.0.0",
            "unassigned",
            "production",
            "Not yet.",
            {"change_request": change_request.pk},
        )
    ]
    assert_stage_counts_are_true(version.model)


def test_one_rejection_ends_a_request_that_already_has_an_approval(
    version: ModelVersion, owner: Any, editor: Any, reviewer: Any, reviewer2: Any
) -> None:
    set_approval_policy(actor=owner, model=version.model, required_approvals=2)
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)
    approve_change_request(actor=reviewer, change_request=change_request)

    reject_change_request(actor=reviewer2, change_request=change_request)

    change_request = refetch(change_request)
    assert change_request.status == Status.REJECTED
    assert change_request.resolved_by == reviewer2
    assert stage_of(version) == Stage.UNASSIGNED
    assert not ActivityEntry.objects.filter(verb=Verb.STAGE_CHANGED).exists()
    with pytest.raises(WorkflowError, match=r"^This request was already rejected by reviewer2\.$"):
        approve_change_request(actor=owner, change_request=change_request)


def test_reject_is_allowed_on_a_request_whose_version_was_locked_since(
    version: ModelVersion, owner: Any, editor: Any, reviewer: Any
) -> None:
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)
    set_lock_level(actor=owner, version=version, lock_level=LockLevel.CLOSED)

    reject_change_request(actor=reviewer, change_request=change_request)

    assert refetch(change_request).status == Status.REJECTED


def test_reject_refuses_a_comment_over_5000_characters(
    version: ModelVersion, editor: Any, reviewer: Any, changes_nothing: ChangesNothing
) -> None:
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)

    with changes_nothing(), pytest.raises(WorkflowError, match="The comment has 5,001 characters"):
        reject_change_request(actor=reviewer, change_request=change_request, comment="c" * 5001)


# cancel_change_request


@pytest.mark.parametrize("canceller", ["editor", "owner"])
def test_the_requester_or_an_owner_may_cancel(
    version: ModelVersion, editor: Any, canceller: str, request: pytest.FixtureRequest
) -> None:
    actor = request.getfixturevalue(canceller)
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)
    mark = entry_mark()

    cancel_change_request(actor=actor, change_request=change_request, comment=" Wrong version. ")

    change_request = refetch(change_request)
    assert change_request.status == Status.CANCELLED
    assert change_request.resolved_by == actor
    assert change_request.resolved_at is not None
    assert not change_request.reviews.exists()
    assert stage_of(version) == Stage.UNASSIGNED
    assert entries_since(mark) == [
        (
            Verb.STAGE_CHANGE_CANCELLED,
            canceller,
            "v1.0.0",
            "unassigned",
            "staging",
            "Wrong version.",
            {"change_request": change_request.pk},
        )
    ]


@pytest.mark.parametrize("persona", ["editor2", "reviewer", "viewer", "outsider"])
def test_cancel_is_refused_to_anyone_else(
    version: ModelVersion,
    editor: Any,
    changes_nothing: ChangesNothing,
    persona: str,
    request: pytest.FixtureRequest,
) -> None:
    actor = request.getfixturevalue(persona)
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)

    with (
        changes_nothing(),
        pytest.raises(PermissionDenied, match=r"^Only the requester or an owner of this model can cancel"),
    ):
        cancel_change_request(actor=actor, change_request=change_request)


def test_cancel_refuses_a_comment_over_5000_characters(
    version: ModelVersion, editor: Any, changes_nothing: ChangesNothing
) -> None:
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)

    with changes_nothing(), pytest.raises(WorkflowError, match="The comment has 5,001 characters"):
        cancel_change_request(actor=editor, change_request=change_request, comment="c" * 5001)
