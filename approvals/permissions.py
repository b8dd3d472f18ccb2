"""Who may request, review and cancel stage changes, set lock levels and the approval policy, and if not, why.

Each function returns a catalog.permissions.Verdict; see that module for how views and services use one.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Q

from approvals.models import StageChangeRequest, Status
from catalog.models import LOCK_ORDER, LockLevel, ModelVersion, RegisteredModel, Stage
from catalog.permissions import (
    ALLOWED,
    EDIT,
    MANAGE,
    REQUEST,
    REVIEW,
    Verdict,
    Who,
    access_of,
    blocked,
    holders_filter,
    refused,
)


def _stage(value: str) -> str:
    return str(Stage(value).label)


def _decided(change_request: StageChangeRequest) -> Verdict:
    """Refused: the request is no longer pending (and who decided it, when known)."""
    by = f" by {change_request.resolved_by.get_username()}" if change_request.resolved_by else ""
    return blocked(f"This request was already {change_request.get_status_display().lower()}{by}.")


def may_request_stage_change(who: Who, version: ModelVersion, *, pending: StageChangeRequest | None) -> Verdict:
    """Editors and Owners may ask to move a version that is not locked and has no pending request (`pending`)."""
    if not access_of(who).holds(version.model, REQUEST):
        return refused("Only editors and owners of this model can request stage changes.")
    if version.is_locked:
        return blocked(
            f"Version {version.name} is locked ({version.get_lock_level_display()}); its stage cannot change."
        )
    if pending is not None:
        return blocked(
            f"Version {version.name} already has a pending request ({_stage(pending.from_stage)} → "
            f"{_stage(pending.to_stage)}, by {pending.requester.get_username()}). "
            "It must be approved, rejected or cancelled first."
        )
    return ALLOWED


def may_review(who: Who, change_request: StageChangeRequest, *, already_reviewed: bool) -> Verdict:
    """Reviewers and Owners may approve or reject a pending request once, unless they made it."""
    access = access_of(who)
    if access.is_active and access.user.pk == change_request.requester_id:
        return refused("You made this request, so someone else has to review it.")
    if not access.holds(change_request.version.model, REVIEW):
        return refused("Only reviewers and owners of this model can approve or reject stage changes.")
    if change_request.status != Status.PENDING:
        return _decided(change_request)
    if already_reviewed:
        return blocked("You have already reviewed this request.")
    return ALLOWED


def eligible_reviewers_filter(model: RegisteredModel, *, requester: User | None) -> Q:
    """A filter on User matching who may review a request by requester on model: may_review's rule (Reviewers and
    Owners, never the requester), for the people who hold the role (superusers may too, but are not listed)."""
    holders = holders_filter(model, REVIEW)
    return holders & ~Q(pk=requester.pk) if requester is not None else holders


def may_try_review(who: Who, change_request: StageChangeRequest) -> Verdict:
    """may_review, before the service checks under its lock whether this reviewer already reviewed the request."""
    return may_review(who, change_request, already_reviewed=False)


def may_cancel(who: Who, change_request: StageChangeRequest) -> Verdict:
    """The requester, or an Owner of the model, may withdraw a pending request."""
    access = access_of(who)
    is_requester = access.is_active and access.user.pk == change_request.requester_id
    if not (is_requester or access.holds(change_request.version.model, MANAGE)):
        return refused("Only the requester or an owner of this model can cancel this request.")
    if change_request.status != Status.PENDING:
        return _decided(change_request)
    return ALLOWED


def lowers_lock(*, current: str, new: str) -> bool:
    """Whether moving from lock level current to new loosens the lock."""
    return LOCK_ORDER.index(LockLevel(new)) < LOCK_ORDER.index(LockLevel(current))


def may_set_lock_level(who: Who, version: ModelVersion, lock_level: str | None = None) -> Verdict:
    """Editors may raise a version's lock level (Open → Closed → Redact), only Owners may lower it.

    Without lock_level: whether the user may change the version's lock level at all (checked before reading input).
    """
    access = access_of(who)
    model = version.model
    if not access.holds(model, EDIT):
        return refused("Only editors and owners of this model can lock its versions.")
    if lock_level is None or lock_level not in LockLevel.values:
        return ALLOWED
    if lowers_lock(current=version.lock_level, new=lock_level) and not access.holds(model, MANAGE):
        return refused("Only owners of this model can lower a lock level.")
    if lock_level == version.lock_level:
        return blocked(f"Version {version.name} is already {version.get_lock_level_display()}.")
    return ALLOWED


def may_set_approval_policy(who: Who, model: RegisteredModel) -> Verdict:
    """Only Owners may change how many approvals a stage change needs."""
    if access_of(who).holds(model, MANAGE):
        return ALLOWED
    return refused("Only owners of this model can change its approval policy.")
