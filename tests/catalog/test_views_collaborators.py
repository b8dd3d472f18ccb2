"""Adding and removing a model's collaborators (users and groups), with and without JavaScript; errors change
nothing."""

from __future__ import annotations

from typing import Any

import pytest

from activity.models import ActivityEntry, Verb
from catalog import permissions
from catalog.permissions import Role
from catalog.services import add_collaborator
from tests.factories import GroupFactory, ModelFactory, UserFactory
from tests.helpers import HTMX, assert_fragment, catalog_url, client_for, fresh, table_rows


def test_add_collaborator_with_htmx_returns_the_panel(model: Any, owner: Any, outsider: Any) -> None:
    response = client_for(owner).post(
        catalog_url("collaborator-add", model), {"kind": "user", "name": "outsider", "role": "editor"}, headers=HTMX
    )
    assert_fragment(response, "collaborators-panel")
    assert "User outsider now has the Editor role." in response.text
    assert "outsider Editor Remove" in [row.text for row in table_rows(response.text)]
    assert permissions.may_edit_model(outsider, fresh(model))
    entry = ActivityEntry.objects.filter(verb=Verb.COLLABORATOR_ADDED, model=model).latest("id")
    assert entry.extra == {"principal": "user outsider", "role": "Editor"}


def test_add_collaborator_without_javascript_redirects(model: Any, owner: Any, outsider: Any) -> None:
    client = client_for(owner)
    data = {"kind": "user", "name": "outsider", "role": "viewer"}
    response = client.post(catalog_url("collaborator-add", model), data)
    assert response.status_code == 302
    assert response["Location"] == "/models/churn-predictor/collaborators/"
    page = client.get(response["Location"])
    assert "User outsider now has the Viewer role." in page.text
    assert client_for(outsider).get("/models/churn-predictor/").status_code == 200


def test_add_group_collaborator(model: Any, owner: Any, outsider: Any) -> None:
    team = GroupFactory.create(name="data-science")
    outsider.groups.add(team)
    response = client_for(owner).post(
        catalog_url("collaborator-add", model),
        {"kind": "group", "name": "data-science", "role": "reviewer"},
        headers=HTMX,
    )
    assert "Group data-science now has the Reviewer role." in response.text
    assert "Group data-science Reviewer Remove" in [row.text for row in table_rows(response.text)]
    assert permissions.Access(outsider).holds(fresh(model), permissions.REVIEW)


def test_adding_an_existing_collaborator_replaces_the_role(model: Any, owner: Any, viewer: Any) -> None:
    client_for(owner).post(catalog_url("collaborator-add", model), {"kind": "user", "name": "viewer", "role": "editor"})
    assert permissions.role_for_permissions(permissions.Access(viewer).permissions(fresh(model))) == Role.EDITOR


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"kind": "user", "name": "ghost", "role": "viewer"}, "No active user is called “ghost”."),
        ({"kind": "group", "name": "ghosts", "role": "viewer"}, "No group is called “ghosts”."),
        ({"kind": "user", "name": "owner", "role": "viewer"}, "owner owns this model and keeps the Owner role."),
        ({"kind": "user", "name": "outsider", "role": "emperor"}, "Select a valid choice."),
        ({"kind": "robot", "name": "outsider", "role": "viewer"}, "Select a valid choice."),
        ({"kind": "user", "name": "", "role": "viewer"}, "This field is required."),
    ],
)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_add_collaborator_errors_change_nothing(
    model: Any, owner: Any, outsider: Any, data: dict[str, str], error: str, headers: dict[str, str]
) -> None:
    entries = ActivityEntry.objects.count()
    response = client_for(owner).post(catalog_url("collaborator-add", model), data, headers=headers)
    assert response.status_code == 200
    assert error in response.text
    assert ("<html" in response.text) is not bool(headers)
    assert ActivityEntry.objects.count() == entries
    assert permissions.role_for_permissions(permissions.Access(owner).permissions(fresh(model))) == Role.OWNER
    assert not permissions.can_view_model(outsider, fresh(model))


def test_inactive_user_cannot_be_added(model: Any, owner: Any) -> None:
    UserFactory.create(username="gone", is_active=False)
    response = client_for(owner).post(
        catalog_url("collaborator-add", model), {"kind": "user", "name": "gone", "role": "viewer"}
    )
    assert "No active user is called “gone”." in response.text


def test_remove_collaborator_with_htmx(model: Any, owner: Any, viewer: Any) -> None:
    response = client_for(owner).post(
        catalog_url("collaborator-remove", model), {"kind": "user", "name": "viewer"}, headers=HTMX
    )
    assert_fragment(response, "collaborators-panel")
    assert "Removed user viewer from the collaborators." in response.text
    assert [row.text for row in table_rows(response.text) if row.text.startswith("viewer")] == []
    assert client_for(viewer).get("/models/churn-predictor/").status_code == 404
    assert ActivityEntry.objects.filter(verb=Verb.COLLABORATOR_REMOVED, extra__principal="user viewer").exists()


def test_remove_group_without_javascript_redirects(model: Any, owner: Any) -> None:
    team = GroupFactory.create(name="ops")
    add_collaborator(actor=owner, model=model, group=team, role=Role.VIEWER)
    client = client_for(owner)
    response = client.post(catalog_url("collaborator-remove", model), {"kind": "group", "name": "ops"})
    assert response.status_code == 302
    assert response["Location"] == "/models/churn-predictor/collaborators/"
    page = client.get(response["Location"])
    assert "Removed group ops from the collaborators." in page.text
    assert [row.text for row in table_rows(page.text) if "ops" in row.text] == []


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"kind": "user", "name": "owner"}, "owner owns this model and cannot be removed."),
        ({"kind": "user", "name": "outsider"}, "The user outsider is not a collaborator on this model."),
        ({"kind": "user", "name": "ghost"}, "No active user is called “ghost”."),
        ({"kind": "planet", "name": "viewer"}, "Select a valid choice."),
    ],
)
def test_remove_collaborator_errors_change_nothing(
    model: Any, owner: Any, viewer: Any, outsider: Any, data: dict[str, str], error: str
) -> None:
    entries = ActivityEntry.objects.count()
    response = client_for(owner).post(catalog_url("collaborator-remove", model), data, headers=HTMX)
    assert response.status_code == 200
    assert error in response.text
    assert ActivityEntry.objects.count() == entries
    assert permissions.can_view_model(viewer, fresh(model))
    assert permissions.may_manage_collaborators(owner, fresh(model))


def test_owner_who_demotes_themselves_gets_a_read_only_panel(owner: Any) -> None:
    boss = UserFactory.create(username="boss")
    model = ModelFactory.create(owner=boss, name="Shared")
    add_collaborator(actor=boss, model=model, user=owner, role=Role.OWNER)
    response = client_for(owner).post(
        catalog_url("collaborator-add", model), {"kind": "user", "name": "owner", "role": "viewer"}, headers=HTMX
    )
    assert "User owner now has the Viewer role." in response.text
    assert "Add a collaborator" not in response.text
    assert "Only owners of this model can change who collaborates on it." in response.text
