"""Who may do what on a registered model: each role, via a user or a group, on private and organization models."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from catalog import permissions
from catalog.models import LockLevel, ModelVersion, RegisteredModel
from catalog.permissions import (
    ALL_PERMISSIONS,
    EDIT,
    MANAGE,
    REQUEST,
    REVIEW,
    ROLE_PERMISSIONS,
    VIEW,
    Role,
    role_for_permissions,
    viewable_models_filter,
)
from catalog.services import add_collaborator, remove_collaborator
from tests.factories import GroupFactory, ModelFactory, UserFactory
from tests.helpers import fresh


def _holds(codename: str) -> Callable[[Any, RegisteredModel], bool]:
    return lambda user, model: permissions.Access(user).holds(model, codename)


ABILITIES: dict[str, Callable[[Any, RegisteredModel], bool]] = {
    "view": permissions.can_view_model,
    "edit": lambda user, model: bool(permissions.may_edit_model(user, model)),
    "request": _holds(REQUEST),
    "review": _holds(REVIEW),
    "manage": lambda user, model: bool(permissions.may_manage_collaborators(user, model)),
}
EVERYTHING = frozenset(ABILITIES)
NOTHING: frozenset[str] = frozenset()

# What each persona may do on the private model `model`, where the collaborators hold their roles.
PRIVATE_MODEL_ABILITIES: dict[str, frozenset[str]] = {
    "owner": EVERYTHING,
    "editor": frozenset({"view", "edit", "request"}),
    "reviewer": frozenset({"view", "review"}),
    "viewer": frozenset({"view"}),
    "outsider": NOTHING,
    "anonymous": NOTHING,
    "superuser": EVERYTHING,
    "group_editor": frozenset({"view", "edit", "request"}),
    "group_reviewer": frozenset({"view", "review"}),
}


def _group_member(model: RegisteredModel, owner: Any, username: str, role: Role) -> Any:
    group = GroupFactory.create(name=f"{username}-group")
    add_collaborator(actor=owner, model=model, group=group, role=role)
    user = UserFactory.create(username=username)
    user.groups.add(group)
    return user


@pytest.fixture
def group_editor(model: RegisteredModel, owner: Any) -> Any:
    return _group_member(model, owner, "group-editor", Role.EDITOR)


@pytest.fixture
def group_reviewer(model: RegisteredModel, owner: Any) -> Any:
    return _group_member(model, owner, "group-reviewer", Role.REVIEWER)


def _abilities(user: Any, model: RegisteredModel) -> frozenset[str]:
    return frozenset(name for name, check in ABILITIES.items() if check(user, model))


@pytest.mark.parametrize(("persona", "expected"), PRIVATE_MODEL_ABILITIES.items(), ids=PRIVATE_MODEL_ABILITIES)
@pytest.mark.parametrize("ability", ABILITIES)
def test_private_model_matrix(
    request: pytest.FixtureRequest, model: RegisteredModel, persona: str, expected: frozenset[str], ability: str
) -> None:
    user = request.getfixturevalue(persona)

    assert ABILITIES[ability](user, fresh(model)) is (ability in expected)


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("owner", EVERYTHING),
        ("superuser", EVERYTHING),
        ("anonymous", NOTHING),
        # Roles on the private model grant nothing on this one; being signed in grants viewing, no more.
        ("editor", frozenset({"view"})),
        ("reviewer", frozenset({"view"})),
        ("viewer", frozenset({"view"})),
        ("group_editor", frozenset({"view"})),
        ("outsider", frozenset({"view"})),
    ],
)
@pytest.mark.parametrize("ability", ABILITIES)
def test_organization_model_matrix(
    request: pytest.FixtureRequest, org_model: RegisteredModel, persona: str, expected: frozenset[str], ability: str
) -> None:
    user = request.getfixturevalue(persona)

    assert ABILITIES[ability](user, fresh(org_model)) is (ability in expected)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.VIEWER, frozenset({"view"})),
        (Role.EDITOR, frozenset({"view", "edit", "request"})),
        (Role.REVIEWER, frozenset({"view", "review"})),
        (Role.OWNER, EVERYTHING),
    ],
)
@pytest.mark.parametrize("via", ["user", "group"])
def test_roles_on_an_organization_model_add_to_viewing(
    org_model: RegisteredModel, owner: Any, role: Role, expected: frozenset[str], via: str
) -> None:
    user = UserFactory.create(username="collaborator")
    if via == "user":
        add_collaborator(actor=owner, model=org_model, user=user, role=role)
    else:
        group = GroupFactory.create(name="team")
        user.groups.add(group)
        add_collaborator(actor=owner, model=org_model, group=group, role=role)

    assert _abilities(user, fresh(org_model)) == expected


def test_user_and_group_roles_add_up(model: RegisteredModel, owner: Any, reviewer: Any) -> None:
    group = GroupFactory.create(name="editors")
    reviewer.groups.add(group)
    add_collaborator(actor=owner, model=model, group=group, role=Role.EDITOR)

    assert _abilities(reviewer, fresh(model)) == frozenset({"view", "edit", "request", "review"})


@pytest.mark.parametrize("persona", ["owner", "editor", "viewer", "superuser", "group_editor"])
def test_inactive_users_get_nothing(
    request: pytest.FixtureRequest, model: RegisteredModel, org_model: RegisteredModel, persona: str
) -> None:
    user = request.getfixturevalue(persona)
    user.is_active = False
    user.save(update_fields=["is_active"])

    assert _abilities(user, fresh(model)) == NOTHING
    assert _abilities(user, fresh(org_model)) == NOTHING
    assert not RegisteredModel.objects.filter(viewable_models_filter(user)).exists()
    assert bool(permissions.may_register_model(user)) is False


def test_removed_collaborator_loses_access(model: RegisteredModel, owner: Any, editor: Any) -> None:
    remove_collaborator(actor=owner, model=model, user=editor)

    assert _abilities(editor, fresh(model)) == NOTHING


def test_only_active_signed_in_users_may_register_models(owner: Any, anonymous: AnonymousUser) -> None:
    assert bool(permissions.may_register_model(owner)) is True
    assert bool(permissions.may_register_model(anonymous)) is False


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [("owner", True), ("superuser", True), ("editor", False), ("reviewer", False), ("viewer", False)],
)
def test_only_owners_see_redacted_artifacts(
    request: pytest.FixtureRequest, version: ModelVersion, persona: str, allowed: bool
) -> None:
    version.lock_level = LockLevel.REDACT
    assert bool(permissions.may_see_artifacts(request.getfixturevalue(persona), version)) is allowed


# viewable_models_filter


@pytest.fixture
def catalog_models(owner: Any, model: RegisteredModel, org_model: RegisteredModel) -> dict[str, RegisteredModel]:
    """Besides `model` (private) and `org_model`: a private model of a stranger shared with a group only."""
    stranger = UserFactory.create(username="stranger")
    secret = ModelFactory.create(owner=stranger, name="Stranger Secret", visibility="private")
    shared = ModelFactory.create(owner=stranger, name="Shared With Group", visibility="private")
    group = GroupFactory.create(name="partners")
    add_collaborator(actor=stranger, model=shared, group=group, role=Role.VIEWER)
    return {"model": model, "org_model": org_model, "secret": secret, "shared": shared}


def _visible_names(user: Any) -> set[str]:
    return set(RegisteredModel.objects.filter(viewable_models_filter(user)).values_list("name", flat=True))


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("owner", {"Churn Predictor", "Open Model"}),
        ("editor", {"Churn Predictor", "Open Model"}),
        ("reviewer", {"Churn Predictor", "Open Model"}),
        ("viewer", {"Churn Predictor", "Open Model"}),
        ("group_editor", {"Churn Predictor", "Open Model"}),
        ("outsider", {"Open Model"}),
        ("anonymous", set()),
        ("superuser", {"Churn Predictor", "Open Model", "Stranger Secret", "Shared With Group"}),
    ],
)
def test_viewable_models_filter_matches_exactly_the_viewable_models(
    request: pytest.FixtureRequest, catalog_models: dict[str, RegisteredModel], persona: str, expected: set[str]
) -> None:
    user = request.getfixturevalue(persona)

    assert _visible_names(user) == expected
    assert expected == {m.name for m in RegisteredModel.objects.all() if permissions.can_view_model(user, m)}


def test_viewable_models_filter_includes_models_shared_with_the_users_groups(
    catalog_models: dict[str, RegisteredModel], outsider: Any
) -> None:
    outsider.groups.add(GroupFactory.create(name="partners"))

    assert _visible_names(outsider) == {"Open Model", "Shared With Group"}


def test_viewable_models_filter_returns_no_duplicates(model: RegisteredModel, owner: Any, viewer: Any) -> None:
    group = GroupFactory.create(name="viewers")
    viewer.groups.add(group)
    add_collaborator(actor=owner, model=model, group=group, role=Role.VIEWER)

    assert list(RegisteredModel.objects.filter(viewable_models_filter(viewer)).values_list("name", flat=True)) == [
        "Churn Predictor"
    ]


# role_for_permissions


@pytest.mark.parametrize("role", list(Role))
def test_role_for_permissions_names_each_role(role: Role) -> None:
    assert role_for_permissions(ROLE_PERMISSIONS[role]) == role


@pytest.mark.parametrize(
    ("perms", "expected"),
    [
        (set(), None),
        ({EDIT}, None),
        ({REVIEW, MANAGE}, None),
        ({VIEW, EDIT}, Role.VIEWER),
        ({VIEW, EDIT, REQUEST, REVIEW}, Role.EDITOR),
        (set(ALL_PERMISSIONS) | {"some_other_codename"}, Role.OWNER),
    ],
)
def test_role_for_permissions_picks_the_strongest_role_held(perms: set[str], expected: Role | None) -> None:
    assert role_for_permissions(perms) == expected


def test_role_permissions_nest() -> None:
    assert ROLE_PERMISSIONS[Role.VIEWER] < ROLE_PERMISSIONS[Role.EDITOR] < ROLE_PERMISSIONS[Role.OWNER]
    assert ROLE_PERMISSIONS[Role.VIEWER] < ROLE_PERMISSIONS[Role.REVIEWER] < ROLE_PERMISSIONS[Role.OWNER]
    assert ROLE_PERMISSIONS[Role.OWNER] == ALL_PERMISSIONS
