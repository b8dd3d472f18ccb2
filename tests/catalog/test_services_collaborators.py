"""add_collaborator and remove_collaborator: exactly the role's permissions granted or taken, for a user or a group,
the activity entry written and nothing changed on refusal."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from activity.models import Verb
from catalog import permissions
from catalog.models import RegisteredModel
from catalog.permissions import ROLE_PERMISSIONS, Role
from catalog.services import CatalogError, add_collaborator, remove_collaborator
from tests.factories import GroupFactory, ModelFactory, UserFactory
from tests.helpers import database_state, group_perms, last_entry, user_perms


@pytest.mark.parametrize("role", list(Role))
def test_add_user_collaborator_grants_exactly_the_role(model: RegisteredModel, owner: Any, role: Role) -> None:
    bob = UserFactory.create(username="bob")

    add_collaborator(actor=owner, model=model, user=bob, role=role)

    assert user_perms(model, bob) == set(ROLE_PERMISSIONS[role])
    entry = last_entry()
    assert entry.verb == Verb.COLLABORATOR_ADDED
    assert (entry.actor, entry.model, entry.version) == (owner, model, None)
    assert entry.extra == {"principal": "user bob", "role": role.label}


def test_add_collaborator_replaces_the_previous_role(model: RegisteredModel, owner: Any, editor: Any) -> None:
    add_collaborator(actor=owner, model=model, user=editor, role=Role.REVIEWER)

    assert user_perms(model, editor) == set(ROLE_PERMISSIONS[Role.REVIEWER])
    assert not permissions.may_edit_model(editor, RegisteredModel.objects.get(pk=model.pk))


def test_add_group_collaborator_grants_the_role_to_its_members(model: RegisteredModel, owner: Any) -> None:
    group = GroupFactory.create(name="risk-team")
    member = UserFactory.create(username="member")
    member.groups.add(group)

    add_collaborator(actor=owner, model=model, group=group, role=Role.EDITOR)

    assert group_perms(model, group) == set(ROLE_PERMISSIONS[Role.EDITOR])
    assert permissions.may_edit_model(member, RegisteredModel.objects.get(pk=model.pk))
    assert last_entry().extra == {"principal": "group risk-team", "role": "Editor"}


def test_add_group_collaborator_replaces_the_previous_role(model: RegisteredModel, owner: Any) -> None:
    group = GroupFactory.create(name="risk-team")
    add_collaborator(actor=owner, model=model, group=group, role=Role.OWNER)

    add_collaborator(actor=owner, model=model, group=group, role=Role.VIEWER)

    assert group_perms(model, group) == {permissions.VIEW}


@pytest.mark.parametrize("role", [Role.EDITOR, Role.REVIEWER, Role.VIEWER])
def test_the_model_owner_cannot_be_demoted(model: RegisteredModel, owner: Any, role: Role) -> None:
    before = database_state()

    with pytest.raises(CatalogError, match="owns this model"):
        add_collaborator(actor=owner, model=model, user=owner, role=role)

    assert database_state() == before
    assert user_perms(model, owner) == set(ROLE_PERMISSIONS[Role.OWNER])


def test_a_co_owner_cannot_demote_or_remove_the_model_owner(model: RegisteredModel, owner: Any) -> None:
    co_owner = UserFactory.create(username="co-owner")
    add_collaborator(actor=owner, model=model, user=co_owner, role=Role.OWNER)
    before = database_state()

    with pytest.raises(CatalogError):
        add_collaborator(actor=co_owner, model=model, user=owner, role=Role.VIEWER)
    with pytest.raises(CatalogError):
        remove_collaborator(actor=co_owner, model=model, user=owner)

    assert database_state() == before


def test_a_co_owner_may_manage_collaborators(model: RegisteredModel, owner: Any, viewer: Any) -> None:
    co_owner = UserFactory.create(username="co-owner")
    add_collaborator(actor=owner, model=model, user=co_owner, role=Role.OWNER)

    add_collaborator(actor=co_owner, model=model, user=viewer, role=Role.REVIEWER)

    assert user_perms(model, viewer) == set(ROLE_PERMISSIONS[Role.REVIEWER])


def test_a_superuser_may_manage_collaborators(model: RegisteredModel, viewer: Any) -> None:
    admin = UserFactory.create(username="root", is_superuser=True)

    remove_collaborator(actor=admin, model=model, user=viewer)

    assert user_perms(model, viewer) == set()
    assert last_entry().actor == admin


@pytest.mark.parametrize("persona", ["editor", "reviewer", "viewer", "outsider"])
def test_only_owners_may_manage_collaborators(
    request: pytest.FixtureRequest, model: RegisteredModel, viewer: Any, persona: str
) -> None:
    actor = request.getfixturevalue(persona)
    group = GroupFactory.create(name="risk-team")
    before = database_state()

    with pytest.raises(PermissionDenied):
        add_collaborator(actor=actor, model=model, user=actor, role=Role.OWNER)
    with pytest.raises(PermissionDenied):
        add_collaborator(actor=actor, model=model, group=group, role=Role.VIEWER)
    with pytest.raises(PermissionDenied):
        remove_collaborator(actor=actor, model=model, user=viewer)

    assert database_state() == before


def test_remove_user_collaborator(model: RegisteredModel, owner: Any, editor: Any) -> None:
    remove_collaborator(actor=owner, model=model, user=editor)

    assert user_perms(model, editor) == set()
    assert not permissions.can_view_model(editor, RegisteredModel.objects.get(pk=model.pk))
    entry = last_entry()
    assert entry.verb == Verb.COLLABORATOR_REMOVED
    assert (entry.actor, entry.model) == (owner, model)
    assert entry.extra == {"principal": "user editor"}


def test_remove_group_collaborator(model: RegisteredModel, owner: Any) -> None:
    group = GroupFactory.create(name="risk-team")
    add_collaborator(actor=owner, model=model, group=group, role=Role.REVIEWER)

    remove_collaborator(actor=owner, model=model, group=group)

    assert group_perms(model, group) == set()
    assert last_entry().extra == {"principal": "group risk-team"}


def test_the_model_owner_cannot_be_removed(model: RegisteredModel, owner: Any) -> None:
    before = database_state()

    with pytest.raises(CatalogError, match="cannot be removed"):
        remove_collaborator(actor=owner, model=model, user=owner)

    assert database_state() == before


def test_removing_a_non_collaborator_is_refused(model: RegisteredModel, owner: Any, outsider: Any) -> None:
    group = GroupFactory.create(name="strangers")
    before = database_state()

    with pytest.raises(CatalogError, match="not a collaborator"):
        remove_collaborator(actor=owner, model=model, user=outsider)
    with pytest.raises(CatalogError, match="not a collaborator"):
        remove_collaborator(actor=owner, model=model, group=group)

    assert database_state() == before


def test_a_role_on_another_model_does_not_make_a_collaborator(owner: Any, model: RegisteredModel, editor: Any) -> None:
    other = ModelFactory.create(owner=owner, name="Other")
    before = database_state()

    with pytest.raises(CatalogError, match="not a collaborator"):
        remove_collaborator(actor=owner, model=other, user=editor)

    assert database_state() == before
    assert user_perms(model, editor) == set(ROLE_PERMISSIONS[Role.EDITOR])


def test_collaborator_services_need_exactly_one_of_user_or_group(model: RegisteredModel, owner: Any) -> None:
    bob = UserFactory.create(username="bob")
    group = GroupFactory.create(name="risk-team")
    before = database_state()

    with pytest.raises(CatalogError, match="either a user or a group"):
        add_collaborator(actor=owner, model=model, role=Role.VIEWER)
    with pytest.raises(CatalogError, match="either a user or a group"):
        add_collaborator(actor=owner, model=model, user=bob, group=group, role=Role.VIEWER)
    with pytest.raises(CatalogError, match="either a user or a group"):
        remove_collaborator(actor=owner, model=model)

    assert database_state() == before
