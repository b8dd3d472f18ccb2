"""Who may request, review, cancel, lock and set the approval policy."""

from __future__ import annotations

from approvals.models import StageChangeRequest
from catalog import permissions as catalog_permissions
from catalog.models import LOCK_ORDER, LockLevel, RegisteredModel
from catalog.permissions import AnyUser


def can_request(user: AnyUser, model: RegisteredModel) -> bool:
    """Whether user may request stage changes of model's versions (Editors and Owners)."""
    return catalog_permissions.can_request_stage_change(user, model)


def can_review_model(user: AnyUser, model: RegisteredModel) -> bool:
    """Whether user reviews stage changes of model at all (Reviewers and Owners)."""
    return catalog_permissions.can_review_stage_change(user, model)


def can_review(user: AnyUser, change_request: StageChangeRequest, model: RegisteredModel) -> bool:
    """Whether user may approve or reject change_request: a Reviewer or Owner who did not make it."""
    return user.pk != change_request.requester_id and can_review_model(user, model)


def can_cancel(user: AnyUser, change_request: StageChangeRequest, model: RegisteredModel) -> bool:
    """Whether user may cancel change_request: its requester, or an Owner of the model."""
    if not user.is_authenticated:
        return False
    return user.pk == change_request.requester_id or catalog_permissions.can_manage_model(user, model)


def lowers_lock(*, current: str, new: str) -> bool:
    """Whether moving from lock level current to new loosens the lock."""
    return LOCK_ORDER.index(LockLevel(new)) < LOCK_ORDER.index(LockLevel(current))


def can_set_lock_level(user: AnyUser, model: RegisteredModel, *, current: str, new: str) -> bool:
    """Editors may raise a version's lock level (Open → Closed → Redact); only Owners may lower it."""
    if lowers_lock(current=current, new=new):
        return catalog_permissions.can_manage_model(user, model)
    return catalog_permissions.can_edit_model(user, model)


def can_set_policy(user: AnyUser, model: RegisteredModel) -> bool:
    """Whether user may change how many approvals a stage change needs (Owners)."""
    return catalog_permissions.can_manage_model(user, model)
