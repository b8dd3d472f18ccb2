"""Reads of the catalog, always limited to what the user may see."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.http import Http404, QueryDict

from approvals.models import StageChangeRequest, Status
from catalog import permissions
from catalog.filters import VersionSearchFilter
from catalog.find import FindError, filter_versions
from catalog.models import (
    STAGE_ORDER,
    Label,
    ModelVersion,
    RegisteredModel,
    RegisteredModelGroupObjectPermission,
    RegisteredModelUserObjectPermission,
    Stage,
    stage_count_field,
)
from catalog.permissions import AnyUser, Role, Who
from core.keyset import KeysetPage, keyset_page, without_cursor


def visible_models(*, user: AnyUser, paged: bool = False) -> QuerySet[RegisteredModel]:
    """Models user may view; paged: for a query that walks an index and stops after a page, which then checks each
    row's grants with a probe on PostgreSQL instead of first listing every model the user holds a grant on."""
    if not (paged and permissions.probe_grants_per_row()):
        return RegisteredModel.objects.filter(permissions.viewable_models_filter(user))
    # As visible_versions: each row's grants probed through its primary key. The probes straight in the WHERE clause
    # are planned as a hash of every model the user holds a grant on, built before the first row (9 ms at 10,000).
    viewable = RegisteredModel.objects.filter(
        permissions.viewable_models_filter(user, correlated=True), pk=OuterRef("pk")
    )
    return RegisteredModel.objects.filter(Exists(viewable))


def visible_versions(*, user: AnyUser) -> QuerySet[ModelVersion]:
    """Versions of the models user may view."""
    # A correlated EXISTS lets the database walk a version index (newest first) and stop at the page size,
    # checking each version's model by primary key; an IN list or a join on the OR makes it visit every model.
    walk = permissions.probe_grants_per_row()
    viewable = RegisteredModel.objects.filter(
        permissions.viewable_models_filter(user, correlated=walk), pk=OuterRef("model_id")
    )
    return ModelVersion.objects.filter(Exists(viewable))


@dataclass
class VersionSearch:
    filter: VersionSearchFilter  # the quick filters (stage, pending request)
    find: str  # the find= text as given
    find_error: str  # why that text cannot run (a FindError's message), or ""
    page: KeysetPage[ModelVersion]


def search_versions(*, user: AnyUser, params: QueryDict, size: int) -> VersionSearch:
    """A page of the versions user may view that match params' find= text and quick filters, newest first, with their
    models; a search that cannot run, or an invalid quick filter, lists nothing and says why."""
    text = params.get("find", "")
    version_filter = VersionSearchFilter(without_cursor(params) or None, queryset=visible_versions(user=user))
    nothing = KeysetPage[ModelVersion]([], params=params)
    if version_filter.is_bound and not version_filter.is_valid():  # the page shows the filter's errors
        return VersionSearch(version_filter, text, "", nothing)
    try:
        found = filter_versions(version_filter.qs, text)
    except FindError as error:
        return VersionSearch(version_filter, text, error.message, nothing)
    page = keyset_page(found.select_related("model"), params, size=size)
    return VersionSearch(version_filter, text, "", page)


SUGGESTIONS = 10


def label_suggestions(*, user: AnyUser, text: str, limit: int = SUGGESTIONS) -> list[str]:
    """Names of labels containing text (any case) that a model user may view carries, alphabetically, at most limit."""
    text = text.strip().lower()
    if not text:
        return []
    # A label is suggested only when a model user may view carries it: the names of private models' labels stay
    # private. The trigram index on the label's name finds the candidates; the probe checks each one's models.
    carried = RegisteredModel.objects.filter(
        permissions.viewable_models_filter(user, correlated=True), labels=OuterRef("pk")
    )
    found = Label.objects.filter(Exists(carried), name__icontains=text).order_by("name")
    return list(found.values_list("name", flat=True)[:limit])


def owner_suggestions(*, user: AnyUser, text: str, limit: int = SUGGESTIONS) -> list[str]:
    """Usernames starting with text (any case) of owners of models user may view, alphabetically, at most limit."""
    text = text.strip()
    if not text:
        return []
    owned = RegisteredModel.objects.filter(
        permissions.viewable_models_filter(user, correlated=True), owner=OuterRef("pk")
    )
    found = get_user_model().objects.filter(Exists(owned), username__istartswith=text).order_by("username")
    return list(found.values_list("username", flat=True)[:limit])


def page_suggestions(models_: list[RegisteredModel]) -> dict[str, list[str]]:
    """The labels and owners of the models on a page (already read with them: no query), for the filters' datalists
    before anything is typed, and without JavaScript."""
    labels = sorted({label.name for model in models_ for label in model.labels.all()})
    owners = sorted({model.owner.get_username() for model in models_})
    return {"label_options": labels, "owner_options": owners}


def get_model(*, who: Who, slug: str) -> RegisteredModel:
    """The model with this slug; raises Http404 when it does not exist or the user may not view it."""
    model = RegisteredModel.objects.select_related("owner").filter(slug=slug).first()
    if model is None or not permissions.can_view_model(who, model):
        raise Http404("No such model.")
    return model


def get_version(*, who: Who, slug: str, name: str, details: bool = True) -> ModelVersion:
    """The version of a model the user may view, with its labels and aliases unless details is False (an action on
    it that shows neither); raises Http404 otherwise."""
    if "\x00" in name:  # no version name holds NUL, and PostgreSQL refuses it in a query (a 500, not a 404)
        get_model(who=who, slug=slug)  # "No such model" first, when the user may not see it
        raise Http404("No such version.")
    # The version with its model in one query; only a miss reads the model alone, to say which one is missing. An
    # action needs neither the model's owner nor the version's author (half the columns: building the statement took
    # longer than running it).
    versions = ModelVersion.objects.select_related("model")
    if details:
        versions = versions.select_related("model__owner", "created_by").prefetch_related("labels", "aliases")
    version = versions.filter(model__slug=slug, name=name).first()
    if version is None:
        get_model(who=who, slug=slug)
        raise Http404("No such version.")
    if not permissions.can_view_model(who, version.model):
        raise Http404("No such model.")
    return version


def with_labels(queryset: QuerySet[Any]) -> QuerySet[Any]:
    return queryset.prefetch_related(Prefetch("labels", queryset=Label.objects.order_by("name")))


@dataclass(frozen=True)
class StageCount:
    stage: Stage
    count: int


def stage_counts(model: RegisteredModel) -> list[StageCount]:
    """The number of the model's versions in each stage, in stage order (no query: the model row holds them)."""
    return [StageCount(stage=stage, count=getattr(model, stage_count_field(stage))) for stage in STAGE_ORDER]


def production_versions(*, model: RegisteredModel, limit: int = 10) -> list[ModelVersion]:
    """The model's versions in Production, most recently promoted first."""
    return list(
        ModelVersion.objects.filter(model=model, stage=Stage.PRODUCTION).order_by("-stage_changed_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class Collaborator:
    kind: str  # "user" or "group"
    name: str
    role: Role | None
    is_model_owner: bool


def collaborators(*, model: RegisteredModel) -> list[Collaborator]:
    """Users and groups with a role on model, owners first, in two queries."""
    user_perms: dict[tuple[str, int], set[str]] = defaultdict(set)
    names: dict[tuple[str, int], str] = {}
    for row in RegisteredModelUserObjectPermission.objects.filter(content_object=model).select_related(
        "user", "permission"
    ):
        key = ("user", row.user_id)
        user_perms[key].add(row.permission.codename)
        names[key] = row.user.get_username()
    for grow in RegisteredModelGroupObjectPermission.objects.filter(content_object=model).select_related(
        "group", "permission"
    ):
        key = ("group", grow.group_id)
        user_perms[key].add(grow.permission.codename)
        names[key] = grow.group.name
    order = {Role.OWNER: 0, Role.EDITOR: 1, Role.REVIEWER: 2, Role.VIEWER: 3, None: 4}
    result = [
        Collaborator(
            kind=kind,
            name=names[(kind, pk)],
            role=permissions.role_for_permissions(perms),
            is_model_owner=kind == "user" and pk == model.owner_id,
        )
        for (kind, pk), perms in user_perms.items()
    ]
    return sorted(result, key=lambda c: (not c.is_model_owner, order[c.role], c.kind != "user", c.name.lower()))


def with_version_details(queryset: QuerySet[ModelVersion]) -> QuerySet[ModelVersion]:
    """Versions with their model, registrar, labels, aliases and pending request's id (pending_request_id), in three
    queries."""
    pending = StageChangeRequest.objects.filter(version=OuterRef("pk"), status=Status.PENDING).values("pk")[:1]
    return with_labels(
        queryset.select_related("model", "model__owner", "created_by").prefetch_related("aliases")
    ).annotate(pending_request_id=Subquery(pending))


COMPARE_CHOICES = 100  # the latest versions offered in the compare page's selects


def versions_to_compare(*, who: Who, slug: str, names: list[str]) -> tuple[RegisteredModel, list[ModelVersion]]:
    """The model and its versions named, in the order named, as the version page reads them; raises Http404 when
    the user may not view the model or a name is not one of its versions."""
    model = get_model(who=who, slug=slug)
    if any("\x00" in name for name in names):
        raise Http404("No such version.")
    found = {
        version.name: version
        for version in with_labels(model.versions.select_related("created_by")).filter(name__in=names)
    }
    if any(name not in found for name in names):
        raise Http404("No such version.")
    for version in found.values():
        version.model = model
    return model, [found[name] for name in names]


def compare_choices(*, model: RegisteredModel) -> list[str]:
    """The names of model's latest versions, newest first, for choosing what to compare."""
    return list(model.versions.order_by("-created_at", "-pk").values_list("name", flat=True)[:COMPARE_CHOICES])
