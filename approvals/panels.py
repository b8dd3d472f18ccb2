"""View context of the workflow panels on the version page, shared by the version page and the workflow views."""

from __future__ import annotations

from types import EllipsisType
from typing import Any

from approvals import permissions, selectors
from approvals.forms import ChangeRequestForm, LockForm, ReviewForm
from approvals.models import StageChangeRequest
from catalog.models import (
    ARCHIVE_OTHERS_STAGES,
    ARCHIVE_PREVIEW,
    LOCK_ORDER,
    STAGE_ORDER,
    ModelVersion,
    Stage,
    skipped_stages,
)
from catalog.permissions import Access, may_edit_version, may_manage_collaborators


def review_actions(access: Access, change_request: StageChangeRequest) -> dict[str, bool]:
    """What the user may do with a request (annotated by selectors.with_review_details) now."""
    reviewed = getattr(change_request, "reviewed_by_me", False)
    return {
        "can_review": bool(permissions.may_review(access, change_request, already_reviewed=reviewed)),
        "can_cancel": bool(permissions.may_cancel(access, change_request)),
    }


def request_panel(
    access: Access,
    version: ModelVersion,
    *,
    to_stage: str = "",
    form: ChangeRequestForm | None = None,
    error: str = "",
    pending: StageChangeRequest | EllipsisType | None = ...,
) -> dict[str, Any]:
    """Everything the version page's stage box, request panel and lock box show; pending is the version's pending
    request when the caller has read it already (with selectors.with_review_details), else it is read here."""
    if pending is ...:
        pending = selectors.pending_for_version(user=access.user, version_id=version.pk)
    can_request = bool(permissions.may_request_stage_change(access, version, pending=pending))
    context: dict[str, Any] = {
        "version": version,
        "model": version.model,
        "pending": pending,
        "can_request": can_request,
        "can_edit": bool(may_edit_version(access, version)),
        "panel_error": error,
        "stage_choices": [(s.value, s.label) for s in STAGE_ORDER if s != version.stage],
        "review_form": ReviewForm(),
        "lock_choices": _lock_choices(access, version),
        "lock_form": LockForm(initial={"lock_level": version.lock_level}),
    }
    if pending is not None:
        context.update(review_actions(access, pending))
        context |= _approvers(access, version, requester=pending.requester)
    if can_request and to_stage in Stage.values and to_stage != version.stage:
        context["compose"] = _compose(version, to_stage)
        context["request_form"] = form or ChangeRequestForm(initial={"to_stage": to_stage})
        context |= _approvers(access, version, requester=access.user)
    return context


def _approvers(access: Access, version: ModelVersion, *, requester: Any) -> dict[str, Any]:
    """Who may approve a request by requester (so that nobody waits on a request no one can approve), and whether the
    user may add reviewers."""
    return {
        "approvers": selectors.eligible_reviewers(model=version.model, requester=requester),
        "requester_is_me": access.is_active and requester.pk == access.user.pk,
        "can_add_reviewers": bool(may_manage_collaborators(access, version.model)),
    }


def _compose(version: ModelVersion, to_stage: str) -> dict[str, Any]:
    others: list[str] = []
    if to_stage in ARCHIVE_OTHERS_STAGES:
        others = list(
            version.model.versions.filter(stage=to_stage)
            .exclude(pk=version.pk)
            .order_by("name")
            .values_list("name", flat=True)[: ARCHIVE_PREVIEW + 1]
        )
    return {
        "to_stage": to_stage,
        "to_label": Stage(to_stage).label,
        "from_label": Stage(version.stage).label,
        "skipped": [s.label for s in skipped_stages(version.stage, to_stage)],
        "archive_offered": to_stage in ARCHIVE_OTHERS_STAGES,
        "others": others[:ARCHIVE_PREVIEW],
        "others_more": len(others) > ARCHIVE_PREVIEW,  # there are more than the preview names
    }


def _lock_choices(access: Access, version: ModelVersion) -> list[tuple[str, str]]:
    return [
        (level.value, level.label)
        for level in LOCK_ORDER
        if level != version.lock_level and permissions.may_set_lock_level(access, version, level)
    ]
