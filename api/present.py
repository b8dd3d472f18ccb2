"""Domain objects as the API's JSON (see schemas.py), with what the caller may see and do."""

from __future__ import annotations

from typing import Any

from activity.models import ActivityEntry
from approvals.models import StageChangeRequest
from approvals.panels import review_actions
from catalog.models import STAGE_ORDER, ModelVersion, RegisteredModel, stage_count_field
from catalog.permissions import Access, may_see_artifacts


def label_names(obj: RegisteredModel | ModelVersion) -> list[str]:
    return sorted(label.name for label in obj.labels.all())


def model_out(model: RegisteredModel, *, base: str) -> dict[str, Any]:
    return {
        "name": model.name,
        "slug": model.slug,
        "description": model.description,
        "labels": label_names(model),
        "attributes": model.attributes,
        "owner": model.owner.get_username(),
        "task_type": model.task_type,
        "data_type": model.data_type,
        "visibility": model.visibility,
        "required_approvals": model.required_approvals,
        "stage_counts": {stage.value: getattr(model, stage_count_field(stage)) for stage in STAGE_ORDER},
        "version_count": model.version_count,
        "created_at": model.created_at,
        "updated_at": model.updated_at,
        "url": base + model.get_absolute_url(),
    }


def version_out(version: ModelVersion, *, access: Access, base: str) -> dict[str, Any]:
    visible = bool(may_see_artifacts(access, version))
    return {
        "model": version.model.slug,
        "model_name": version.model.name,
        "name": version.name,
        "number": version.number,
        "aliases": sorted(alias.name for alias in version.aliases.all()),
        "run_id": version.run_id,
        "description": version.description,
        "labels": label_names(version),
        "attributes": version.attributes,
        "artifact_uri": version.artifact_uri if visible else None,
        "source_run_url": version.source_run_url if visible else None,
        "redacted": not visible,
        "stage": version.stage,
        "lock_level": version.lock_level,
        "created_by": version.created_by.get_username(),
        "created_at": version.created_at,
        "updated_at": version.updated_at,
        "stage_changed_at": version.stage_changed_at,
        "pending_request": getattr(version, "pending_request_id", None),
        "url": base + version.get_absolute_url(),
    }


def change_request_out(change_request: StageChangeRequest, *, access: Access, base: str) -> dict[str, Any]:
    """A request annotated by approvals.selectors.with_review_details."""
    version = change_request.version
    allowed = review_actions(access, change_request)
    actions = (["approve", "reject"] if allowed["can_review"] else []) + (["cancel"] if allowed["can_cancel"] else [])
    return {
        "id": change_request.pk,
        "model": version.model.slug,
        "version": version.name,
        "from_stage": change_request.from_stage,
        "to_stage": change_request.to_stage,
        "comment": change_request.comment,
        "requester": change_request.requester.get_username(),
        "created_at": change_request.created_at,
        "status": change_request.status,
        "required_approvals": change_request.required_approvals,
        "approvals": getattr(change_request, "approvals", 0),
        "archive_others": change_request.archive_others,
        "skips_stages": change_request.skips_stages,
        "reviews": [
            {
                "reviewer": review.reviewer.get_username(),
                "decision": review.decision,
                "comment": review.comment,
                "created_at": review.created_at,
            }
            for review in change_request.reviews.all()
        ],
        "resolved_by": change_request.resolved_by.get_username() if change_request.resolved_by else None,
        "resolved_at": change_request.resolved_at,
        "actions": actions,
        "url": base + version.get_absolute_url(),
    }


def entry_out(entry: ActivityEntry) -> dict[str, Any]:
    """An entry with the names it keeps from its time, read with its model (activity.selectors' display form)."""
    return {
        "id": entry.pk,
        "time": entry.created_at,
        "actor": entry.actor_username,
        "event": entry.verb,
        "model": entry.model.slug if entry.model else None,
        "version": entry.version_name if entry.version_id is not None else None,
        "from_stage": entry.from_stage,
        "to_stage": entry.to_stage,
        "comment": entry.comment,
        "details": entry.extra,
    }
