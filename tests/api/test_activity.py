"""The activity log, timelines, "stages as of", comments, collaborators and the approval policy over the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from activity.models import ActivityEntry, Verb
from approvals.services import approve_change_request, request_stage_change
from catalog.models import ModelVersion, RegisteredModel, RegisteredModelUserObjectPermission, Stage
from tests.helpers import ApiClient

Api = Callable[[Any], ApiClient]
VERSION = "/models/churn-predictor/versions/v1.0.0"


@pytest.fixture
def promoted(version: ModelVersion, editor: Any, reviewer: Any) -> ModelVersion:
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING, comment="Soak it.")
    approve_change_request(actor=reviewer, change_request=change_request, comment="Looks good.")
    return version


def events(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["event"] for item in response.json()["items"]]


def test_the_log_lists_what_the_user_may_see_with_the_pages_filters(
    promoted: ModelVersion, org_model: RegisteredModel, owner: Any, outsider: Any, api_as: Api
) -> None:
    client = api_as(owner)
    assert events(client.get("/activity", kind="stage_changed")) == ["stage_changed"]
    assert events(client.get("/activity", actor="reviewer")) == ["stage_changed", "stage_change_approved"]
    assert events(client.get("/activity", stage="staging", model="churn-predictor")) == [
        "stage_changed",
        "stage_change_approved",
        "stage_change_requested",
    ]
    assert events(client.get("/activity", q="soak")) == ["stage_change_requested"]
    first = client.get("/activity", actor="reviewer").json()["items"][0]
    assert (first["model"], first["version"], first["from_stage"], first["to_stage"]) == (
        "churn-predictor",
        "v1.0.0",
        "unassigned",
        "staging",
    )
    seen_by_outsider = api_as(outsider).get("/activity").json()["items"]
    assert {item["model"] for item in seen_by_outsider} <= {"open-model", None}


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"kind": "astrology"}, "kind", "Select a valid choice."),
        ({"since": "2026-05-02", "until": "2026-05-01"}, None, "The “from” date is after the “to” date."),
        ({"since": "yesterday"}, "since", "Input should be a valid date"),
    ],
)
def test_a_bad_filter_is_a_400(
    promoted: ModelVersion, owner: Any, api_as: Api, params: dict[str, str], field: str | None, message: str
) -> None:
    response = api_as(owner).get("/activity", **params)

    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert message in response.json()["error"]["message"]


def test_a_versions_stage_timeline(promoted: ModelVersion, viewer: Any, api_as: Api) -> None:
    body = api_as(viewer).get(f"{VERSION}/timeline").json()

    assert [period["stage"] for period in body["periods"]] == ["unassigned", "staging"]
    last = body["periods"][-1]
    assert (last["end"], last["moved_by"], last["approvers"], last["requested_by"]) == (
        None,
        "reviewer",
        ["reviewer"],
        "editor",
    )
    assert body["truncated"] is False


def test_stages_as_of_a_moment(promoted: ModelVersion, viewer: Any, api_as: Api) -> None:
    client = api_as(viewer)
    now = client.get("/models/churn-predictor/stages-as-of", at=timezone.now().isoformat()).json()
    assert {row["stage"]: row["versions"] for row in now["stages"]}["staging"] == ["v1.0.0"]
    before = client.get(
        "/models/churn-predictor/stages-as-of", at=(promoted.created_at - timedelta(days=1)).isoformat()
    )
    assert sum(row["count"] for row in before.json()["stages"]) == 0
    future = client.get("/models/churn-predictor/stages-as-of", at=(timezone.now() + timedelta(days=1)).isoformat())
    assert future.status_code == 400
    assert future.json()["error"]["field"] == "at"


def test_comments(version: ModelVersion, reviewer: Any, viewer: Any, api_as: Api) -> None:
    added = api_as(reviewer).post(f"{VERSION}/comments", {"comment": "  AUC dropped in May. "})
    assert added.status_code == 201
    assert (added.json()["event"], added.json()["comment"], added.json()["actor"]) == (
        "commented",
        "AUC dropped in May.",
        "reviewer",
    )
    assert [item["comment"] for item in api_as(viewer).get(f"{VERSION}/comments").json()["items"]] == [
        "AUC dropped in May."
    ]
    refused = api_as(viewer).post(f"{VERSION}/comments", {"comment": "Me too."})
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == (
        "Only editors, reviewers and owners of this model can comment on its versions."
    )
    blank = api_as(reviewer).post(f"{VERSION}/comments", {"comment": "   "})
    assert (blank.status_code, blank.json()["error"]["message"]) == (400, "Write a comment first.")
    assert ActivityEntry.objects.filter(verb=Verb.COMMENTED).count() == 1


# --- Collaborators and policy -------------------------------------------------------------------------------------


def test_owners_manage_collaborators(model: RegisteredModel, owner: Any, outsider: Any, api_as: Api) -> None:
    client = api_as(owner)
    Group.objects.create(name="risk-team")

    assert (
        client.put("/models/churn-predictor/collaborators", {"name": "outsider", "role": "editor"}).status_code == 200
    )
    listed = client.put(
        "/models/churn-predictor/collaborators", {"kind": "group", "name": "risk-team", "role": "viewer"}
    )
    assert {(c["kind"], c["name"], c["role"]) for c in listed.json()} == {
        ("user", "owner", "owner"),
        ("user", "outsider", "editor"),
        ("group", "risk-team", "viewer"),
    }
    removed = client.delete("/models/churn-predictor/collaborators/user/outsider")
    assert "outsider" not in {c["name"] for c in removed.json()}
    assert list(ActivityEntry.objects.filter(model=model).values_list("verb", flat=True))[:3] == [
        Verb.COLLABORATOR_REMOVED,
        Verb.COLLABORATOR_ADDED,
        Verb.COLLABORATOR_ADDED,
    ]


@pytest.mark.parametrize(
    ("call", "status", "message"),
    [
        (("put", {"name": "nobody", "role": "viewer"}), 404, "No active user is called “nobody”."),
        (("put", {"name": "owner", "role": "viewer"}), 400, "owner owns this model and keeps the Owner role."),
        (("delete", "/user/owner"), 400, "owner owns this model and cannot be removed."),
        (("delete", "/user/outsider"), 400, "The user outsider is not a collaborator on this model."),
    ],
)
def test_collaborator_refusals(
    model: RegisteredModel, owner: Any, outsider: Any, api_as: Api, call: tuple[str, Any], status: int, message: str
) -> None:
    client = api_as(owner)
    grants = RegisteredModelUserObjectPermission.objects.count()
    method, arg = call
    response = (
        client.put("/models/churn-predictor/collaborators", arg)
        if method == "put"
        else client.delete(f"/models/churn-predictor/collaborators{arg}")
    )

    assert (response.status_code, response.json()["error"]["message"]) == (status, message)
    assert RegisteredModelUserObjectPermission.objects.count() == grants


def test_an_editor_may_read_but_not_change_collaborators_or_policy(
    model: RegisteredModel, editor: Any, api_as: Api
) -> None:
    client = api_as(editor)
    assert client.get("/models/churn-predictor/collaborators").status_code == 200
    assert client.get("/models/churn-predictor/policy").json() == {"required_approvals": 1}
    refused = client.put("/models/churn-predictor/collaborators", {"name": "editor", "role": "owner"})
    assert (refused.status_code, refused.json()["error"]["message"]) == (
        403,
        "Only owners of this model can manage its collaborators.",
    )
    policy = client.put("/models/churn-predictor/policy", {"required_approvals": 2})
    assert (policy.status_code, policy.json()["error"]["message"]) == (
        403,
        "Only owners of this model can change its approval policy.",
    )


def test_owners_set_the_policy(model: RegisteredModel, owner: Any, api_as: Api) -> None:
    client = api_as(owner)
    assert client.put("/models/churn-predictor/policy", {"required_approvals": 3}).json() == {"required_approvals": 3}
    same = client.put("/models/churn-predictor/policy", {"required_approvals": 3})
    assert (same.status_code, same.json()["error"]["message"]) == (409, "Stage changes already need 3 approval(s).")
    out_of_range = client.put("/models/churn-predictor/policy", {"required_approvals": 6})
    assert (out_of_range.status_code, out_of_range.json()["error"]["field"]) == (400, "required_approvals")
    assert RegisteredModel.objects.get(pk=model.pk).required_approvals == 3


@pytest.mark.parametrize(
    "at", ["0985-03-06T14:44:36.26+16:41", "2026-01-01T00:00:00-23:59", "0001-01-01T00:00:00+01:00"]
)
def test_stages_as_of_any_moment_the_schema_allows(version: ModelVersion, viewer: Any, api_as: Api, at: str) -> None:
    response = api_as(viewer).get("/models/churn-predictor/stages-as-of", at=at)

    assert response.status_code in (200, 400), response.content
