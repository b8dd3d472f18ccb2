"""approve_change_request: success, each guard, the activity entries written, archiving the other versions of the
target stage, and nothing changed on refusal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from activity.models import ActivityEntry, Verb
from approvals.models import Decision, StageChangeRequest, Status
from approvals.services import (
    WorkflowError,
    approve_change_request,
    cancel_change_request,
    reject_change_request,
    request_stage_change,
    set_approval_policy,
    set_lock_level,
)
from catalog.models import STAGE_ORDER, LockLevel, ModelVersion, RegisteredModel, Stage
from tests.factories import ModelFactory
from tests.helpers import (
    ChangesNothing,
    assert_stage_counts_are_true,
    entries_since,
    entry_mark,
    refetch,
    set_stage,
    stage_of,
    version_in,
)

# approve_change_request


def test_approve_with_one_required_approval_applies_the_change(
    version: ModelVersion, editor: Any, reviewer: Any
) -> None:
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT, comment="Go.")
    mark = entry_mark()

    approve_change_request(actor=reviewer, change_request=change_request, comment=" Looks good. ")

    change_request = refetch(change_request)
    assert change_request.status == Status.APPROVED
    assert change_request.resolved_by == reviewer
    assert change_request.resolved_at is not None
    assert list(change_request.reviews.values_list("reviewer__username", "decision", "comment")) == [
        ("reviewer", Decision.APPROVE, "Looks good.")
    ]
    version.refresh_from_db()
    assert version.stage == Stage.DEVELOPMENT
    assert version.stage_changed_at is not None
    pk = change_request.pk
    assert entries_since(mark) == [
        (
            Verb.STAGE_CHANGE_APPROVED,
            "reviewer",
            "v1.0.0",
            "unassigned",
            "development",
            "Looks good.",
            {"change_request": pk},
        ),
        (
            Verb.STAGE_CHANGED,
            "reviewer",
            "v1.0.0",
            "unassigned",
            "development",
            "",
            {"change_request": pk, "requested_by": "editor"},
        ),
    ]
    assert_stage_counts_are_true(version.model)


def test_an_owner_may_approve_an_editors_request(version: ModelVersion, owner: Any, editor: Any) -> None:
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)

    approve_change_request(actor=owner, change_request=change_request)

    assert refetch(change_request).resolved_by == owner
    assert stage_of(version) == Stage.DEVELOPMENT


@pytest.mark.parametrize("review", [approve_change_request, reject_change_request], ids=["approve", "reject"])
@pytest.mark.parametrize("persona", ["viewer", "editor2", "outsider"])
def test_review_is_refused_to_non_reviewers(
    version: ModelVersion,
    editor: Any,
    changes_nothing: ChangesNothing,
    review: Callable[..., StageChangeRequest],
    persona: str,
    request: pytest.FixtureRequest,
) -> None:
    actor = request.getfixturevalue(persona)
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)

    with (
        changes_nothing(),
        pytest.raises(PermissionDenied, match=r"^Only reviewers and owners of this model can approve or reject"),
    ):
        review(actor=actor, change_request=change_request)


@pytest.mark.parametrize("review", [approve_change_request, reject_change_request], ids=["approve", "reject"])
def test_the_requester_cannot_review_their_own_request(
    version: ModelVersion,
    owner: Any,
    changes_nothing: ChangesNothing,
    review: Callable[..., StageChangeRequest],
) -> None:
    change_request = request_stage_change(actor=owner, version=version, to_stage=Stage.DEVELOPMENT)

    with (
        changes_nothing(),
        pytest.raises(PermissionDenied, match=r"^You made this request, so someone else has to review it\.$"),
    ):
        review(actor=owner, change_request=change_request)


@pytest.mark.parametrize("second", [approve_change_request, reject_change_request], ids=["approve", "reject"])
def test_a_reviewer_reviews_a_request_only_once(
    version: ModelVersion,
    owner: Any,
    editor: Any,
    reviewer: Any,
    changes_nothing: ChangesNothing,
    second: Callable[..., StageChangeRequest],
) -> None:
    set_approval_policy(actor=owner, model=version.model, required_approvals=2)
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)
    approve_change_request(actor=reviewer, change_request=change_request)

    with changes_nothing(), pytest.raises(WorkflowError, match=r"^You have already reviewed this request\.$"):
        second(actor=reviewer, change_request=change_request)


def _resolve(change_request: StageChangeRequest, how: str, people: dict[str, Any]) -> None:
    if how == "approved":
        approve_change_request(actor=people["reviewer"], change_request=change_request)
    elif how == "rejected":
        reject_change_request(actor=people["reviewer"], change_request=change_request)
    else:
        cancel_change_request(actor=people["editor"], change_request=change_request)


@pytest.mark.parametrize(
    "action",
    [approve_change_request, reject_change_request, cancel_change_request],
    ids=["approve", "reject", "cancel"],
)
@pytest.mark.parametrize(("how", "by"), [("approved", "reviewer"), ("rejected", "reviewer"), ("cancelled", "editor")])
def test_a_resolved_request_refuses_every_action_and_says_how_and_by_whom(
    version: ModelVersion,
    owner: Any,
    editor: Any,
    reviewer: Any,
    changes_nothing: ChangesNothing,
    action: Callable[..., StageChangeRequest],
    how: str,
    by: str,
) -> None:
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)
    _resolve(change_request, how, {"reviewer": reviewer, "editor": editor})

    with changes_nothing(), pytest.raises(WorkflowError, match=rf"^This request was already {how} by {by}\.$"):
        action(actor=owner, change_request=change_request)


@pytest.mark.parametrize(("level", "label"), [(LockLevel.CLOSED, "Closed"), (LockLevel.REDACT, "Redact")])
def test_approve_is_refused_when_the_version_was_locked_since_and_the_request_stays_pending(
    version: ModelVersion,
    owner: Any,
    editor: Any,
    reviewer: Any,
    changes_nothing: ChangesNothing,
    level: LockLevel,
    label: str,
) -> None:
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)
    set_lock_level(actor=editor, version=version, lock_level=level)

    with (
        changes_nothing(),
        pytest.raises(
            WorkflowError,
            match=rf"^Version v1\.0\.0 was locked \({label}\) after this request was made; it stays pending until",
        ),
    ):
        approve_change_request(actor=reviewer, change_request=change_request)

    assert refetch(change_request).status == Status.PENDING
    set_lock_level(actor=owner, version=version, lock_level=LockLevel.OPEN)
    approve_change_request(actor=reviewer, change_request=change_request)
    assert stage_of(version) == Stage.DEVELOPMENT


def test_a_pending_request_of_a_locked_version_may_still_be_cancelled(
    version: ModelVersion, owner: Any, editor: Any
) -> None:
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)
    set_lock_level(actor=owner, version=version, lock_level=LockLevel.REDACT)

    cancel_change_request(actor=editor, change_request=change_request)

    assert refetch(change_request).status == Status.CANCELLED


def test_approve_is_refused_when_the_version_moved_since(
    version: ModelVersion, editor: Any, reviewer: Any, changes_nothing: ChangesNothing
) -> None:
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)
    set_stage(version, Stage.STAGING)

    with (
        changes_nothing(),
        pytest.raises(
            WorkflowError,
            match=r"^Version v1\.0\.0 is now in Staging, not Unassigned as when this request was made; "
            r"cancel it and request again\.$",
        ),
    ):
        approve_change_request(actor=reviewer, change_request=change_request)

    assert refetch(change_request).status == Status.PENDING


def test_a_request_left_stale_by_an_archiving_promotion_cannot_be_approved(
    model: RegisteredModel, editor: Any, editor2: Any, reviewer: Any, changes_nothing: ChangesNothing
) -> None:
    old = version_in(model, "v1", Stage.STAGING)
    new = version_in(model, "v2", Stage.DEVELOPMENT)
    stale = request_stage_change(actor=editor, version=old, to_stage=Stage.PRODUCTION)
    promotion = request_stage_change(actor=editor2, version=new, to_stage=Stage.STAGING, archive_others=True)
    approve_change_request(actor=reviewer, change_request=promotion)
    assert stage_of(old) == Stage.ARCHIVED

    with changes_nothing(), pytest.raises(WorkflowError, match=r"^Version v1 is now in Archived, not Staging"):
        approve_change_request(actor=reviewer, change_request=stale)

    cancel_change_request(actor=editor, change_request=stale)
    assert refetch(stale).status == Status.CANCELLED


def test_approve_refuses_a_comment_over_5000_characters(
    version: ModelVersion, editor: Any, reviewer: Any, changes_nothing: ChangesNothing
) -> None:
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)

    with changes_nothing(), pytest.raises(WorkflowError, match="The comment has 5,001 characters"):
        approve_change_request(actor=reviewer, change_request=change_request, comment="c" * 5001)


def test_two_required_approvals_need_two_distinct_reviewers_and_apply_once(
    version: ModelVersion, owner: Any, editor: Any, reviewer: Any, reviewer2: Any
) -> None:
    set_approval_policy(actor=owner, model=version.model, required_approvals=2)
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING, comment="Ship it.")
    mark = entry_mark()

    approve_change_request(actor=reviewer, change_request=change_request, comment="One.")

    assert refetch(change_request).status == Status.PENDING
    assert stage_of(version) == Stage.UNASSIGNED
    assert [e[0] for e in entries_since(mark)] == [Verb.STAGE_CHANGE_APPROVED]

    approve_change_request(actor=reviewer2, change_request=change_request, comment="Two.")

    change_request = refetch(change_request)
    assert change_request.status == Status.APPROVED
    assert change_request.resolved_by == reviewer2
    assert stage_of(version) == Stage.STAGING
    pk = change_request.pk
    assert entries_since(mark) == [
        (Verb.STAGE_CHANGE_APPROVED, "reviewer", "v1.0.0", "unassigned", "staging", "One.", {"change_request": pk}),
        (Verb.STAGE_CHANGE_APPROVED, "reviewer2", "v1.0.0", "unassigned", "staging", "Two.", {"change_request": pk}),
        (
            Verb.STAGE_CHANGED,
            "reviewer2",
            "v1.0.0",
            "unassigned",
            "staging",
            "",
            {"change_request": pk, "requested_by": "editor"},
        ),
    ]
    with pytest.raises(WorkflowError, match=r"^This request was already approved by reviewer2\.$"):
        approve_change_request(actor=owner, change_request=change_request)
    assert ActivityEntry.objects.filter(version=version, verb=Verb.STAGE_CHANGED).count() == 1
    assert_stage_counts_are_true(version.model)


def test_the_requesting_owner_does_not_count_towards_two_approvals(
    version: ModelVersion, owner: Any, reviewer: Any, reviewer2: Any
) -> None:
    set_approval_policy(actor=owner, model=version.model, required_approvals=2)
    change_request = request_stage_change(actor=owner, version=version, to_stage=Stage.DEVELOPMENT)

    approve_change_request(actor=reviewer, change_request=change_request)
    with pytest.raises(PermissionDenied):
        approve_change_request(actor=owner, change_request=change_request)
    assert refetch(change_request).status == Status.PENDING

    approve_change_request(actor=reviewer2, change_request=change_request)
    assert refetch(change_request).status == Status.APPROVED


def test_the_whole_lifecycle_keeps_the_stage_counts_true(
    version: ModelVersion, owner: Any, editor: Any, reviewer: Any
) -> None:
    for stage in STAGE_ORDER[1:]:
        change_request = request_stage_change(actor=editor, version=version, to_stage=stage)
        approve_change_request(actor=reviewer, change_request=change_request)
        assert stage_of(version) == stage
        assert_stage_counts_are_true(version.model)
    change_request = request_stage_change(actor=owner, version=version, to_stage=Stage.DEVELOPMENT)
    approve_change_request(actor=reviewer, change_request=change_request)

    changes = ActivityEntry.objects.filter(version=version, verb=Verb.STAGE_CHANGED).order_by("pk")
    assert list(changes.values_list("from_stage", "to_stage")) == [
        ("unassigned", "development"),
        ("development", "staging"),
        ("staging", "production"),
        ("production", "archived"),
        ("archived", "development"),
    ]
    assert_stage_counts_are_true(version.model)


# archive_others


@pytest.mark.parametrize("target", [Stage.STAGING, Stage.PRODUCTION])
def test_archive_others_archives_the_unlocked_versions_in_the_target_stage(
    model: RegisteredModel, owner: Any, editor: Any, reviewer: Any, target: Stage
) -> None:
    version_in(model, "current", target)
    set_lock_level(actor=owner, version=version_in(model, "frozen", target), lock_level=LockLevel.CLOSED)
    version_in(model, "bystander", Stage.DEVELOPMENT)
    version_in(model, "archived", Stage.ARCHIVED)
    source = Stage.DEVELOPMENT if target == Stage.STAGING else Stage.STAGING
    candidate = version_in(model, "candidate", source)
    change_request = request_stage_change(actor=editor, version=candidate, to_stage=target, archive_others=True)
    mark = entry_mark()

    approve_change_request(actor=reviewer, change_request=change_request)

    stages = dict(ModelVersion.objects.filter(model=model).values_list("name", "stage"))
    assert stages == {
        "candidate": target,
        "current": Stage.ARCHIVED,
        "frozen": target,
        "bystander": Stage.DEVELOPMENT,
        "archived": Stage.ARCHIVED,
    }
    pk, label = change_request.pk, target.label
    assert entries_since(mark) == [
        (Verb.STAGE_CHANGE_APPROVED, "reviewer", "candidate", source, target, "", {"change_request": pk}),
        (
            Verb.STAGE_CHANGED,
            "reviewer",
            "candidate",
            source,
            target,
            "",
            {"change_request": pk, "requested_by": "editor"},
        ),
        (
            Verb.STAGE_CHANGED,
            "reviewer",
            "current",
            target,
            Stage.ARCHIVED,
            f"Archived because candidate moved to {label}.",
            {"change_request": pk, "caused_by": pk},
        ),
    ]
    assert_stage_counts_are_true(model)


def test_archive_others_archives_every_other_version_in_the_target_stage(
    model: RegisteredModel, editor: Any, reviewer: Any
) -> None:
    for name in ("p1", "p2", "p3"):
        version_in(model, name, Stage.PRODUCTION)
    candidate = version_in(model, "candidate", Stage.STAGING)
    change_request = request_stage_change(
        actor=editor, version=candidate, to_stage=Stage.PRODUCTION, archive_others=True
    )

    approve_change_request(actor=reviewer, change_request=change_request)

    assert dict(ModelVersion.objects.filter(model=model).values_list("name", "stage")) == {
        "candidate": Stage.PRODUCTION,
        "p1": Stage.ARCHIVED,
        "p2": Stage.ARCHIVED,
        "p3": Stage.ARCHIVED,
    }
    caused = ActivityEntry.objects.filter(extra__caused_by=change_request.pk)
    assert sorted(caused.values_list("version__name", flat=True)) == ["p1", "p2", "p3"]
    assert_stage_counts_are_true(model)


def test_without_archive_others_the_other_versions_keep_their_stage(
    model: RegisteredModel, editor: Any, reviewer: Any
) -> None:
    version_in(model, "current", Stage.PRODUCTION)
    candidate = version_in(model, "candidate", Stage.STAGING)
    change_request = request_stage_change(actor=editor, version=candidate, to_stage=Stage.PRODUCTION)

    approve_change_request(actor=reviewer, change_request=change_request)

    assert dict(ModelVersion.objects.filter(model=model).values_list("name", "stage")) == {
        "candidate": Stage.PRODUCTION,
        "current": Stage.PRODUCTION,
    }
    assert ActivityEntry.objects.filter(verb=Verb.STAGE_CHANGED, version__name="current").count() == 0
    assert_stage_counts_are_true(model)


@pytest.mark.parametrize(
    ("source", "target"),
    [(Stage.UNASSIGNED, Stage.DEVELOPMENT), (Stage.PRODUCTION, Stage.ARCHIVED), (Stage.DEVELOPMENT, Stage.UNASSIGNED)],
)
def test_archive_others_is_ignored_for_other_targets(
    model: RegisteredModel, editor: Any, reviewer: Any, source: Stage, target: Stage
) -> None:
    version_in(model, "resident", target)
    candidate = version_in(model, "candidate", source)
    change_request = request_stage_change(actor=editor, version=candidate, to_stage=target, archive_others=True)

    approve_change_request(actor=reviewer, change_request=change_request)

    assert dict(ModelVersion.objects.filter(model=model).values_list("name", "stage")) == {
        "candidate": target,
        "resident": target,
    }
    assert ActivityEntry.objects.filter(verb=Verb.STAGE_CHANGED, version__name="resident").count() == 0
    assert_stage_counts_are_true(model)


def test_archive_others_leaves_other_models_alone(
    model: RegisteredModel, owner: Any, editor: Any, reviewer: Any
) -> None:
    elsewhere = ModelFactory.create(owner=owner, name="Other Model")
    foreign = version_in(elsewhere, "foreign", Stage.PRODUCTION)
    candidate = version_in(model, "candidate", Stage.STAGING)
    change_request = request_stage_change(
        actor=editor, version=candidate, to_stage=Stage.PRODUCTION, archive_others=True
    )

    approve_change_request(actor=reviewer, change_request=change_request)

    assert stage_of(foreign) == Stage.PRODUCTION
    assert_stage_counts_are_true(model)
    assert_stage_counts_are_true(elsewhere)
