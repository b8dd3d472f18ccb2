"""View context of the workflow panels, shared by the version page and the workflow views."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from approvals import permissions, selectors
from approvals.forms import ChangeRequestForm, LockForm, ReviewForm
from approvals.models import StageChangeRequest
from catalog.models import ARCHIVE_OTHERS_STAGES, LOCK_ORDER, STAGE_ORDER, ModelVersion, Stage, skipped_stages
from catalog.permissions import AnyUser, can_edit_model


def review_actions(user: AnyUser, change_request: StageChangeRequest) -> dict[str, bool]:
    """What user may do with a request (annotated by selectors.with_review_details) now."""
    model = change_request.version.model
    pending = change_request.status == "pending"
    return {
        "can_review": pending
        and not getattr(change_request, "reviewed_by_me", False)
        and permissions.can_review(user, change_request, model),
        "can_cancel": pending and permissions.can_cancel(user, change_request, model),
    }


def request_panel(
    request: HttpRequest,
    version: ModelVersion,
    *,
    to_stage: str = "",
    form: ChangeRequestForm | None = None,
    error: str = "",
) -> dict[str, Any]:
    """Everything the version page's stage box, request panel and lock box show."""
    user, model = request.user, version.model
    pending = selectors.pending_for_version(user=user, version_id=version.pk)
    can_request = permissions.can_request(user, model) and not version.is_locked and pending is None
    context: dict[str, Any] = {
        "version": version,
        "model": model,
        "pending": pending,
        "can_request": can_request,
        "can_edit": can_edit_model(user, model) and not version.is_locked,
        "panel_error": error,
        "stage_choices": [(s.value, s.label) for s in STAGE_ORDER if s != version.stage],
        "review_form": ReviewForm(),
        "lock_choices": _lock_choices(user, version),
        "lock_form": LockForm(initial={"lock_level": version.lock_level}),
    }
    if pending is not None:
        context.update(review_actions(user, pending))
    if can_request and to_stage in Stage.values and to_stage != version.stage:
        context["compose"] = _compose(version, to_stage)
        context["request_form"] = form or ChangeRequestForm(initial={"to_stage": to_stage})
    return context


def _compose(version: ModelVersion, to_stage: str) -> dict[str, Any]:
    others: list[str] = []
    if to_stage in ARCHIVE_OTHERS_STAGES:
        others = list(
            version.model.versions.filter(stage=to_stage)
            .exclude(pk=version.pk)
            .order_by("name")
            .values_list("name", flat=True)[:21]
        )
    return {
        "to_stage": to_stage,
        "to_label": Stage(to_stage).label,
        "from_label": Stage(version.stage).label,
        "skipped": [s.label for s in skipped_stages(version.stage, to_stage)],
        "archive_offered": to_stage in ARCHIVE_OTHERS_STAGES,
        "others": others,
    }


def _lock_choices(user: AnyUser, version: ModelVersion) -> list[tuple[str, str]]:
    if not can_edit_model(user, version.model):
        return []
    return [
        (level.value, level.label)
        for level in LOCK_ORDER
        if level != version.lock_level
        and permissions.can_set_lock_level(user, version.model, current=version.lock_level, new=level)
    ]
