"""Every write of the approval workflow: requests, reviews, cancellations, locks and the approval policy."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q

from activity.models import Verb
from activity.services import record_activity
from approvals import permissions, selectors
from approvals.models import MAX_COMMENT, Decision, Review, StageChangeRequest, Status
from catalog.models import (
    ARCHIVE_OTHERS_STAGES,
    MAX_APPROVALS,
    MIN_APPROVALS,
    LockLevel,
    ModelVersion,
    RegisteredModel,
    Stage,
    skipped_stages,
)
from catalog.permissions import Access
from catalog.services import apply_stage_change
from core import clock, followups
from core.mail import queue_mail
from webhooks.events import written_together


class WorkflowError(Exception):
    """A workflow action was refused; the message is fit to show a user."""


def _check_comment(comment: str) -> str:
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise WorkflowError(f"The comment has {len(comment):,} characters; at most {MAX_COMMENT:,} are allowed.")
    if "\x00" in comment:
        raise WorkflowError("The comment contains a character that cannot be stored (NUL).")
    return comment


def _label(stage: str) -> str:
    return str(Stage(stage).label)


def _version_url(version: ModelVersion) -> str:
    return f"{settings.SITE_URL}{version.get_absolute_url()}"


def _notify_reviewers(change_request: StageChangeRequest, version: ModelVersion, actor: User) -> int:
    """Mail the reviewers about a new request; returns how many were written to."""
    recipients = selectors.reviewer_emails(model=version.model, excluding=actor)
    subject = (
        f"[Model Catalog] {actor.get_username()} requests {_label(change_request.to_stage)} "
        f"for {version.model.name} {version.name}"
    )
    body = (
        f"{actor.get_username()} asks to move {version.model.name} {version.name} from "
        f"{_label(change_request.from_stage)} to {_label(change_request.to_stage)}.\n\n"
        f"{change_request.comment or '(no comment)'}\n\nReview it: {_version_url(version)}\n"
    )
    queue_mail(subject, body, recipients)
    return len(recipients)


def _notify_requester(change_request: StageChangeRequest, version: ModelVersion, actor: User, comment: str) -> None:
    requester = change_request.requester
    if not requester.email or requester.pk == actor.pk:
        return
    outcome = change_request.get_status_display().lower()
    subject = f"[Model Catalog] Your request for {version.model.name} {version.name} was {outcome}"
    body = (
        f"{actor.get_username()} {outcome} your request to move {version.model.name} {version.name} from "
        f"{_label(change_request.from_stage)} to {_label(change_request.to_stage)}.\n\n"
        f"{comment or '(no comment)'}\n\n{_version_url(version)}\n"
    )
    queue_mail(subject, body, [requester.email])


def _resolve(change_request: StageChangeRequest, status: Status, actor: User) -> None:
    """End a pending request with status, by actor, now."""
    change_request.status = status
    change_request.resolved_by = actor
    change_request.resolved_at = clock.now()
    change_request.save(update_fields=["status", "resolved_by", "resolved_at"])


def _log_request_event(
    actor: User,
    verb: Verb,
    change_request: StageChangeRequest,
    version: ModelVersion,
    comment: str,
    *,
    extra: dict[str, object] | None = None,
) -> None:
    """The activity entry of something done to a request: requested, approved, rejected or cancelled."""
    record_activity(
        actor=actor,
        verb=verb,
        model=version.model,
        version=version,
        from_stage=change_request.from_stage,
        to_stage=change_request.to_stage,
        comment=comment,
        extra={"change_request": change_request.pk} | (extra or {}),
    )


@transaction.atomic
@followups.together()  # its mail and its webhooks' delivery runs: one task
def request_stage_change(
    *, actor: User, version: ModelVersion, to_stage: str, comment: str = "", archive_others: bool = False
) -> StageChangeRequest:
    """Ask to move version to to_stage; raises PermissionDenied, WorkflowError."""
    access = Access(actor)
    permissions.may_request_stage_change(access, version, pending=None).check_role()
    if to_stage not in Stage.values:
        raise WorkflowError("Choose one of the stages.")
    comment = _check_comment(comment)
    version = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
    permissions.may_request_stage_change(access, version, pending=None).enforce(WorkflowError)  # not locked
    if version.stage == to_stage:
        raise WorkflowError(f"Version {version.name} is already in {_label(to_stage)}.")
    pending = StageChangeRequest.objects.filter(version=version, status=Status.PENDING).select_related("requester")
    permissions.may_request_stage_change(access, version, pending=pending.first()).enforce(WorkflowError)
    skipped = skipped_stages(version.stage, to_stage)
    change_request = StageChangeRequest(
        version=version,
        from_stage=version.stage,
        to_stage=to_stage,
        comment=comment,
        requester=actor,
        created_at=clock.now(),
        required_approvals=version.model.required_approvals,
        archive_others=archive_others and to_stage in ARCHIVE_OTHERS_STAGES,
        skips_stages=bool(skipped),
    )
    try:
        with transaction.atomic():
            change_request.save()
    except IntegrityError as error:  # the partial unique index: a request made at the same moment won
        raise WorkflowError(
            f"Another request for version {version.name} was made at the same moment; reload to see it."
        ) from error
    record_activity(
        actor=actor,
        verb=Verb.STAGE_CHANGE_REQUESTED,
        model=version.model,
        version=version,
        from_stage=change_request.from_stage,
        to_stage=to_stage,
        comment=comment,
        extra={"change_request": change_request.pk, "skipped": [str(s.label) for s in skipped]},
    )
    change_request.reviewers_mailed = _notify_reviewers(change_request, version, actor)
    return change_request


def _lock_for_review(
    actor: User, change_request: StageChangeRequest, comment: str
) -> tuple[StageChangeRequest, ModelVersion, str, int]:
    """Lock the request, then check that actor may review it now; the shared guards of approve and reject.

    Returns the request, its version, the comment and how many approvals it had: with the request's row locked,
    no other review can be added until this transaction ends.
    """
    comment = _check_comment(comment)
    # Lock order everywhere: the request, then versions by primary key. resolved_by is not joined here: after
    # waiting for a racing reviewer's lock, PostgreSQL returns the updated request row but the join as it was
    # (no resolver), and the refusal would not say who resolved it.
    change_request = (
        StageChangeRequest.objects.select_for_update(of=("self",))
        .select_related("version__model", "requester")
        .get(pk=change_request.pk)
    )
    reviews = list(change_request.reviews.values_list("reviewer_id", "decision"))
    already_reviewed = any(reviewer_id == actor.pk for reviewer_id, _ in reviews)
    permissions.may_review(actor, change_request, already_reviewed=already_reviewed).enforce(WorkflowError)
    approvals = sum(decision == Decision.APPROVE for _, decision in reviews)
    return change_request, change_request.version, comment, approvals


@transaction.atomic
@followups.together()
def approve_change_request(
    *, actor: User, change_request: StageChangeRequest, comment: str = "", archive_others: bool | None = None
) -> StageChangeRequest:
    """Record actor's approval and apply the change once enough are in; archive_others, when given, replaces the
    request's choice of archiving the versions in the target stage (Databricks' approve carries it).
    Raises PermissionDenied, WorkflowError."""
    change_request, version, comment, approvals = _lock_for_review(actor, change_request, comment)
    model = version.model
    overrides = archive_others is not None and change_request.to_stage in ARCHIVE_OTHERS_STAGES
    if overrides and archive_others != change_request.archive_others:
        change_request.archive_others = bool(archive_others)
        change_request.save(update_fields=["archive_others"])
    # The version and, when archiving, every version of the model, locked together in key order so that two
    # promotions archiving each other's versions cannot deadlock. Not only those in the target stage: a filter on
    # the stage would miss a version that a racing promotion is moving there, and both would stay.
    scope = Q(pk=version.pk)
    if change_request.archive_others:
        scope |= Q(model_id=version.model_id)
    locked = {v.pk: v for v in ModelVersion.objects.select_for_update().filter(scope).order_by("pk")}
    version = locked[version.pk]
    version.model = model  # read with the request: no second query for it
    if version.is_locked:
        raise WorkflowError(
            f"Version {version.name} was locked ({version.get_lock_level_display()}) after this request was made; "
            "it stays pending until the version is unlocked or the request is cancelled."
        )
    if version.stage != change_request.from_stage:
        raise WorkflowError(
            f"Version {version.name} is now in {_label(version.stage)}, not {_label(change_request.from_stage)} as "
            "when this request was made; cancel it and request again."
        )
    Review.objects.create(
        change_request=change_request,
        reviewer=actor,
        decision=Decision.APPROVE,
        comment=comment,
        created_at=clock.now(),
    )
    with written_together():  # the approval, the move and the archived versions: their webhook events in one go
        _log_request_event(
            actor,
            Verb.STAGE_CHANGE_APPROVED,
            change_request,
            version,
            comment,
            extra={"archive_others": change_request.archive_others} if overrides else None,
        )
        if approvals + 1 >= change_request.required_approvals:
            others = [v for pk, v in locked.items() if pk != version.pk and v.stage == change_request.to_stage]
            _apply(actor=actor, change_request=change_request, version=version, others=others)
            _notify_requester(change_request, version, actor, comment)
    return change_request


def _apply(
    *, actor: User, change_request: StageChangeRequest, version: ModelVersion, others: list[ModelVersion]
) -> None:
    model = version.model
    from_stage = apply_stage_change(version=version, to_stage=change_request.to_stage)
    record_activity(
        actor=actor,
        verb=Verb.STAGE_CHANGED,
        model=model,
        version=version,
        from_stage=from_stage,
        to_stage=change_request.to_stage,
        # The request's comment stays on the request's entry: repeated here it would read as the approver's.
        extra={"change_request": change_request.pk, "requested_by": change_request.requester.get_username()},
    )
    for other in others:
        if other.is_locked:
            continue  # a locked version keeps its stage, even when a promotion would archive it
        left = apply_stage_change(version=other, to_stage=Stage.ARCHIVED)
        record_activity(
            actor=actor,
            verb=Verb.STAGE_CHANGED,
            model=model,
            version=other,
            from_stage=left,
            to_stage=Stage.ARCHIVED,
            comment=f"Archived because {version.name} moved to {_label(change_request.to_stage)}.",
            extra={"change_request": change_request.pk, "caused_by": change_request.pk},
        )
    _resolve(change_request, Status.APPROVED, actor)


@transaction.atomic
@followups.together()
def reject_change_request(*, actor: User, change_request: StageChangeRequest, comment: str = "") -> StageChangeRequest:
    """Record actor's rejection, which ends the request. Raises PermissionDenied, WorkflowError."""
    change_request, version, comment, _ = _lock_for_review(actor, change_request, comment)
    Review.objects.create(
        change_request=change_request,
        reviewer=actor,
        decision=Decision.REJECT,
        comment=comment,
        created_at=clock.now(),
    )
    _resolve(change_request, Status.REJECTED, actor)
    _log_request_event(actor, Verb.STAGE_CHANGE_REJECTED, change_request, version, comment)
    _notify_requester(change_request, version, actor, comment)
    return change_request


@transaction.atomic
@followups.together()
def cancel_change_request(*, actor: User, change_request: StageChangeRequest, comment: str = "") -> StageChangeRequest:
    """Withdraw a pending request (its requester, or an Owner). Raises PermissionDenied, WorkflowError."""
    comment = _check_comment(comment)
    change_request = (  # resolved_by not joined, as in _lock_for_review
        StageChangeRequest.objects.select_for_update(of=("self",))
        .select_related("version__model")
        .get(pk=change_request.pk)
    )
    version = change_request.version
    permissions.may_cancel(actor, change_request).enforce(WorkflowError)
    _resolve(change_request, Status.CANCELLED, actor)
    _log_request_event(actor, Verb.STAGE_CHANGE_CANCELLED, change_request, version, comment)
    return change_request


@transaction.atomic
def set_lock_level(*, actor: User, version: ModelVersion, lock_level: str, comment: str = "") -> ModelVersion:
    """Change a version's lock level (Editors raise, Owners lower). Raises PermissionDenied, WorkflowError."""
    access = Access(actor)
    permissions.may_set_lock_level(access, version).check_role()  # before reading the input
    if lock_level not in LockLevel.values:
        raise WorkflowError("Choose one of the lock levels.")
    comment = _check_comment(comment)
    version = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
    current = version.lock_level
    permissions.may_set_lock_level(access, version, lock_level).enforce(WorkflowError)
    version.lock_level, version.updated_at = lock_level, clock.now()
    version.save(update_fields=["lock_level", "updated_at"])
    record_activity(
        actor=actor,
        verb=Verb.LOCK_CHANGED,
        model=version.model,
        version=version,
        comment=comment,
        extra={"from": str(LockLevel(current).label), "to": str(LockLevel(lock_level).label)},
    )
    return version


@transaction.atomic
def set_approval_policy(*, actor: User, model: RegisteredModel, required_approvals: int) -> RegisteredModel:
    """Set the approvals a new request needs (pending ones keep theirs). Raises PermissionDenied, WorkflowError."""
    permissions.may_set_approval_policy(actor, model).enforce(WorkflowError)
    if not MIN_APPROVALS <= required_approvals <= MAX_APPROVALS:
        raise WorkflowError(f"A stage change needs between {MIN_APPROVALS} and {MAX_APPROVALS} approvals.")
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    if model.required_approvals == required_approvals:
        raise WorkflowError(f"Stage changes already need {required_approvals} approval(s).")
    previous = model.required_approvals
    model.required_approvals, model.updated_at = required_approvals, clock.now()
    model.save(update_fields=["required_approvals", "updated_at"])
    record_activity(
        actor=actor,
        verb=Verb.POLICY_CHANGED,
        model=model,
        extra={"from": previous, "to": required_approvals},
    )
    return model
