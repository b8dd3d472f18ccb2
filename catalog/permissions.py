"""Every permission decision about registered models, on top of guardian's object permissions."""

from __future__ import annotations

from typing import Any, TypeGuard, cast

from django.contrib.auth.models import AnonymousUser, Permission, User
from django.db import models
from django.db.models import Exists, OuterRef, Subquery
from guardian.core import ObjectPermissionChecker

from catalog.models import (
    RegisteredModel,
    RegisteredModelGroupObjectPermission,
    RegisteredModelUserObjectPermission,
    Visibility,
)

AnyUser = User | AnonymousUser

VIEW = "view_registeredmodel"
EDIT = "change_registeredmodel"
REQUEST = "request_stage_change"
REVIEW = "review_stage_change"
MANAGE = "manage_registeredmodel"
ALL_PERMISSIONS = frozenset({VIEW, EDIT, REQUEST, REVIEW, MANAGE})


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    EDITOR = "editor", "Editor"
    REVIEWER = "reviewer", "Reviewer"
    OWNER = "owner", "Owner"


ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.VIEWER: frozenset({VIEW}),
    Role.EDITOR: frozenset({VIEW, EDIT, REQUEST}),
    Role.REVIEWER: frozenset({VIEW, REVIEW}),
    Role.OWNER: ALL_PERMISSIONS,
}

ROLE_DESCRIPTIONS: dict[Role, str] = {
    Role.VIEWER: "view the model and its versions",
    Role.EDITOR: "view, comment, edit metadata, register versions, request stage changes",
    Role.REVIEWER: "view, comment, approve or reject stage changes",
    Role.OWNER: "everything, including collaborators, locks and the approval policy",
}


def role_for_permissions(perms: frozenset[str] | set[str]) -> Role | None:
    """Return the strongest role whose permissions the set holds, or None when it holds none."""
    for role in (Role.OWNER, Role.EDITOR, Role.REVIEWER, Role.VIEWER):
        if ROLE_PERMISSIONS[role] <= perms:
            return role
    return None


def _is_active_user(user: AnyUser) -> TypeGuard[User]:
    return isinstance(user, User) and user.is_active


def model_permissions(user: AnyUser, model: RegisteredModel) -> frozenset[str]:
    """Return the codenames user holds on model (directly, via groups or as superuser); cached per object."""
    if not _is_active_user(user):
        return frozenset()
    if user.is_superuser:
        return ALL_PERMISSIONS
    cache: dict[Any, frozenset[str]] = model.__dict__.setdefault("_permission_cache", {})
    if user.pk not in cache:
        perms = set(ObjectPermissionChecker(user).get_perms(model)) & ALL_PERMISSIONS
        if model.visibility == Visibility.ORGANIZATION:
            perms.add(VIEW)
        cache[user.pk] = frozenset(perms)
    return cache[user.pk]


def prefetch_model_permissions(user: AnyUser, models_: list[RegisteredModel]) -> None:
    """Load user's permissions on many models in two queries, so per-model checks on a list page cost none."""
    if not _is_active_user(user) or user.is_superuser or not models_:
        return
    checker = ObjectPermissionChecker(user)
    checker.prefetch_perms(cast(Any, models_))  # guardian documents any list of objects; its annotation says QuerySet
    for model in models_:
        cache: dict[Any, frozenset[str]] = model.__dict__.setdefault("_permission_cache", {})
        perms = set(checker.get_perms(model)) & ALL_PERMISSIONS
        if model.visibility == Visibility.ORGANIZATION:
            perms.add(VIEW)
        cache[user.pk] = frozenset(perms)


def can_view_model(user: AnyUser, model: RegisteredModel) -> bool:
    """Whether user may see model at all (otherwise it is a 404 for them)."""
    return VIEW in model_permissions(user, model)


def can_edit_model(user: AnyUser, model: RegisteredModel) -> bool:
    """Whether user may edit the model's metadata and register versions (Editors and Owners)."""
    return EDIT in model_permissions(user, model)


def can_request_stage_change(user: AnyUser, model: RegisteredModel) -> bool:
    """Whether user may request stage changes of the model's versions (Editors and Owners)."""
    return REQUEST in model_permissions(user, model)


def can_review_stage_change(user: AnyUser, model: RegisteredModel) -> bool:
    """Whether user may approve or reject stage change requests on the model (Reviewers and Owners)."""
    return REVIEW in model_permissions(user, model)


def can_manage_model(user: AnyUser, model: RegisteredModel) -> bool:
    """Whether user may manage collaborators, visibility, locks and the approval policy (Owners)."""
    return MANAGE in model_permissions(user, model)


def can_register_model(user: AnyUser) -> bool:
    """Whether user may register a new model: any active signed-in user, who becomes its owner."""
    return _is_active_user(user)


def can_see_redacted(user: AnyUser, model: RegisteredModel) -> bool:
    """Whether user may see the artifact location of a version whose lock level is Redact (Owners)."""
    return can_manage_model(user, model)


def _holds(user: User, codename: str, *, correlated: bool) -> models.Q:
    """A filter on RegisteredModel: user holds codename on the model, directly or through a group.

    Two forms, for two shapes of query. An IN list is built once per query from the user's grants, which suits
    counts and scans over every model. A correlated EXISTS probes the grants' unique (user or group, permission,
    object) index per row, which suits a query that stops after a few rows, whatever the number of grants.
    """
    direct = RegisteredModelUserObjectPermission.objects.filter(user=user, permission__codename=codename)
    via_group = RegisteredModelGroupObjectPermission.objects.filter(group__user=user, permission__codename=codename)
    if correlated:
        # The permission's id from a one-off subquery: joined by codename instead, SQLite walks all of the user's
        # grants for every row rather than probing the index on (user, permission, object).
        permission = Subquery(
            Permission.objects.filter(content_type__app_label="catalog", codename=codename).values("pk")[:1]
        )
        direct = RegisteredModelUserObjectPermission.objects.filter(user=user, permission_id=permission)
        via_group = RegisteredModelGroupObjectPermission.objects.filter(group__user=user, permission_id=permission)
        return models.Q(Exists(direct.filter(content_object_id=OuterRef("pk")))) | models.Q(
            Exists(via_group.filter(content_object_id=OuterRef("pk")))
        )
    return models.Q(pk__in=direct.values("content_object_id")) | models.Q(pk__in=via_group.values("content_object_id"))


def reviewable_models_filter(user: AnyUser, *, correlated: bool = False) -> models.Q:
    """A filter on RegisteredModel matching the models whose stage changes user may review (see _holds)."""
    if not _is_active_user(user):
        return models.Q(pk__in=[])
    if user.is_superuser:
        return models.Q()
    return _holds(user, REVIEW, correlated=correlated)


def viewable_models_filter(user: AnyUser, *, correlated: bool = False) -> models.Q:
    """A filter on RegisteredModel matching exactly the models user may view (see _holds for the two forms)."""
    if not _is_active_user(user):
        return models.Q(pk__in=[])
    if user.is_superuser:
        return models.Q()
    return models.Q(visibility=Visibility.ORGANIZATION) | _holds(user, VIEW, correlated=correlated)
