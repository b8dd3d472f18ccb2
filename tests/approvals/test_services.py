"""Every approval service: success, each guard, the activity entries written, mail, and nothing changed on refusal."""

from __future__ import annotations

import contextlib
import logging
import smtplib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage

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
from catalog.permissions import Role
from catalog.services import add_collaborator
from tests.factories import GroupFactory, ModelFactory, UserFactory
from tests.helpers import (
    assert_stage_counts_are_true,
    database_state,
    entries_since,
    entry_mark,
    refetch,
    set_stage,
    stage_of,
    version_in,
)

ChangesNothing = Callable[[], AbstractContextManager[None]]


@pytest.fixture
def changes_nothing(django_capture_on_commit_callbacks: Any, mailoutbox: list[EmailMessage]) -> ChangesNothing:
    """A context manager asserting that the code inside wrote nothing and scheduled no mail."""

    @contextlib.contextmanager
    def check() -> Iterator[None]:
        before, sent = database_state(), len(mailoutbox)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            yield
        assert callbacks == []
        assert len(mailoutbox) == sent
        assert database_state() == before

    return check


# request_stage_change


def test_request_stage_change_opens_a_pending_request(version: ModelVersion, editor: Any) -> None:
    mark = entry_mark()

    change_request = request_stage_change(
        actor=editor, version=version, to_stage=Stage.DEVELOPMENT, comment="  Ready for tests.  "
    )

    change_request = refetch(change_request)
    assert change_request.version == version
    assert change_request.requester == editor
    assert (change_request.from_stage, change_request.to_stage) == (Stage.UNASSIGNED, Stage.DEVELOPMENT)
    assert change_request.comment == "Ready for tests."
    assert change_request.status == Status.PENDING
    assert change_request.required_approvals == 1
    assert (change_request.skips_stages, change_request.archive_others) == (False, False)
    assert (change_request.resolved_by, change_request.resolved_at) == (None, None)
    assert stage_of(version) == Stage.UNASSIGNED
    assert entries_since(mark) == [
        (
            Verb.STAGE_CHANGE_REQUESTED,
            "editor",
            "v1.0.0",
            Stage.UNASSIGNED,
            Stage.DEVELOPMENT,
            "Ready for tests.",
            {"change_request": change_request.pk, "skipped": []},
        )
    ]


def test_an_owner_may_request_a_stage_change(version: ModelVersion, owner: Any) -> None:
    change_request = request_stage_change(actor=owner, version=version, to_stage=Stage.STAGING)

    assert change_request.requester == owner
    assert change_request.status == Status.PENDING


def test_request_copies_the_model_approval_policy(version: ModelVersion, owner: Any, editor: Any) -> None:
    set_approval_policy(actor=owner, model=version.model, required_approvals=3)

    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)

    assert refetch(change_request).required_approvals == 3


@pytest.mark.parametrize("persona", ["reviewer", "viewer", "outsider"])
def test_request_is_refused_to_non_editors(
    version: ModelVersion, changes_nothing: ChangesNothing, persona: str, request: pytest.FixtureRequest
) -> None:
    actor = request.getfixturevalue(persona)

    with changes_nothing(), pytest.raises(PermissionDenied, match="Only editors and owners of this model can request"):
        request_stage_change(actor=actor, version=version, to_stage=Stage.DEVELOPMENT)


@pytest.mark.parametrize(("level", "label"), [(LockLevel.CLOSED, "Closed"), (LockLevel.REDACT, "Redact")])
def test_request_is_refused_for_a_locked_version(
    version: ModelVersion, owner: Any, editor: Any, changes_nothing: ChangesNothing, level: LockLevel, label: str
) -> None:
    set_lock_level(actor=owner, version=version, lock_level=level)

    with (
        changes_nothing(),
        pytest.raises(WorkflowError, match=rf"^Version v1\.0\.0 is locked \({label}\); its stage cannot change\.$"),
    ):
        request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)


def test_request_is_refused_for_the_current_stage(
    version: ModelVersion, editor: Any, changes_nothing: ChangesNothing
) -> None:
    set_stage(version, Stage.STAGING)

    with changes_nothing(), pytest.raises(WorkflowError, match=r"^Version v1\.0\.0 is already in Staging\.$"):
        request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)


@pytest.mark.parametrize("second", ["editor", "editor2", "owner"])
def test_request_is_refused_while_another_is_pending_and_names_it(
    version: ModelVersion,
    editor: Any,
    editor2: Any,
    changes_nothing: ChangesNothing,
    second: str,
    request: pytest.FixtureRequest,
) -> None:
    request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)

    with (
        changes_nothing(),
        pytest.raises(
            WorkflowError,
            match=r"^Version v1\.0\.0 already has a pending request \(Unassigned → Staging, by editor\)\. "
            r"It must be approved, rejected or cancelled first\.$",
        ),
    ):
        request_stage_change(actor=request.getfixturevalue(second), version=version, to_stage=Stage.DEVELOPMENT)


def test_a_new_request_is_allowed_once_the_last_is_resolved(version: ModelVersion, editor: Any, reviewer: Any) -> None:
    first = request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)
    cancel_change_request(actor=editor, change_request=first)
    second = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)
    reject_change_request(actor=reviewer, change_request=second)

    third = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)

    assert third.status == Status.PENDING
    assert StageChangeRequest.objects.filter(version=version).count() == 3


def test_request_accepts_a_comment_of_5000_characters(version: ModelVersion, editor: Any) -> None:
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT, comment="c" * 5000)

    assert len(refetch(change_request).comment) == 5000


def test_request_refuses_a_comment_over_5000_characters(
    version: ModelVersion, editor: Any, changes_nothing: ChangesNothing
) -> None:
    with (
        changes_nothing(),
        pytest.raises(WorkflowError, match=r"^The comment has 5,001 characters; at most 5,000 are allowed\.$"),
    ):
        request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT, comment="c" * 5001)


@pytest.mark.parametrize("to_stage", ["beta", "", "Staging", "STAGING"])
def test_request_refuses_an_unknown_stage(
    version: ModelVersion, editor: Any, changes_nothing: ChangesNothing, to_stage: str
) -> None:
    with changes_nothing(), pytest.raises(WorkflowError, match=r"^Choose one of the stages\.$"):
        request_stage_change(actor=editor, version=version, to_stage=to_stage)


@pytest.mark.parametrize(
    ("from_stage", "to_stage", "skipped"),
    [
        (Stage.UNASSIGNED, Stage.PRODUCTION, ["Development", "Staging"]),
        (Stage.UNASSIGNED, Stage.STAGING, ["Development"]),
        (Stage.DEVELOPMENT, Stage.PRODUCTION, ["Staging"]),
        (Stage.UNASSIGNED, Stage.DEVELOPMENT, []),
        (Stage.STAGING, Stage.PRODUCTION, []),
        (Stage.UNASSIGNED, Stage.ARCHIVED, []),
        (Stage.DEVELOPMENT, Stage.ARCHIVED, []),
        (Stage.PRODUCTION, Stage.DEVELOPMENT, []),
        (Stage.STAGING, Stage.UNASSIGNED, []),
        (Stage.ARCHIVED, Stage.UNASSIGNED, []),
        (Stage.ARCHIVED, Stage.PRODUCTION, []),
    ],
)
def test_request_flags_a_forward_move_that_skips_stages(
    version: ModelVersion, editor: Any, from_stage: Stage, to_stage: Stage, skipped: list[str]
) -> None:
    if from_stage != Stage.UNASSIGNED:
        set_stage(version, from_stage)
    mark = entry_mark()

    change_request = request_stage_change(actor=editor, version=version, to_stage=to_stage)

    assert refetch(change_request).skips_stages is bool(skipped)
    [entry] = entries_since(mark)
    assert entry[-1] == {"change_request": change_request.pk, "skipped": skipped}


@pytest.mark.parametrize(
    ("to_stage", "kept"),
    [
        (Stage.STAGING, True),
        (Stage.PRODUCTION, True),
        (Stage.DEVELOPMENT, False),
        (Stage.ARCHIVED, False),
    ],
)
def test_request_keeps_archive_others_only_for_staging_and_production(
    version: ModelVersion, editor: Any, to_stage: Stage, kept: bool
) -> None:
    change_request = request_stage_change(actor=editor, version=version, to_stage=to_stage, archive_others=True)

    assert refetch(change_request).archive_others is kept


# Mail on a new request


def test_request_mails_the_reviewers_directly_and_via_groups_on_commit(
    version: ModelVersion,
    owner: Any,
    editor: Any,
    reviewer: Any,
    viewer: Any,
    editor2: Any,
    mailoutbox: list[EmailMessage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    group = GroupFactory.create(name="ml-reviewers")
    gina = UserFactory.create(username="gina")
    gina.groups.add(group)
    add_collaborator(actor=owner, model=version.model, group=group, role=Role.REVIEWER)
    retired = UserFactory.create(username="retired", is_active=False)
    add_collaborator(actor=owner, model=version.model, user=retired, role=Role.REVIEWER)
    mute = UserFactory.create(username="mute", email="")
    add_collaborator(actor=owner, model=version.model, user=mute, role=Role.REVIEWER)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING, comment="Passed the suite.")
    assert mailoutbox == []
    for callback in callbacks:
        callback()

    [message] = mailoutbox
    assert message.to == ["gina@example.com", "owner@example.com", "reviewer@example.com"]
    assert message.subject == "[Model Catalog] editor requests Staging for Churn Predictor v1.0.0"
    assert "from Unassigned to Staging" in message.body
    assert "Passed the suite." in message.body
    assert "/models/churn-predictor/" in message.body


def test_request_by_the_owner_does_not_mail_the_owner(
    version: ModelVersion,
    owner: Any,
    reviewer: Any,
    mailoutbox: list[EmailMessage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        request_stage_change(actor=owner, version=version, to_stage=Stage.DEVELOPMENT)

    assert [m.to for m in mailoutbox] == [["reviewer@example.com"]]


def test_request_without_any_reviewer_to_mail_sends_nothing(
    version: ModelVersion, owner: Any, mailoutbox: list[EmailMessage], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        request_stage_change(actor=owner, version=version, to_stage=Stage.DEVELOPMENT)

    assert mailoutbox == []


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


# Mail on a decision


def test_approval_that_applies_the_change_mails_the_requester(
    version: ModelVersion,
    editor: Any,
    reviewer: Any,
    mailoutbox: list[EmailMessage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    change_request = request_stage_change(
        actor=editor, version=version, to_stage=Stage.DEVELOPMENT, comment="Please promote."
    )

    with django_capture_on_commit_callbacks(execute=True):
        approve_change_request(actor=reviewer, change_request=change_request, comment="Fine, ship it.")

    [message] = mailoutbox
    assert message.to == ["editor@example.com"]
    assert message.subject == "[Model Catalog] Your request for Churn Predictor v1.0.0 was approved"
    assert "reviewer approved your request to move Churn Predictor v1.0.0 from Unassigned to Development" in (
        message.body
    )
    # The comment under the decision is the reviewer's, as on a rejection, not the requester's own echoed back.
    assert "Fine, ship it." in message.body
    assert "Please promote." not in message.body


def test_a_first_of_two_approvals_mails_nobody(
    version: ModelVersion,
    owner: Any,
    editor: Any,
    reviewer: Any,
    mailoutbox: list[EmailMessage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    set_approval_policy(actor=owner, model=version.model, required_approvals=2)
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)

    with django_capture_on_commit_callbacks(execute=True):
        approve_change_request(actor=reviewer, change_request=change_request)

    assert mailoutbox == []


def test_rejection_mails_the_requester_with_the_reviewers_comment(
    version: ModelVersion,
    editor: Any,
    reviewer: Any,
    mailoutbox: list[EmailMessage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)

    with django_capture_on_commit_callbacks(execute=True):
        reject_change_request(actor=reviewer, change_request=change_request, comment="Metrics regressed.")

    [message] = mailoutbox
    assert message.to == ["editor@example.com"]
    assert message.subject == "[Model Catalog] Your request for Churn Predictor v1.0.0 was rejected"
    assert "Metrics regressed." in message.body


def test_cancelling_mails_nobody(
    version: ModelVersion,
    editor: Any,
    reviewer: Any,
    mailoutbox: list[EmailMessage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)

    with django_capture_on_commit_callbacks(execute=True):
        cancel_change_request(actor=editor, change_request=change_request)

    assert mailoutbox == []


def _broken_send_mail(*args: Any, **kwargs: Any) -> int:
    raise smtplib.SMTPException("relay down")


def test_a_failing_mail_server_does_not_undo_a_request_or_an_approval(
    version: ModelVersion,
    editor: Any,
    reviewer: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    monkeypatch.setattr("approvals.services.send_mail", _broken_send_mail)

    with caplog.at_level(logging.ERROR, logger="approvals.services"):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)
        with django_capture_on_commit_callbacks(execute=True) as more:
            approve_change_request(actor=reviewer, change_request=change_request)

    assert len(callbacks) == len(more) == 1
    assert refetch(change_request).status == Status.APPROVED
    assert stage_of(version) == Stage.DEVELOPMENT
    assert [r.getMessage().split(" to ")[0] for r in caplog.records] == [
        "Could not send '[Model Catalog] editor requests Development for Churn Predictor v1.0.0'",
        "Could not send '[Model Catalog] Your request for Churn Predictor v1.0.0 was approved'",
    ]
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_failing_mail_server_after_a_real_commit_leaves_the_change_in_place(
    version: ModelVersion,
    editor: Any,
    reviewer: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr("approvals.services.send_mail", _broken_send_mail)

    with caplog.at_level(logging.ERROR, logger="approvals.services"):
        change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)
        reject_change_request(actor=reviewer, change_request=change_request)

    assert len(caplog.records) == 2
    assert refetch(change_request).status == Status.REJECTED
    assert ActivityEntry.objects.filter(verb=Verb.STAGE_CHANGE_REJECTED).count() == 1


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
