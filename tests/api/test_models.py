"""Models and versions over the API: lists with filters, find and cursors; get; register; edit; lock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from activity.models import ActivityEntry, Verb
from approvals.services import request_stage_change, set_lock_level
from catalog.models import LockLevel, ModelVersion, RegisteredModel, Stage
from tests.factories import ModelFactory, VersionFactory
from tests.helpers import ApiClient, set_stage

Api = Callable[[Any], ApiClient]


@pytest.fixture
def catalog(model: RegisteredModel, org_model: RegisteredModel, owner: Any, outsider: Any) -> dict[str, Any]:
    """model (private) with v1.0.0 in Production and v1.1.0; org_model with ov1; a stranger's private model."""
    v1 = VersionFactory.create(model=model, name="v1.0.0", labels=["xgboost"], attributes={"auc": "0.94"})
    v2 = VersionFactory.create(model=model, name="v1.1.0", attributes={"auc": "0.81"})
    set_stage(v1, Stage.PRODUCTION)
    ov1 = VersionFactory.create(model=org_model, name="ov1")
    secret = ModelFactory.create(owner=outsider, name="Stranger Secret", visibility="private")
    VersionFactory.create(model=secret, name="s1")
    return {"model": model, "org_model": org_model, "v1": v1, "v2": v2, "ov1": ov1, "secret": secret}


def names(response: Any, key: str = "name") -> list[str]:
    assert response.status_code == 200, response.content
    return [item[key] for item in response.json()["items"]]


def test_models_list_what_the_user_may_see_newest_first(catalog: dict[str, Any], api_as: Api, owner: Any) -> None:
    assert names(api_as(owner).get("/models")) == ["Open Model", "Churn Predictor"]
    body = api_as(owner).get("/models/churn-predictor").json()
    assert body["stage_counts"] == {"unassigned": 1, "development": 0, "staging": 0, "production": 1, "archived": 0}
    assert (body["version_count"], body["owner"], body["url"]) == (
        2,
        "owner",
        "http://testserver/models/churn-predictor/",
    )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"stage": "production"}, ["Churn Predictor"]),
        ({"q": "open"}, ["Open Model"]),
        ({"owner": "owner"}, ["Open Model", "Churn Predictor"]),
        ({"find": "visibility == private"}, ["Churn Predictor"]),
        ({"find": 'name ~= "churn"', "stage": "production"}, ["Churn Predictor"]),
        ({"find": "owner != owner"}, []),
    ],
)
def test_models_filter_like_the_catalog_plus_find(
    catalog: dict[str, Any], api_as: Api, owner: Any, params: dict[str, str], expected: list[str]
) -> None:
    assert names(api_as(owner).get("/models", **params)) == expected


def test_versions_across_models_with_find(catalog: dict[str, Any], api_as: Api, owner: Any, outsider: Any) -> None:
    everything = api_as(owner).get("/versions")
    assert names(everything) == ["ov1", "v1.1.0", "v1.0.0"]
    assert names(api_as(owner).get("/versions", find="stage == production")) == ["v1.0.0"]
    assert names(api_as(owner).get("/versions", find="attributes.auc > 0.9")) == ["v1.0.0"]
    assert names(api_as(owner).get("/versions", find="labels == xgboost and stage == Production")) == ["v1.0.0"]
    assert names(api_as(outsider).get("/versions")) == ["s1", "ov1"]  # their own private model and the open one


def test_a_bad_find_is_a_400_saying_what_and_where(catalog: dict[str, Any], api_as: Api, owner: Any) -> None:
    response = api_as(owner).get("/versions", find="stagee == x")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_find"
    assert response.json()["error"]["field"] == "find"
    assert response.json()["error"]["message"].startswith("unknown key `stagee` at character 1; keys are: ")


def test_lists_page_by_cursor_without_gaps_or_repeats(model: RegisteredModel, owner: Any, api_as: Api) -> None:
    for n in range(7):
        VersionFactory.create(model=model, name=f"v{n}")
    client = api_as(owner)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        body = client.get("/models/churn-predictor/versions", **params).json()
        seen += [item["name"] for item in body["items"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == [f"v{n}" for n in reversed(range(7))]


@pytest.mark.parametrize(("params", "field"), [({"cursor": "nonsense"}, "cursor"), ({"limit": 0}, "limit")])
def test_a_bad_cursor_or_limit_is_a_400(
    catalog: dict[str, Any], api_as: Api, owner: Any, params: Any, field: str
) -> None:
    response = api_as(owner).get("/versions", **params)

    assert response.status_code == 400
    assert response.json()["error"]["field"] == field


@pytest.mark.parametrize("persona", ["outsider", "viewer"])
def test_what_a_user_cannot_see_is_404(
    catalog: dict[str, Any], api_as: Api, request: pytest.FixtureRequest, persona: str
) -> None:
    client = api_as(request.getfixturevalue(persona))
    hidden = "/models/stranger-secret" if persona == "viewer" else "/models/churn-predictor"
    for path in (hidden, f"{hidden}/versions", f"{hidden}/versions/v1.0.0", f"{hidden}/collaborators"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


def test_registering_a_model_makes_the_caller_its_owner_and_logs_it(outsider: Any, api_as: Api) -> None:
    body = {"name": "Fraud Detector", "labels": ["fraud"], "attributes": {"team": "risk", "tier": 1}}
    response = api_as(outsider).post("/models", body | {"visibility": "private"})

    assert response.status_code == 201
    assert response.json()["slug"] == "fraud-detector"
    assert response.json()["attributes"] == {"team": "risk", "tier": 1}
    model = RegisteredModel.objects.get(slug="fraud-detector")
    assert (model.owner, model.visibility) == (outsider, "private")
    entry = ActivityEntry.objects.get(model=model)
    assert (entry.verb, entry.actor, entry.extra) == (Verb.MODEL_REGISTERED, outsider, {"name": "Fraud Detector"})


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"name": "CHURN PREDICTOR"}, 400, "A model named “CHURN PREDICTOR” already exists. Choose another name."),
        ({"name": "x", "labels": ["Not OK"]}, 400, "Name: Use lowercase letters, digits, '.', '_' or '-'."),
        ({"name": "x", "labels": [f"l{n}" for n in range(21)]}, 400, "At most 20 labels."),
        ({"name": "x", "task_type": "astrology"}, 400, "task_type: Input should be"),
        ({"name": ""}, 400, "name: String should have at least 1 character"),
        ({"name": "x", "attributes": {"a": {"b": 1}}}, 400, "attributes.a"),
    ],
)
def test_a_refused_registration_says_why_and_changes_nothing(
    model: RegisteredModel, owner: Any, api_as: Api, body: dict[str, Any], status: int, message: str
) -> None:
    client = api_as(owner)
    before = ActivityEntry.objects.count()
    response = client.post("/models", body)

    assert response.status_code == status
    assert message in response.json()["error"]["message"]
    assert RegisteredModel.objects.count() == 1
    assert ActivityEntry.objects.count() == before


def test_editing_a_model_changes_only_what_is_sent(model: RegisteredModel, owner: Any, api_as: Api) -> None:
    response = api_as(owner).patch("/models/churn-predictor", {"description": "New.", "attributes": {"tier": 2}})

    assert response.status_code == 200
    assert (response.json()["description"], response.json()["attributes"]) == ("New.", {"tier": 2})
    assert response.json()["visibility"] == "private"
    entry = ActivityEntry.objects.filter(verb=Verb.MODEL_EDITED).get()
    assert (entry.actor, entry.extra) == (owner, {"fields": ["description", "attributes"]})


@pytest.mark.parametrize(
    ("persona", "body", "message"),
    [
        ("viewer", {"description": "x"}, "Only editors and owners of this model can edit it."),
        ("reviewer", {"labels": []}, "Only editors and owners of this model can edit it."),
        ("editor", {"visibility": "organization"}, "Only owners of this model can change who may see it."),
    ],
)
def test_an_edit_the_role_does_not_allow_is_a_403_with_the_pages_reason(
    model: RegisteredModel, api_as: Api, request: pytest.FixtureRequest, persona: str, body: Any, message: str
) -> None:
    response = api_as(request.getfixturevalue(persona)).patch("/models/churn-predictor", body)

    assert response.status_code == 403
    assert response.json()["error"] == {"code": "permission_denied", "message": message, "field": None}
    assert RegisteredModel.objects.get(pk=model.pk).visibility == "private"
    assert not ActivityEntry.objects.filter(verb=Verb.MODEL_EDITED).exists()


def test_registering_and_editing_a_version(model: RegisteredModel, editor: Any, api_as: Api) -> None:
    client = api_as(editor)
    body = {"name": "v2.0.0", "labels": ["gpu"], "attributes": {"auc": 0.91}, "artifact_uri": "s3://m/v2"}
    created = client.post("/models/churn-predictor/versions", body | {"source_run_url": "https://runs.example.com/42"})
    assert created.status_code == 201
    assert (created.json()["stage"], created.json()["created_by"], created.json()["attributes"]) == (
        "unassigned",
        "editor",
        {"auc": 0.91},
    )
    edited = client.patch("/models/churn-predictor/versions/v2.0.0", {"description": "Retrained.", "labels": []})
    assert edited.status_code == 200
    assert (edited.json()["description"], edited.json()["labels"], edited.json()["artifact_uri"]) == (
        "Retrained.",
        [],
        "s3://m/v2",
    )
    assert list(ActivityEntry.objects.filter(version__name="v2.0.0").values_list("verb", flat=True)) == [
        Verb.VERSION_EDITED,
        Verb.VERSION_REGISTERED,
    ]


def test_a_locked_version_refuses_edits_with_the_services_message(
    model: RegisteredModel, version: ModelVersion, owner: Any, editor: Any, api_as: Api
) -> None:
    set_lock_level(actor=owner, version=version, lock_level=LockLevel.CLOSED)
    response = api_as(editor).patch("/models/churn-predictor/versions/v1.0.0", {"description": "x"})

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Version v1.0.0 is locked (Closed); its metadata cannot change."
    assert ModelVersion.objects.get(pk=version.pk).description == "A version for tests."


def test_redacted_versions_hide_their_artifacts_from_all_but_owners(
    model: RegisteredModel, owner: Any, viewer: Any, api_as: Api
) -> None:
    version = VersionFactory.create(
        model=model, name="v9", artifact_uri="s3://secret", source_run_url="https://runs.example.com/1"
    )
    set_lock_level(actor=owner, version=version, lock_level=LockLevel.REDACT)

    seen = api_as(viewer).get("/models/churn-predictor/versions/v9").json()
    assert (seen["artifact_uri"], seen["source_run_url"], seen["redacted"]) == (None, None, True)
    assert api_as(viewer).get("/versions", find="name == v9").json()["items"][0]["artifact_uri"] is None
    assert api_as(owner).get("/models/churn-predictor/versions/v9").json()["artifact_uri"] == "s3://secret"


@pytest.mark.parametrize(
    ("persona", "level", "status", "message"),
    [
        ("editor", "closed", 200, None),
        ("viewer", "closed", 403, "Only editors and owners of this model can lock its versions."),
        ("reviewer", "redact", 403, "Only editors and owners of this model can lock its versions."),
    ],
)
def test_setting_the_lock_level(
    version: ModelVersion,
    api_as: Api,
    request: pytest.FixtureRequest,
    persona: str,
    level: str,
    status: int,
    message: str | None,
) -> None:
    response = api_as(request.getfixturevalue(persona)).put(
        "/models/churn-predictor/versions/v1.0.0/lock", {"lock_level": level, "comment": "Audit."}
    )

    assert response.status_code == status
    if message:
        assert response.json()["error"]["message"] == message
        assert ModelVersion.objects.get(pk=version.pk).lock_level == "open"
    else:
        assert response.json()["lock_level"] == level
        entry = ActivityEntry.objects.get(verb=Verb.LOCK_CHANGED)
        assert (entry.comment, entry.extra) == ("Audit.", {"from": "Open", "to": "Closed"})


def test_only_owners_lower_a_lock(version: ModelVersion, owner: Any, editor: Any, api_as: Api) -> None:
    set_lock_level(actor=owner, version=version, lock_level=LockLevel.CLOSED)
    refused = api_as(editor).put("/models/churn-predictor/versions/v1.0.0/lock", {"lock_level": "open"})
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "Only owners of this model can lower a lock level."
    assert api_as(owner).put("/models/churn-predictor/versions/v1.0.0/lock", {"lock_level": "open"}).status_code == 200


def test_a_version_shows_its_pending_request(version: ModelVersion, editor: Any, api_as: Api) -> None:
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)

    assert api_as(editor).get("/models/churn-predictor/versions/v1.0.0").json()["pending_request"] == change_request.pk
    assert api_as(editor).get("/versions", find="stage == unassigned").json()["items"][0]["pending_request"] == (
        change_request.pk
    )
