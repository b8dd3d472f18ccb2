"""Databricks' governance extensions of the MLflow API (transition-requests/…, comments/…), over our requests,
reviews and comments: our N-approver policy and "not your own request" hold, and each answer lists the actions
the caller may take (available_actions)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest

from activity.models import ActivityEntry
from activity.services import comment_on_version
from approvals import services as workflow
from approvals.models import StageChangeRequest, Status
from approvals.panels import review_actions
from approvals.selectors import with_review_details
from catalog.models import ModelVersion, Stage
from catalog.permissions import Access
from mlflow_compat.http import Params, endpoint, flag, required, text
from mlflow_compat.translate import TO_MLFLOW_STAGE, MlflowError, millis, stage_from_mlflow
from mlflow_compat.views import _version_json, get_version


def _stage(value: str) -> str:
    return TO_MLFLOW_STAGE[Stage(value)]


def _actions(access: Access, change_request: StageChangeRequest) -> list[str]:
    allowed = review_actions(access, change_request)
    approve = ["APPROVE_TRANSITION_REQUEST", "REJECT_TRANSITION_REQUEST"] if allowed["can_review"] else []
    return approve + (["CANCEL_TRANSITION_REQUEST"] if allowed["can_cancel"] else [])


def _request_activity(access: Access, change_request: StageChangeRequest) -> dict[str, Any]:
    """A pending request as Databricks' Activity (REQUESTED_TRANSITION), with what the caller may do with it."""
    approvals = getattr(change_request, "approvals", 0)
    return {
        "id": str(change_request.pk),
        "activity_type": "REQUESTED_TRANSITION",
        "comment": change_request.comment,
        "creation_timestamp": millis(change_request.created_at),
        "last_updated_timestamp": millis(change_request.created_at),
        "from_stage": _stage(change_request.from_stage),
        "to_stage": _stage(change_request.to_stage),
        "user_id": change_request.requester.get_username(),
        "system_comment": f"{approvals} of {change_request.required_approvals} approvals",
        "available_actions": _actions(access, change_request),
    }


def _pending(version: ModelVersion, user: User, *, stage: str, creator: str | None = None) -> StageChangeRequest:
    """The version's pending request to stage (by creator, when given); RESOURCE_DOES_NOT_EXIST otherwise."""
    to_stage = stage_from_mlflow(stage)
    pending = StageChangeRequest.objects.filter(version=version, status=Status.PENDING, to_stage=to_stage)
    if creator is not None:
        pending = pending.filter(requester__username=creator)
    found = with_review_details(pending, user=user).first()
    if found is None:
        who = f" by {creator}" if creator is not None else ""
        raise MlflowError(
            "RESOURCE_DOES_NOT_EXIST",
            f"No open transition request{who} to {_stage(to_stage)} "
            f"on version {version.number} of {version.model.name}.",
        )
    return found


def _decision_activity(entry: ActivityEntry, kind: str, change_request: StageChangeRequest) -> dict[str, Any]:
    """A review or cancellation as Databricks' Activity; system_comment says whether the stage changed."""
    change_request.refresh_from_db(fields=["status"])
    applied = change_request.status == Status.APPROVED
    note = (
        f"Applied: {_stage(change_request.from_stage)} → {_stage(change_request.to_stage)}."
        if applied
        else ("Recorded; the request waits for more approvals." if kind == "APPROVED_REQUEST" else "")
    )
    return {
        "id": str(entry.pk),
        "activity_type": kind,
        "comment": entry.comment,
        "creation_timestamp": millis(entry.created_at),
        "last_updated_timestamp": millis(entry.created_at),
        "from_stage": _stage(change_request.from_stage),
        "to_stage": _stage(change_request.to_stage),
        "user_id": entry.actor_username,
        "system_comment": note,
    }


def _last_entry(change_request: StageChangeRequest, verb: str) -> ActivityEntry:
    entry = (
        ActivityEntry.objects.filter(
            version=change_request.version_id, verb=verb, extra__change_request=change_request.pk
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    assert entry is not None  # the service wrote it in the same transaction
    return entry


@endpoint("POST")
def create_transition_request(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    name, number, stage = required(params, "name", "version", "stage")
    version = get_version(access, str(name), number)
    change_request = workflow.request_stage_change(
        actor=user, version=version, to_stage=stage_from_mlflow(str(stage)), comment=text(params, "comment")
    )
    detailed = with_review_details(StageChangeRequest.objects.filter(pk=change_request.pk), user=user).get()
    return {
        "request": {
            "available_actions": _actions(access, detailed),
            "comment": detailed.comment,
            "creation_timestamp": millis(detailed.created_at),
            "to_stage": _stage(detailed.to_stage),
            "user_id": user.get_username(),
        }
    }


@endpoint("GET")
def list_transition_requests(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    name, number = required(params, "name", "version")
    version = get_version(access, str(name), number)
    pending = with_review_details(
        StageChangeRequest.objects.filter(version=version, status=Status.PENDING), user=user
    ).order_by("created_at", "id")
    return {"requests": [_request_activity(access, change_request) for change_request in pending]}


@endpoint("POST")
def approve_transition_request(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    name, number, stage = required(params, "name", "version", "stage")
    change_request = _pending(get_version(access, str(name), number), user, stage=str(stage))
    archive = flag(params, "archive_existing_versions") if "archive_existing_versions" in params else None
    workflow.approve_change_request(
        actor=user, change_request=change_request, comment=text(params, "comment"), archive_others=archive
    )
    entry = _last_entry(change_request, "stage_change_approved")
    return {"activity": _decision_activity(entry, "APPROVED_REQUEST", change_request)}


@endpoint("POST")
def reject_transition_request(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    name, number, stage = required(params, "name", "version", "stage")
    change_request = _pending(get_version(access, str(name), number), user, stage=str(stage))
    workflow.reject_change_request(actor=user, change_request=change_request, comment=text(params, "comment"))
    entry = _last_entry(change_request, "stage_change_rejected")
    return {"activity": _decision_activity(entry, "REJECTED_REQUEST", change_request)}


@endpoint("DELETE")
def delete_transition_request(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    name, number, stage, creator = required(params, "name", "version", "stage", "creator")
    version = get_version(access, str(name), number)
    change_request = _pending(version, user, stage=str(stage), creator=str(creator))
    workflow.cancel_change_request(actor=user, change_request=change_request, comment=text(params, "comment"))
    entry = _last_entry(change_request, "stage_change_cancelled")
    return {"activity": _decision_activity(entry, "CANCELLED_REQUEST", change_request)}


def _comment_json(entry: ActivityEntry) -> dict[str, Any]:
    return {
        "id": str(entry.pk),
        "comment": entry.comment,
        "creation_timestamp": millis(entry.created_at),
        "last_updated_timestamp": millis(entry.created_at),
        "user_id": entry.actor_username,
        # The activity log is append-only: a comment is never edited or deleted, so neither is offered.
        "available_actions": [],
    }


@endpoint("POST")
def create_comment(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    name, number, comment = required(params, "name", "version", "comment")
    entry = comment_on_version(actor=user, version=get_version(access, str(name), number), comment=str(comment))
    return {"comment": _comment_json(entry)}


@endpoint("PATCH", "DELETE")
def change_comment(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    required(params, "id")
    raise MlflowError(
        "PERMISSION_DENIED",
        "Comments are part of Model Catalog's append-only activity log: they cannot be edited or deleted. "
        "Add a new comment instead.",
    )


@endpoint("GET")
def get_databricks_model_version(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    name, number = required(params, "name", "version")
    version = get_version(access, str(name), number)
    pending = with_review_details(StageChangeRequest.objects.filter(version=version, status=Status.PENDING), user=user)
    return {
        "model_version_databricks": _version_json(access, version)
        | {"open_requests": [_request_activity(access, change_request) for change_request in pending]}
    }
