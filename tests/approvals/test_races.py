"""Racing reviewers, cancellers and requesters on PostgreSQL, with real threads released at once by a barrier."""

from __future__ import annotations

from typing import Any

import pytest

from activity.models import ActivityEntry, Verb
from approvals.models import Review, StageChangeRequest, Status
from approvals.services import (
    WorkflowError,
    approve_change_request,
    cancel_change_request,
    reject_change_request,
    request_stage_change,
    set_approval_policy,
    set_lock_level,
)
from catalog.models import LockLevel, ModelVersion, RegisteredModel, Stage
from catalog.permissions import Role
from catalog.services import add_collaborator
from tests.factories import UserFactory, VersionFactory
from tests.helpers import assert_stage_counts_are_true, race, set_stage, stage_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _outcomes(results: list[Any]) -> list[str]:
    """Each result's type name, sorted; anything but a model instance or a WorkflowError fails the test."""
    for result in results:
        assert isinstance(result, StageChangeRequest | ModelVersion | WorkflowError), repr(result)
    return sorted(type(result).__name__ for result in results)


def _errors(results: list[Any]) -> list[str]:
    return [str(result) for result in results if isinstance(result, WorkflowError)]


def _verbs(change_request: StageChangeRequest) -> list[str]:
    entries = ActivityEntry.objects.filter(extra__change_request=change_request.pk).order_by("pk")
    return list(entries.values_list("verb", flat=True))


def test_two_reviewers_approving_at_once_apply_the_change_once(
    version: ModelVersion, editor: Any, reviewer: Any, reviewer2: Any
) -> None:
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)

    results = race(
        lambda: approve_change_request(actor=reviewer, change_request=change_request),
        lambda: approve_change_request(actor=reviewer2, change_request=change_request),
    )

    assert _outcomes(results) == ["StageChangeRequest", "WorkflowError"]
    change_request.refresh_from_db()
    assert change_request.status == Status.APPROVED
    winner = change_request.resolved_by
    assert winner is not None
    assert _errors(results) == [f"This request was already approved by {winner.username}."]
    assert list(change_request.reviews.values_list("reviewer", flat=True)) == [winner.pk]
    assert stage_of(version) == Stage.DEVELOPMENT
    assert _verbs(change_request) == [Verb.STAGE_CHANGE_REQUESTED, Verb.STAGE_CHANGE_APPROVED, Verb.STAGE_CHANGED]
    assert_stage_counts_are_true(version.model)


def test_approve_racing_cancel_lets_exactly_one_win(
    model: RegisteredModel, owner: Any, editor: Any, reviewer: Any
) -> None:
    for round_ in range(6):
        version = VersionFactory.create(model=model, created_by=owner, name=f"v{round_}")
        change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)
        actions = [
            lambda r=change_request: approve_change_request(actor=reviewer, change_request=r),
            lambda r=change_request: cancel_change_request(actor=editor, change_request=r),
        ]
        if round_ % 2:
            actions.reverse()  # start the canceller first in half of the rounds, so either side gets to win

        results = race(*actions)

        assert _outcomes(results) == ["StageChangeRequest", "WorkflowError"]
        change_request.refresh_from_db()
        if change_request.status == Status.APPROVED:
            assert _errors(results) == ["This request was already approved by reviewer."]
            assert stage_of(version) == Stage.STAGING
            assert change_request.reviews.count() == 1
            assert _verbs(change_request) == [
                Verb.STAGE_CHANGE_REQUESTED,
                Verb.STAGE_CHANGE_APPROVED,
                Verb.STAGE_CHANGED,
            ]
        else:
            assert change_request.status == Status.CANCELLED
            assert _errors(results) == ["This request was already cancelled by editor."]
            assert stage_of(version) == Stage.UNASSIGNED
            assert not change_request.reviews.exists()
            assert _verbs(change_request) == [Verb.STAGE_CHANGE_REQUESTED, Verb.STAGE_CHANGE_CANCELLED]
    assert_stage_counts_are_true(model)


def test_approve_racing_reject_lets_exactly_one_win(
    version: ModelVersion, editor: Any, reviewer: Any, reviewer2: Any
) -> None:
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)

    results = race(
        lambda: approve_change_request(actor=reviewer, change_request=change_request),
        lambda: reject_change_request(actor=reviewer2, change_request=change_request),
    )

    assert _outcomes(results) == ["StageChangeRequest", "WorkflowError"]
    change_request.refresh_from_db()
    assert change_request.reviews.count() == 1
    if change_request.status == Status.APPROVED:
        assert _errors(results) == ["This request was already approved by reviewer."]
        assert stage_of(version) == Stage.DEVELOPMENT
        assert _verbs(change_request)[1:] == [Verb.STAGE_CHANGE_APPROVED, Verb.STAGE_CHANGED]
    else:
        assert change_request.status == Status.REJECTED
        assert _errors(results) == ["This request was already rejected by reviewer2."]
        assert stage_of(version) == Stage.UNASSIGNED
        assert _verbs(change_request)[1:] == [Verb.STAGE_CHANGE_REJECTED]
    assert_stage_counts_are_true(version.model)


def test_approve_racing_a_lock_either_applies_before_the_lock_or_stays_pending(
    version: ModelVersion, editor: Any, editor2: Any, reviewer: Any
) -> None:
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)

    results = race(
        lambda: approve_change_request(actor=reviewer, change_request=change_request),
        lambda: set_lock_level(actor=editor2, version=version, lock_level=LockLevel.CLOSED),
    )

    change_request.refresh_from_db()
    version.refresh_from_db()
    assert version.lock_level == LockLevel.CLOSED
    if change_request.status == Status.APPROVED:
        assert _outcomes(results) == ["ModelVersion", "StageChangeRequest"]
        assert version.stage == Stage.DEVELOPMENT
    else:
        assert _outcomes(results) == ["ModelVersion", "WorkflowError"]
        assert _errors(results)[0].startswith("Version v1.0.0 was locked (Closed) after this request was made")
        assert change_request.status == Status.PENDING
        assert version.stage == Stage.UNASSIGNED
        assert not change_request.reviews.exists()
    assert_stage_counts_are_true(version.model)


def test_twenty_editors_requesting_at_once_open_exactly_one_request(
    model: RegisteredModel, owner: Any, version: ModelVersion
) -> None:
    editors = [UserFactory.create(username=f"editor{i:02}") for i in range(20)]
    for user in editors:
        add_collaborator(actor=owner, model=model, user=user, role=Role.EDITOR)
    targets = [Stage.DEVELOPMENT, Stage.STAGING, Stage.PRODUCTION, Stage.ARCHIVED]

    results = race(
        *[
            (lambda user=user, to=targets[i % 4]: request_stage_change(actor=user, version=version, to_stage=to))
            for i, user in enumerate(editors)
        ]
    )

    assert _outcomes(results) == ["StageChangeRequest"] + ["WorkflowError"] * 19
    [pending] = StageChangeRequest.objects.filter(version=version)
    assert pending.status == Status.PENDING
    [winner] = [r for r in results if isinstance(r, StageChangeRequest)]
    assert winner.pk == pending.pk
    for message in _errors(results):
        assert message.startswith("Version v1.0.0 already has a pending request") or message.startswith(
            "Another request for version v1.0.0 was made at the same moment"
        ), message
    requested = ActivityEntry.objects.filter(verb=Verb.STAGE_CHANGE_REQUESTED)
    assert list(requested.values_list("actor", "to_stage", "extra__change_request")) == [
        (pending.requester_id, pending.to_stage, pending.pk)
    ]


def test_three_reviewers_racing_on_two_required_approvals_apply_the_change_once(
    version: ModelVersion, owner: Any, editor: Any, reviewer: Any, reviewer2: Any
) -> None:
    set_approval_policy(actor=owner, model=version.model, required_approvals=2)
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)

    results = race(
        lambda: approve_change_request(actor=reviewer, change_request=change_request),
        lambda: approve_change_request(actor=reviewer2, change_request=change_request),
        lambda: approve_change_request(actor=owner, change_request=change_request),
    )

    assert _outcomes(results) == ["StageChangeRequest", "StageChangeRequest", "WorkflowError"]
    change_request.refresh_from_db()
    assert change_request.status == Status.APPROVED
    assert change_request.resolved_by is not None
    assert _errors(results) == [f"This request was already approved by {change_request.resolved_by.username}."]
    approvers = set(Review.objects.filter(change_request=change_request).values_list("reviewer", flat=True))
    assert len(approvers) == 2
    assert change_request.resolved_by.pk in approvers
    assert editor.pk not in approvers
    assert stage_of(version) == Stage.STAGING
    assert ActivityEntry.objects.filter(verb=Verb.STAGE_CHANGED).count() == 1
    assert ActivityEntry.objects.filter(verb=Verb.STAGE_CHANGE_APPROVED).count() == 2
    assert_stage_counts_are_true(version.model)


def test_two_archiving_promotions_at_once_leave_one_version_in_production(
    model: RegisteredModel, owner: Any, editor: Any, editor2: Any, reviewer: Any, reviewer2: Any
) -> None:
    first = VersionFactory.create(model=model, created_by=owner, name="first")
    second = VersionFactory.create(model=model, created_by=owner, name="second")
    for version in (first, second):
        set_stage(version, Stage.STAGING)
    promote_first = request_stage_change(actor=editor, version=first, to_stage=Stage.PRODUCTION, archive_others=True)
    promote_second = request_stage_change(actor=editor2, version=second, to_stage=Stage.PRODUCTION, archive_others=True)

    results = race(
        lambda: approve_change_request(actor=reviewer, change_request=promote_first),
        lambda: approve_change_request(actor=reviewer2, change_request=promote_second),
    )

    # Either order, run one after the other, archives the version promoted first; so must a race.
    assert _outcomes(results) == ["StageChangeRequest", "StageChangeRequest"]
    stages = sorted(ModelVersion.objects.filter(model=model).values_list("stage", flat=True))
    assert stages == [Stage.ARCHIVED, Stage.PRODUCTION]
    archived = ActivityEntry.objects.filter(verb=Verb.STAGE_CHANGED, to_stage=Stage.ARCHIVED)
    assert archived.count() == 1
    assert_stage_counts_are_true(model)


def test_two_promotions_archiving_each_others_version_neither_deadlock_nor_both_apply(
    model: RegisteredModel, owner: Any, editor: Any, editor2: Any, reviewer: Any, reviewer2: Any
) -> None:
    up = VersionFactory.create(model=model, created_by=owner, name="up")
    down = VersionFactory.create(model=model, created_by=owner, name="down")
    set_stage(up, Stage.STAGING)
    set_stage(down, Stage.PRODUCTION)
    promote = request_stage_change(actor=editor, version=up, to_stage=Stage.PRODUCTION, archive_others=True)
    demote = request_stage_change(actor=editor2, version=down, to_stage=Stage.STAGING, archive_others=True)

    results = race(
        lambda: approve_change_request(actor=reviewer, change_request=promote),
        lambda: approve_change_request(actor=reviewer2, change_request=demote),
    )

    # Whichever applies first archives the other version, whose own request is then stale.
    assert _outcomes(results) == ["StageChangeRequest", "WorkflowError"]
    [error] = _errors(results)
    stages = dict(ModelVersion.objects.filter(model=model).values_list("name", "stage"))
    if stages["up"] == Stage.PRODUCTION:
        assert stages["down"] == Stage.ARCHIVED
        assert error.startswith("Version down is now in Archived, not Production")
    else:
        assert stages == {"up": Stage.ARCHIVED, "down": Stage.STAGING}
        assert error.startswith("Version up is now in Archived, not Staging")
    assert ActivityEntry.objects.filter(verb=Verb.STAGE_CHANGED).count() == 2
    assert StageChangeRequest.objects.filter(status=Status.PENDING).count() == 1
    assert_stage_counts_are_true(model)


def test_an_archiving_promotion_racing_a_lock_on_the_version_it_archives(
    model: RegisteredModel, owner: Any, editor: Any, editor2: Any, reviewer: Any
) -> None:
    current = VersionFactory.create(model=model, created_by=owner, name="current")
    candidate = VersionFactory.create(model=model, created_by=owner, name="candidate")
    set_stage(current, Stage.PRODUCTION)
    set_stage(candidate, Stage.STAGING)
    promote = request_stage_change(actor=editor, version=candidate, to_stage=Stage.PRODUCTION, archive_others=True)

    results = race(
        lambda: approve_change_request(actor=reviewer, change_request=promote),
        lambda: set_lock_level(actor=editor2, version=current, lock_level=LockLevel.CLOSED),
    )

    # Locked first, the current version keeps Production; archived first, it is locked in Archived.
    assert _outcomes(results) == ["ModelVersion", "StageChangeRequest"]
    current.refresh_from_db()
    assert current.lock_level == LockLevel.CLOSED
    assert stage_of(candidate) == Stage.PRODUCTION
    archived = ActivityEntry.objects.filter(verb=Verb.STAGE_CHANGED, version=current).count()
    assert (current.stage, archived) in {(Stage.PRODUCTION, 0), (Stage.ARCHIVED, 1)}
    assert_stage_counts_are_true(model)
