"""The catalog's forms: registering a model, registering and editing versions, editing a model; errors re-render
the form and change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from activity.models import ActivityEntry, Verb
from catalog import permissions
from catalog.models import LockLevel, ModelVersion, RegisteredModel, Stage
from catalog.permissions import Role
from catalog.selectors import collaborators
from tests.factories import GroupFactory, UserFactory, VersionFactory
from tests.helpers import CATALOG_POSTS, assert_full_page, catalog_url, client_for, database_state, stage_badge

# --- Register a model ---------------------------------------------------------------------------------------------


def test_register_model_form_has_labelled_controls(owner: Any) -> None:
    response = client_for(owner).get("/models/new/")
    assert_full_page(response)
    for control in ("name", "description", "labels", "task_type", "data_type"):
        assert f'for="id_{control}"' in response.text
    assert "<legend" in response.text
    assert "Visibility" in response.text


def test_register_model_redirects_to_the_new_model_card(outsider: Any) -> None:
    client = client_for(outsider)
    data = {
        "name": "  Fraud Detector ",
        "description": "Flags fraudulent payments.",
        "labels": "Payments, fraud",
        "task_type": "classification",
        "data_type": "tabular",
        "visibility": "private",
    }
    response = client.post("/models/new/", data)
    assert response.status_code == 302
    assert response["Location"] == "/models/fraud-detector/"
    model = RegisteredModel.objects.get(slug="fraud-detector")
    assert model.name == "Fraud Detector"
    assert model.owner == outsider
    assert model.visibility == "private"
    assert sorted(label.name for label in model.labels.all()) == ["fraud", "payments"]
    assert permissions.may_manage_collaborators(outsider, model)
    assert ActivityEntry.objects.filter(model=model, verb=Verb.MODEL_REGISTERED, actor=outsider).exists()

    card = client.get(response["Location"])
    assert "Registered Fraud Detector. Register its first version next." in card.text
    assert "<h1>Fraud Detector</h1>" in card.text


def test_register_model_with_errors_rerenders_the_form(owner: Any, model: Any) -> None:
    response = client_for(owner).post("/models/new/", {"name": "CHURN predictor", "task_type": "x", "data_type": "x"})
    assert response.status_code == 200
    assert "A model with this name already exists (names ignore case)." in response.text
    assert "Select a valid choice." in response.text
    assert 'value="CHURN predictor"' in response.text
    assert RegisteredModel.objects.count() == 1


def test_register_model_with_reviewers_adds_them_through_the_collaborator_service(outsider: Any) -> None:
    GroupFactory.create(name="model-risk")
    UserFactory.create(username="bob")
    data = {
        "name": "Fraud Detector",
        "task_type": "unknown",
        "data_type": "unknown",
        "visibility": "organization",
        "reviewers": "bob",
        "reviewer_groups": "model-risk",
    }
    client = client_for(outsider)
    response = client.post("/models/new/", data)
    assert response.status_code == 302
    model = RegisteredModel.objects.get(slug="fraud-detector")
    assert [(c.kind, c.name, c.role) for c in collaborators(model=model)] == [
        ("user", "outsider", Role.OWNER),
        ("user", "bob", Role.REVIEWER),
        ("group", "model-risk", Role.REVIEWER),
    ]
    added = ActivityEntry.objects.filter(model=model, verb=Verb.COLLABORATOR_ADDED, actor=outsider)
    assert sorted((e.extra["principal"], e.extra["role"]) for e in added) == [
        ("group model-risk", "Reviewer"),
        ("user bob", "Reviewer"),
    ]
    card = client.get(response["Location"]).text
    assert "Registered Fraud Detector. bob and group model-risk can review its stage changes." in card


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"reviewers": "nobody-here"}, "No active user is called “nobody-here”."),
        ({"reviewer_groups": "no-such-team"}, "No group is called “no-such-team”."),
        ({"reviewers": "outsider"}, "You will own the model; list the other people who should review it."),
    ],
)
def test_register_model_with_unknown_reviewers_is_a_form_error_and_registers_nothing(
    outsider: Any, fields: dict[str, str], error: str
) -> None:
    data = {"name": "Fraud Detector", "task_type": "unknown", "data_type": "unknown", "visibility": "private"}
    before = database_state()
    response = client_for(outsider).post("/models/new/", data | fields)
    assert response.status_code == 200
    assert error in response.text
    assert database_state() == before


# --- Register and edit versions -----------------------------------------------------------------------------------


def test_editor_registers_a_version(model: Any, editor: Any) -> None:
    client = client_for(editor)
    assert "Register a version of Churn Predictor" in client.get(catalog_url("version-register", model)).text
    data = {
        "name": "v2.0.0",
        "description": "Bigger.",
        "labels": "big",
        "attributes": "framework = sklearn\nauc = 0.91",
        "artifact_uri": "s3://m/v2",
        "source_run_url": "https://runs.example.com/7",
    }
    response = client.post(catalog_url("version-register", model), data)
    assert response.status_code == 302
    assert response["Location"] == "/models/churn-predictor/versions/v2.0.0/"
    version = model.versions.get(name="v2.0.0")
    assert version.created_by == editor
    assert version.stage == Stage.UNASSIGNED
    assert version.attributes == {"framework": "sklearn", "auc": "0.91"}
    assert version.source_run_url == "https://runs.example.com/7"
    page = client.get(response["Location"])
    assert "Registered version v2.0.0." in page.text
    assert stage_badge(page.text) == "stage stage-unassigned large: Unassigned"


def test_register_version_with_errors_rerenders_the_form(model: Any, version: Any, owner: Any) -> None:
    response = client_for(owner).post(catalog_url("version-register", model), {"name": "v1.0.0", "attributes": "oops"})
    assert response.status_code == 200
    assert "Version “v1.0.0” already exists for this model." in response.text
    assert "Line 1: write each attribute as “key = value”." in response.text
    assert model.versions.count() == 1


@pytest.mark.parametrize("name", ["new", "edit", "NEW"])
def test_reserved_version_names_are_refused(model: Any, owner: Any, name: str) -> None:
    response = client_for(owner).post(catalog_url("version-register", model), {"name": name})
    assert response.status_code == 200
    assert "is reserved; choose another version name." in response.text
    assert not model.versions.exists()


def test_edit_version_form_is_prefilled(model: Any, owner: Any) -> None:
    version = VersionFactory.create(model=model, name="v3", labels=["a", "b"], attributes={"k": "v", "x": "y"})
    response = client_for(owner).get(catalog_url("version-edit", model, version))
    assert response.status_code == 200
    assert "Edit Churn Predictor · v3" in response.text
    assert 'value="a, b"' in response.text
    assert ">\nk = v\nx = y</textarea>" in response.text


def test_editor_edits_a_version(model: Any, version: Any, editor: Any) -> None:
    data = {"description": "Now documented.", "labels": "docs", "attributes": "owner = ml", "artifact_uri": "s3://b"}
    client = client_for(editor)
    response = client.post(catalog_url("version-edit", model, version), data)
    assert response.status_code == 302
    assert response["Location"] == "/models/churn-predictor/versions/v1.0.0/"
    version.refresh_from_db()
    assert version.description == "Now documented."
    assert version.attributes == {"owner": "ml"}
    assert [label.name for label in version.labels.all()] == ["docs"]
    entry = ActivityEntry.objects.filter(version=version, verb=Verb.VERSION_EDITED).get()
    assert entry.actor == editor
    page = client.get(response["Location"])
    assert "Saved version v1.0.0." in page.text
    assert "Now documented." in page.text
    assert "Now documented." in page.text


def test_edit_version_with_errors_rerenders_the_form(model: Any, version: Any, editor: Any) -> None:
    data = {"description": "x", "source_run_url": "not a url", "labels": "Bad!"}
    response = client_for(editor).post(catalog_url("version-edit", model, version), data)
    assert response.status_code == 200
    assert "Enter a valid URL." in response.text
    assert "Not valid: bad!" in response.text
    version.refresh_from_db()
    assert version.description == "A version for tests."


@pytest.mark.parametrize("lock", [LockLevel.CLOSED, LockLevel.REDACT])
@pytest.mark.parametrize("method", ["get", "post"])
def test_locked_version_cannot_be_edited(model: Any, version: Any, editor: Any, lock: str, method: str) -> None:
    ModelVersion.objects.filter(pk=version.pk).update(lock_level=lock)
    client = client_for(editor)
    url = catalog_url("version-edit", model, version)
    response = client.post(url, CATALOG_POSTS["version-edit"]) if method == "post" else client.get(url)
    assert response.status_code == 302
    assert response["Location"] == "/models/churn-predictor/versions/v1.0.0/"
    version.refresh_from_db()
    assert version.description == "A version for tests."
    assert not ActivityEntry.objects.filter(verb=Verb.VERSION_EDITED).exists()
    page = client.get(response["Location"])
    assert f"Version v1.0.0 is locked ({LockLevel(lock).label}); its metadata cannot change." in page.text
    assert "Edit version" not in page.text
    assert "the stage and metadata cannot change" in page.text


# --- Edit a model -------------------------------------------------------------------------------------------------


def test_edit_model_form_is_prefilled(model: Any, owner: Any) -> None:
    client_for(owner).post(catalog_url("model-edit", model), CATALOG_POSTS["model-edit"] | {"labels": "x, y"})
    response = client_for(owner).get(catalog_url("model-edit", model))
    assert response.status_code == 200
    assert "<h1>Edit Churn Predictor</h1>" in response.text
    assert 'value="x, y"' in response.text
    assert ">\nRewritten</textarea>" in response.text


def test_editor_edits_a_model_but_not_its_visibility(model: Any, editor: Any, outsider: Any) -> None:
    client = client_for(editor)
    assert 'name="visibility"' not in client.get(catalog_url("model-edit", model)).text
    response = client.post(catalog_url("model-edit", model), CATALOG_POSTS["model-edit"])
    assert response.status_code == 302
    assert response["Location"] == "/models/churn-predictor/"
    model.refresh_from_db()
    assert model.description == "Rewritten"
    assert model.task_type == "other"
    assert model.visibility == "private"
    assert client_for(outsider).get("/models/churn-predictor/").status_code == 404
    assert "Saved Churn Predictor." in client.get(response["Location"]).text


def test_owner_makes_a_model_visible_to_the_organization(model: Any, owner: Any, outsider: Any) -> None:
    response = client_for(owner).post(catalog_url("model-edit", model), CATALOG_POSTS["model-edit"])
    assert response.status_code == 302
    assert client_for(outsider).get("/models/churn-predictor/").status_code == 200


def test_edit_model_with_errors_rerenders_the_form(model: Any, owner: Any) -> None:
    data = CATALOG_POSTS["model-edit"] | {"labels": "ok, NOTOK!", "task_type": "astrology"}
    response = client_for(owner).post(catalog_url("model-edit", model), data)
    assert response.status_code == 200
    assert "Not valid: notok!" in response.text
    assert "Select a valid choice. astrology is not one of the available choices." in response.text
    model.refresh_from_db()
    assert model.description == "A model for tests."
