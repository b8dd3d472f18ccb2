"""Databricks' transition requests and comments, through Databricks' own SDK and over HTTP: our N-approver policy
and "not your own request" rules hold, and answers list what the caller may do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import PermissionDenied as DatabricksPermissionDenied

from activity.models import ActivityEntry, Verb
from approvals.models import StageChangeRequest, Status
from approvals.services import set_approval_policy
from catalog.models import ModelVersion, RegisteredModel, Stage
from catalog.services import register_version

Workspace = Callable[[Any], WorkspaceClient]


@pytest.fixture
def workspace_as(server: str, token_for: Callable[..., str], monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """Databricks' WorkspaceClient acting as user, with a token of theirs, at the live server."""
    for name in ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_CONFIG_PROFILE", "DATABRICKS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", "/nonexistent/databrickscfg")

    def make(user: Any) -> WorkspaceClient:
        return WorkspaceClient(host=server, token=token_for(user, name="databricks sdk"), auth_type="pat")

    return make


@pytest.fixture
def mlflow_version(model: RegisteredModel, owner: Any) -> ModelVersion:
    return register_version(actor=owner, model=model, name=None, artifact_uri="s3://m/1")


def test_a_transition_request_approved_through_the_sdk(
    workspace_as: Workspace, mlflow_version: ModelVersion, editor: Any, reviewer: Any
) -> None:
    made = workspace_as(editor).model_registry.create_transition_request(
        name="Churn Predictor", version="1", stage="Staging", comment="Ready for the soak."
    )
    assert made.request is not None
    assert (made.request.to_stage, made.request.user_id, made.request.comment) == (
        "Staging",
        "editor",
        "Ready for the soak.",
    )
    assert [str(action.value) for action in made.request.available_actions or []] == ["CANCEL_TRANSITION_REQUEST"]

    reviewing = workspace_as(reviewer).model_registry
    listed = reviewing.list_transition_requests(name="Churn Predictor", version="1")
    [open_request] = list(listed)
    assert (open_request.to_stage, open_request.user_id, open_request.comment) == (
        "Staging",
        "editor",
        "Ready for the soak.",
    )
    approved = reviewing.approve_transition_request(
        name="Churn Predictor", version="1", stage="Staging", archive_existing_versions=False, comment="Soak passed."
    )
    assert approved.activity is not None
    assert (
        str(approved.activity.activity_type and approved.activity.activity_type.value),
        approved.activity.user_id,
    ) == ("APPROVED_REQUEST", "reviewer")
    assert ModelVersion.objects.get(pk=mlflow_version.pk).stage == Stage.STAGING
    assert list(reviewing.list_transition_requests(name="Churn Predictor", version="1")) == []


def test_the_n_approver_policy_and_own_requests_hold(
    workspace_as: Workspace,
    model: RegisteredModel,
    mlflow_version: ModelVersion,
    owner: Any,
    editor: Any,
    reviewer: Any,
) -> None:
    set_approval_policy(actor=owner, model=model, required_approvals=2)
    workspace_as(editor).model_registry.create_transition_request(
        name="Churn Predictor", version="1", stage="Production"
    )

    with pytest.raises(DatabricksPermissionDenied, match=r"You made this request, so someone else has to review it\."):
        workspace_as(editor).model_registry.approve_transition_request(
            name="Churn Predictor", version="1", stage="Production", archive_existing_versions=True
        )
    first = workspace_as(reviewer).model_registry.approve_transition_request(
        name="Churn Predictor", version="1", stage="Production", archive_existing_versions=True
    )
    assert first.activity is not None
    assert first.activity.system_comment == "Recorded; the request waits for more approvals."
    assert ModelVersion.objects.get(pk=mlflow_version.pk).stage == Stage.UNASSIGNED
    second = workspace_as(owner).model_registry.approve_transition_request(
        name="Churn Predictor", version="1", stage="Production", archive_existing_versions=True
    )
    assert second.activity is not None
    assert second.activity.system_comment == "Applied: None → Production."
    assert ModelVersion.objects.get(pk=mlflow_version.pk).stage == Stage.PRODUCTION
    assert StageChangeRequest.objects.get().archive_others is True


def test_reject_and_cancel_by_creator(
    workspace_as: Workspace, mlflow_version: ModelVersion, editor: Any, reviewer: Any
) -> None:
    registry = workspace_as(editor).model_registry
    registry.create_transition_request(name="Churn Predictor", version="1", stage="Staging")
    rejected = workspace_as(reviewer).model_registry.reject_transition_request(
        name="Churn Predictor", version="1", stage="Staging", comment="Not yet."
    )
    assert rejected.activity is not None
    assert str(rejected.activity.activity_type and rejected.activity.activity_type.value) == "REJECTED_REQUEST"

    registry = workspace_as(editor).model_registry
    registry.create_transition_request(name="Churn Predictor", version="1", stage="Staging")
    cancelled = registry.delete_transition_request(
        name="Churn Predictor", version="1", stage="Staging", creator="editor"
    )
    assert cancelled.activity is not None
    assert str(cancelled.activity.activity_type and cancelled.activity.activity_type.value) == "CANCELLED_REQUEST"
    statuses = list(StageChangeRequest.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == [Status.REJECTED, Status.CANCELLED]


def test_comments(workspace_as: Workspace, mlflow_version: ModelVersion, reviewer: Any, viewer: Any) -> None:
    made = workspace_as(reviewer).model_registry.create_comment(name="Churn Predictor", version="1", comment="AUC ok.")
    assert made.comment is not None
    assert (made.comment.comment, made.comment.user_id, made.comment.available_actions or []) == (
        "AUC ok.",
        "reviewer",
        [],
    )
    entry = ActivityEntry.objects.get(verb=Verb.COMMENTED)
    assert (entry.comment, entry.version) == ("AUC ok.", mlflow_version)
    with pytest.raises(DatabricksPermissionDenied, match="append-only"):
        workspace_as(reviewer).model_registry.update_comment(id=made.comment.id or "", comment="Edited.")
    with pytest.raises(DatabricksPermissionDenied, match="Only editors, reviewers and owners"):
        workspace_as(viewer).model_registry.create_comment(name="Churn Predictor", version="1", comment="Me too.")


def test_the_databricks_model_version_lists_open_requests(
    server: str,
    token_for: Callable[..., str],
    mlflow_version: ModelVersion,
    editor: Any,
    reviewer: Any,
    workspace_as: Workspace,
) -> None:
    workspace_as(editor).model_registry.create_transition_request(name="Churn Predictor", version="1", stage="Staging")
    answer = requests.get(
        f"{server}/api/2.0/mlflow/databricks/model-versions/get",
        params={"name": "Churn Predictor", "version": "1"},
        headers={"Authorization": f"Bearer {token_for(reviewer)}"},
        timeout=10,
    ).json()["model_version_databricks"]
    assert (answer["version"], answer["current_stage"]) == ("1", "None")
    assert [r["to_stage"] for r in answer["open_requests"]] == ["Staging"]
    assert answer["open_requests"][0]["available_actions"] == [
        "APPROVE_TRANSITION_REQUEST",
        "REJECT_TRANSITION_REQUEST",
    ]
