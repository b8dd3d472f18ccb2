"""Admin writes go through the services: each editable admin form writes exactly the entry the page's service
writes (with the admin user as actor), and a refusal shows the service's message and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db.models import Model
from django.test import Client

from activity.models import ActivityEntry, Verb
from approvals import services as workflow
from catalog.models import (
    Label,
    LockLevel,
    ModelVersion,
    RegisteredModel,
    RegisteredModelUserObjectPermission,
    Visibility,
)
from catalog.permissions import Role
from catalog.services import add_collaborator
from tests.factories import UserFactory, VersionFactory
from tests.helpers import admin_url, client_for


@pytest.fixture
def clerk(db: None) -> Any:
    """Staff with every model-level admin permission on the catalog; what they may do to a model is their role's."""
    user = UserFactory.create(username="clerk", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="catalog"))
    return user


def _as_role(model: RegisteredModel, owner: Any, clerk: Any, role: Role | None) -> Client:
    if role is not None:
        add_collaborator(actor=owner, model=model, user=clerk, role=role)
    return client_for(clerk)


def model_form(model: RegisteredModel, **changes: Any) -> dict[str, Any]:
    data = {
        "description": model.description,
        "labels": [label.pk for label in model.labels.all()],
        "task_type": model.task_type,
        "data_type": model.data_type,
        "visibility": model.visibility,
        "required_approvals": model.required_approvals,
    }
    return data | changes


def version_form(version: ModelVersion, **changes: Any) -> dict[str, Any]:
    data = {
        "description": version.description,
        "labels": [label.pk for label in version.labels.all()],
        "attributes": "{}",
        "artifact_uri": version.artifact_uri,
        "source_run_url": version.source_run_url,
        "lock_level": version.lock_level,
    }
    return data | changes


def entries() -> list[ActivityEntry]:
    return list(ActivityEntry.objects.order_by("pk"))


def new_entries(before: list[ActivityEntry]) -> list[ActivityEntry]:
    return [entry for entry in entries() if entry not in before]


def snapshot(*objects: Model) -> list[dict[str, Any]]:
    rows = []
    for obj in objects:
        fresh = type(obj)._default_manager.get(pk=obj.pk)
        row = {field.attname: getattr(fresh, field.attname) for field in fresh._meta.concrete_fields}
        row["labels"] = sorted(label.name for label in fresh.labels.all())  # type: ignore[attr-defined]
        rows.append(row)
    return rows


# --- Models ---------------------------------------------------------------------------------------------------------


def test_registering_a_model_in_the_admin_is_the_service_with_the_admin_as_owner(clerk: Any) -> None:
    label = Label.objects.create(name="fraud")
    data = {
        "name": "Card Fraud",
        "description": "Scores card payments.",
        "labels": [label.pk],
        "task_type": "classification",
        "data_type": "tabular",
        "visibility": Visibility.PRIVATE,
    }
    response = client_for(clerk).post(admin_url(RegisteredModel, "add"), data)

    assert response.status_code == 302
    model = RegisteredModel.objects.get(name="Card Fraud")
    assert (model.owner, model.visibility, [lb.name for lb in model.labels.all()]) == (clerk, "private", ["fraud"])
    [entry] = ActivityEntry.objects.filter(model=model)
    assert (entry.verb, entry.actor, entry.extra) == (Verb.MODEL_REGISTERED, clerk, {"name": "Card Fraud"})
    assert RegisteredModelUserObjectPermission.objects.filter(content_object=model, user=clerk).count() == 5


def test_a_taken_name_is_refused_with_the_services_message(clerk: Any, model: RegisteredModel) -> None:
    before = entries()
    data = {"name": "CHURN PREDICTOR", "description": "", "task_type": "other", "data_type": "other"}
    response = client_for(clerk).post(admin_url(RegisteredModel, "add"), data | {"visibility": "organization"})

    assert response.status_code == 200
    assert "A model named “CHURN PREDICTOR” already exists. Choose another name." in response.text
    assert RegisteredModel.objects.count() == 1
    assert entries() == before


def test_an_owner_edits_a_model_in_the_admin_and_the_log_says_so(
    model: RegisteredModel, owner: Any, clerk: Any
) -> None:
    client = _as_role(model, owner, clerk, Role.OWNER)
    before = entries()
    changes = {"description": "Rewritten.", "task_type": "regression", "visibility": Visibility.ORGANIZATION}
    response = client.post(admin_url(RegisteredModel, "change", model.pk), model_form(model, **changes))

    assert response.status_code == 302
    model.refresh_from_db()
    assert (model.description, model.task_type, model.visibility) == ("Rewritten.", "regression", "organization")
    [entry] = new_entries(before)
    assert (entry.verb, entry.actor, entry.model) == (Verb.MODEL_EDITED, clerk, model)
    assert entry.extra == {"fields": ["description", "task_type", "visibility"]}


def test_the_approval_policy_in_the_admin_is_the_policy_service(model: RegisteredModel, owner: Any, clerk: Any) -> None:
    client = _as_role(model, owner, clerk, Role.OWNER)
    before = entries()
    response = client.post(admin_url(RegisteredModel, "change", model.pk), model_form(model, required_approvals=3))

    assert response.status_code == 302
    assert RegisteredModel.objects.get(pk=model.pk).required_approvals == 3
    [entry] = new_entries(before)
    assert (entry.verb, entry.actor, entry.extra) == (Verb.POLICY_CHANGED, clerk, {"from": 1, "to": 3})


@pytest.mark.parametrize(
    ("role", "changes", "message"),
    [
        (None, {"description": "Mine now."}, "Only editors and owners of this model can edit it."),
        (Role.VIEWER, {"description": "Mine now."}, "Only editors and owners of this model can edit it."),
        (Role.EDITOR, {"visibility": "organization"}, "Only owners of this model can change who may see it."),
        (Role.EDITOR, {"required_approvals": 2}, "Only owners of this model can change its approval policy."),
        (Role.OWNER, {"required_approvals": 9}, "A stage change needs between 1 and 5 approvals."),
        # Both at once: the edit is undone with the refused policy.
        (Role.EDITOR, {"description": "Half.", "required_approvals": 2}, "Only owners of this model can change its"),
    ],
)
def test_a_refused_model_change_shows_the_services_message_and_changes_nothing(
    model: RegisteredModel, owner: Any, clerk: Any, role: Role | None, changes: dict[str, Any], message: str
) -> None:
    if role is None:  # no role at all: the model must be visible for the admin to open it
        model.visibility = Visibility.ORGANIZATION
        model.save(update_fields=["visibility"])
    client = _as_role(model, owner, clerk, role)
    before, state = entries(), snapshot(model)
    response = client.post(admin_url(RegisteredModel, "change", model.pk), model_form(model, **changes))

    assert response.status_code == 200
    assert message in response.text
    assert snapshot(model) == state
    assert entries() == before


def test_the_admin_shows_name_owner_and_slug_but_does_not_change_them(
    model: RegisteredModel, owner: Any, superuser: Any
) -> None:
    client = client_for(superuser)
    page = client.get(admin_url(RegisteredModel, "change", model.pk)).text
    for field in ("name", "slug", "owner"):
        assert f'name="{field}"' not in page
    assert "/models/churn-predictor/collaborators/" in page
    response = client.post(
        admin_url(RegisteredModel, "change", model.pk), model_form(model, name="Renamed", owner=superuser.pk)
    )
    assert response.status_code == 302
    model.refresh_from_db()
    assert (model.name, model.owner) == ("Churn Predictor", owner)


def test_models_and_versions_are_not_deleted_in_the_admin(
    model: RegisteredModel, version: ModelVersion, superuser: Any
) -> None:
    client = client_for(superuser)
    assert client.post(admin_url(RegisteredModel, "delete", model.pk), {"post": "yes"}).status_code == 403
    assert client.post(admin_url(ModelVersion, "delete", version.pk), {"post": "yes"}).status_code == 403
    assert RegisteredModel.objects.filter(pk=model.pk).exists()
    assert ModelVersion.objects.filter(pk=version.pk).exists()


# --- Versions -------------------------------------------------------------------------------------------------------


def test_registering_a_version_in_the_admin_is_the_service(model: RegisteredModel, owner: Any, clerk: Any) -> None:
    client = _as_role(model, owner, clerk, Role.EDITOR)
    before = entries()
    data = {
        "model": model.pk,
        "name": "v2.0.0",
        "description": "Retrained.",
        "attributes": '{"auc": "0.91", "epochs": 12}',
        "artifact_uri": "s3://models/churn/v2",
        "source_run_url": "runs.example.com/42",
    }
    response = client.post(admin_url(ModelVersion, "add"), data)

    assert response.status_code == 302
    version = ModelVersion.objects.get(model=model, name="v2.0.0")
    assert (version.created_by, version.stage, version.attributes) == (
        clerk,
        "unassigned",
        {"auc": "0.91", "epochs": 12},
    )
    assert version.source_run_url == "https://runs.example.com/42"
    [entry] = new_entries(before)
    assert (entry.verb, entry.actor, entry.version) == (Verb.VERSION_REGISTERED, clerk, version)
    assert RegisteredModel.objects.get(pk=model.pk).unassigned_count == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "v1.0.0"}, "Version “v1.0.0” already exists for Churn Predictor. Choose another version name."),
        ({"name": "new"}, "“new” is reserved; choose another version name."),
        ({"attributes": '{"nested": {"a": 1}}'}, "Attribute “nested” must be text, a number, true/false or null."),
        (
            {"attributes": "[1, 2]"},
            "Attributes are keys with values, such as {&quot;framework&quot;: &quot;xgboost&quot;}.",
        ),
    ],
)
def test_a_refused_version_registration_changes_nothing(
    model: RegisteredModel, version: ModelVersion, owner: Any, clerk: Any, data: dict[str, Any], message: str
) -> None:
    client = _as_role(model, owner, clerk, Role.EDITOR)
    before = entries()
    form = {"model": model.pk, "name": "v2", "description": "", "attributes": "{}", "artifact_uri": ""}
    response = client.post(admin_url(ModelVersion, "add"), form | {"source_run_url": ""} | data)

    assert response.status_code == 200
    assert message in response.text
    assert list(model.versions.values_list("name", flat=True)) == ["v1.0.0"]
    assert entries() == before


def test_an_editor_edits_a_version_in_the_admin(
    model: RegisteredModel, version: ModelVersion, owner: Any, clerk: Any
) -> None:
    client = _as_role(model, owner, clerk, Role.EDITOR)
    before = entries()
    response = client.post(
        admin_url(ModelVersion, "change", version.pk),
        version_form(version, description="Better.", artifact_uri="s3://b", attributes='{"auc": "0.9"}'),
    )

    assert response.status_code == 302
    version.refresh_from_db()
    assert (version.description, version.artifact_uri, version.attributes) == ("Better.", "s3://b", {"auc": "0.9"})
    [entry] = new_entries(before)
    assert (entry.verb, entry.actor, entry.version) == (Verb.VERSION_EDITED, clerk, version)
    assert entry.extra == {"fields": ["description", "attributes", "artifact_uri"]}


def test_the_lock_level_in_the_admin_is_the_lock_service(
    model: RegisteredModel, version: ModelVersion, owner: Any, clerk: Any
) -> None:
    client = _as_role(model, owner, clerk, Role.EDITOR)
    before = entries()
    response = client.post(admin_url(ModelVersion, "change", version.pk), version_form(version, lock_level="closed"))

    assert response.status_code == 302
    assert ModelVersion.objects.get(pk=version.pk).lock_level == LockLevel.CLOSED
    [entry] = new_entries(before)
    assert (entry.verb, entry.actor, entry.extra) == (Verb.LOCK_CHANGED, clerk, {"from": "Open", "to": "Closed"})


def test_an_owner_unlocks_and_edits_at_once(
    model: RegisteredModel, version: ModelVersion, owner: Any, clerk: Any
) -> None:
    workflow.set_lock_level(actor=owner, version=version, lock_level=LockLevel.CLOSED)
    client = _as_role(model, owner, clerk, Role.OWNER)
    before = entries()
    response = client.post(
        admin_url(ModelVersion, "change", version.pk),
        version_form(ModelVersion.objects.get(pk=version.pk), lock_level="open", description="Fixed."),
    )

    assert response.status_code == 302
    assert [entry.verb for entry in new_entries(before)] == [Verb.LOCK_CHANGED, Verb.VERSION_EDITED]
    version.refresh_from_db()
    assert (version.lock_level, version.description) == ("open", "Fixed.")


@pytest.mark.parametrize(
    ("role", "lock", "changes", "message"),
    [
        (Role.VIEWER, "open", {"description": "x"}, "Only editors and owners of this model can edit its versions."),
        (
            Role.REVIEWER,
            "open",
            {"lock_level": "closed"},
            "Only editors and owners of this model can lock its versions.",
        ),
        (Role.EDITOR, "closed", {"lock_level": "open"}, "Only owners of this model can lower a lock level."),
        (Role.EDITOR, "closed", {"description": "x"}, "Version v1.0.0 is locked (Closed); its metadata cannot change."),
        # Edited, then locked: the refused lock undoes the edit.
        (Role.EDITOR, "redact", {"description": "x", "lock_level": "closed"}, "Only owners of this model can lower"),
    ],
)
def test_a_refused_version_change_shows_the_services_message_and_changes_nothing(
    model: RegisteredModel,
    version: ModelVersion,
    owner: Any,
    clerk: Any,
    role: Role,
    lock: str,
    changes: dict[str, Any],
    message: str,
) -> None:
    if lock != "open":
        workflow.set_lock_level(actor=owner, version=version, lock_level=lock)
    client = _as_role(model, owner, clerk, role)
    version = ModelVersion.objects.get(pk=version.pk)
    before, state = entries(), snapshot(version)
    response = client.post(admin_url(ModelVersion, "change", version.pk), version_form(version, **changes))

    assert response.status_code == 200
    assert message in response.text
    assert snapshot(version) == state
    assert entries() == before


def test_the_version_admin_leaves_name_and_stage_to_the_site(
    model: RegisteredModel, version: ModelVersion, superuser: Any
) -> None:
    client = client_for(superuser)
    page = client.get(admin_url(ModelVersion, "change", version.pk)).text
    assert "/models/churn-predictor/versions/v1.0.0/" in page
    response = client.post(
        admin_url(ModelVersion, "change", version.pk), version_form(version, name="v9.9.9", stage="production")
    )
    assert response.status_code == 302
    version.refresh_from_db()
    assert (version.name, version.stage) == ("v1.0.0", "unassigned")


# --- What no service changes is read-only ---------------------------------------------------------------------------


def test_object_permissions_change_only_on_the_collaborators_page(
    model: RegisteredModel, owner: Any, viewer: Any, superuser: Any
) -> None:
    client = client_for(superuser)
    grants = set(RegisteredModelUserObjectPermission.objects.values_list("user_id", "permission_id"))
    url = admin_url(RegisteredModel, "permissions_manage_user", model.pk, viewer.pk)
    assert client.get(url).status_code == 200
    response = client.post(url, {"permissions": ["change_registeredmodel", "manage_registeredmodel"]})

    assert response.status_code == 302
    assert response["Location"] == "/models/churn-predictor/collaborators/"
    assert set(RegisteredModelUserObjectPermission.objects.values_list("user_id", "permission_id")) == grants
    page = client.get(response["Location"]).text
    assert "Roles are given and taken away on the model&#x27;s Collaborators page, which logs each change." in page


@pytest.mark.parametrize("kind", [Label, RegisteredModelUserObjectPermission])
def test_labels_and_grants_are_shown_but_not_written(
    model: RegisteredModel, version: ModelVersion, superuser: Any, kind: type[Model]
) -> None:
    VersionFactory.create(model=model, name="v2", labels=["nlp"])
    client = client_for(superuser)
    obj = kind._default_manager.order_by("pk").first()
    assert obj is not None
    assert client.get(admin_url(kind, "changelist")).status_code == 200
    assert client.get(admin_url(kind, "change", obj.pk)).status_code == 200
    assert client.get(admin_url(kind, "add")).status_code == 403
    assert client.post(admin_url(kind, "change", obj.pk), {"name": "renamed"}).status_code == 403
    assert client.post(admin_url(kind, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert kind._default_manager.filter(pk=obj.pk).exists()
