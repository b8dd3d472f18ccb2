"""The Django admin: every registered admin opens, staff see only models they may view, guardian's pages work."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db.models import Model
from django.test import Client

from activity.models import ActivityEntry
from catalog.models import ModelVersion, RegisteredModel, RegisteredModelUserObjectPermission
from catalog.permissions import Role
from catalog.services import add_collaborator
from core.mail import send_mail_task
from tests.factories import GroupFactory, ModelFactory, UserFactory, VersionFactory
from tests.helpers import admin_url, client_for
from webhooks.services import create_webhook

REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)


@pytest.fixture
def staff(db: None) -> Any:
    """A staff member with model-level admin permissions on everything, but no role on any model."""
    user = UserFactory.create(username="clerk", is_staff=True)
    codenames = ["view_registeredmodel", "change_registeredmodel", "delete_registeredmodel"]
    codenames += ["view_modelversion", "change_modelversion", "delete_modelversion", "view_activityentry"]
    codenames += ["view_registeredmodeluserobjectpermission", "change_registeredmodeluserobjectpermission"]
    codenames += ["view_registeredmodelgroupobjectpermission", "view_label"]
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def populated(model: Any, version: Any, owner: Any, org_model: Any, superuser: Any) -> dict[str, Any]:
    """One object of every kind the admin shows: models, a version, labels, a group, activity, permissions, a
    registry-wide webhook, a queued task."""
    create_webhook(actor=superuser, model=None, url="https://93.184.215.14/hooks/catalog")
    send_mail_task.enqueue(subject="Hello", body="A queued mail.", to=["owner@example.com"])
    VersionFactory.create(model=org_model, name="org-v1", labels=["tabular"])
    ModelFactory.create(owner=owner, name="Labelled", labels=["vision"])
    add_collaborator(actor=owner, model=org_model, group=GroupFactory.create(name="ml-team"), role=Role.REVIEWER)
    # Sign-in records (django-axes): a failed attempt and a successful sign-in.
    Client().post("/accounts/login/", {"username": "owner", "password": "wrong"})
    Client().post("/accounts/login/", {"username": "owner", "password": "pw"})
    return {"model": model, "version": version, "org_model": org_model}


@pytest.mark.parametrize("model_class", REGISTERED, ids=lambda model_class: model_class._meta.label)
def test_superuser_opens_every_changelist(populated: Any, superuser: Any, model_class: type[Model]) -> None:
    client = client_for(superuser)
    response = client.get(admin_url(model_class, "changelist"))
    assert response.status_code == 200
    assert f"Select {model_class._meta.verbose_name} to" in response.text
    for query in ("churn", "\x00", "%", "x" * 1000):
        assert client.get(admin_url(model_class, "changelist"), {"q": query}).status_code == 200


@pytest.mark.parametrize("model_class", REGISTERED, ids=lambda model_class: model_class._meta.label)
def test_superuser_opens_the_change_page_of_every_kind_of_object(
    populated: Any, superuser: Any, model_class: type[Model]
) -> None:
    obj = model_class._default_manager.order_by("pk").first()
    assert obj is not None, f"no {model_class._meta.label} to open"
    response = client_for(superuser).get(admin_url(model_class, "change", obj.pk))
    assert response.status_code == 200


def test_admin_index_lists_the_catalog(superuser: Any) -> None:
    response = client_for(superuser).get("/admin/")
    assert response.status_code == 200
    for name in ("Registered models", "Model versions", "Activity entries", "Labels"):
        assert name in response.text


@pytest.mark.parametrize("who", ["anonymous", "not-staff"])
def test_admin_needs_a_staff_login(db: None, who: str) -> None:
    user = None if who == "anonymous" else UserFactory.create(username="plain")
    response = client_for(user).get(admin_url(RegisteredModel, "changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_changelists_list_only_models_they_may_view(populated: Any, staff: Any) -> None:
    client = client_for(staff)
    models = client.get(admin_url(RegisteredModel, "changelist")).text
    assert "Open Model" in models
    assert "Churn Predictor" not in models
    versions = client.get(admin_url(ModelVersion, "changelist")).text
    assert "org-v1" in versions
    assert "v1.0.0" not in versions
    activity = client.get(admin_url(ActivityEntry, "changelist")).text
    assert "Open Model" in activity
    assert "Churn Predictor" not in activity
    permissions = client.get(admin_url(RegisteredModelUserObjectPermission, "changelist")).text
    assert "Open Model" in permissions
    assert "Churn Predictor" not in permissions


def test_staff_gets_404_on_a_model_they_cannot_view(populated: Any, staff: Any) -> None:
    client = client_for(staff)
    model, version = populated["model"], populated["version"]
    entry = ActivityEntry.objects.filter(model=model).first()
    grant = RegisteredModelUserObjectPermission.objects.filter(content_object=model).first()
    assert entry is not None
    assert grant is not None
    hidden = [
        admin_url(RegisteredModel, "change", model.pk),
        admin_url(RegisteredModel, "permissions", model.pk),
        admin_url(ModelVersion, "change", version.pk),
        admin_url(ActivityEntry, "change", entry.pk),
        admin_url(RegisteredModelUserObjectPermission, "change", grant.pk),
    ]
    for url in hidden:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Churn Predictor" not in response.text
    response = client.post(admin_url(RegisteredModel, "change", model.pk), {"name": "Taken over"})
    assert response.status_code == 404
    model.refresh_from_db()
    assert model.name == "Churn Predictor"


@pytest.mark.parametrize("view", ["history", "delete"])
def test_staff_cannot_tell_a_hidden_model_from_a_missing_one(populated: Any, staff: Any, view: str) -> None:
    client = client_for(staff)
    model = populated["model"]
    hidden = client.get(admin_url(RegisteredModel, view, model.pk))
    missing = client.get(admin_url(RegisteredModel, view, 999_999))
    assert hidden.status_code == missing.status_code
    assert hidden.get("Location") == missing.get("Location")
    assert "Churn Predictor" not in client.get(admin_url(RegisteredModel, view, model.pk), follow=True).text
    assert client.post(admin_url(RegisteredModel, "delete", model.pk), {"post": "yes"}).status_code != 200
    assert RegisteredModel.objects.filter(pk=model.pk).exists()


def test_staff_opens_a_model_they_may_view(populated: Any, staff: Any) -> None:
    org_model = populated["org_model"]
    response = client_for(staff).get(admin_url(RegisteredModel, "change", org_model.pk))
    assert response.status_code == 200
    assert "Open Model" in response.text


def test_staff_with_a_role_opens_a_private_model(populated: Any, staff: Any, owner: Any) -> None:
    model = populated["model"]
    add_collaborator(actor=owner, model=model, user=staff, role=Role.VIEWER)
    assert client_for(staff).get(admin_url(RegisteredModel, "change", model.pk)).status_code == 200


@pytest.mark.parametrize("object_id", ["999999", "abc", "%00"])
def test_odd_admin_object_ids_are_404(populated: Any, staff: Any, object_id: str) -> None:
    client = client_for(staff)
    assert client.get(f"/admin/catalog/registeredmodel/{object_id}/change/").status_code == 404


def test_guardian_object_permission_page_opens_for_a_superuser(populated: Any, superuser: Any, owner: Any) -> None:
    model = populated["model"]
    client = client_for(superuser)
    response = client.get(admin_url(RegisteredModel, "permissions", model.pk))
    assert response.status_code == 200
    assert "Object permissions" in response.text
    assert "owner" in response.text
    assert (
        'class="permissionslink">Object permissions</a>'
        in client.get(admin_url(RegisteredModel, "change", model.pk)).text
    )
    user_page = client.get(admin_url(RegisteredModel, "permissions_manage_user", model.pk, owner.pk))
    assert user_page.status_code == 200
    assert "manage_registeredmodel" in user_page.text


def test_activity_admin_is_read_only(populated: Any, superuser: Any) -> None:
    client = client_for(superuser)
    entry = ActivityEntry.objects.order_by("pk").first()
    assert entry is not None
    assert client.get(admin_url(ActivityEntry, "add")).status_code == 403
    change = client.get(admin_url(ActivityEntry, "change", entry.pk))
    assert change.status_code == 200
    assert 'name="_save"' not in change.text
    assert client.post(admin_url(ActivityEntry, "change", entry.pk), {"comment": "rewritten"}).status_code == 403
    assert client.get(admin_url(ActivityEntry, "delete", entry.pk)).status_code == 403
    entry.refresh_from_db()
    assert entry.comment == ""
    assert ActivityEntry.objects.filter(pk=entry.pk).exists()


def test_version_admin_does_not_edit_the_stage(populated: Any, superuser: Any) -> None:
    version = populated["version"]
    response = client_for(superuser).get(admin_url(ModelVersion, "change", version.pk))
    assert response.status_code == 200
    assert 'name="description"' in response.text
    assert 'name="name"' not in response.text  # the name the log refers to is fixed at registration
    assert 'name="stage"' not in response.text
    assert 'name="stage_changed_at"' not in response.text
