"""Models and their versions: list (with the catalog's filters and `find`), get, register, edit, lock."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, QueryDict
from ninja import Field as F
from ninja import Query, Router, Schema, Status

from api.pagination import DEFAULT_LIMIT, keyset
from api.present import model_out, version_out
from api.schemas import (
    DataTypeName,
    LockIn,
    ModelIn,
    ModelOut,
    ModelPage,
    ModelPatch,
    StageName,
    TaskTypeName,
    VersionIn,
    VersionOut,
    VersionPage,
    VersionPatch,
)
from api.wiring import ERRORS, base_url, caller, created
from approvals import services as workflow
from approvals.permissions import may_set_lock_level
from catalog import find, permissions, selectors, services
from catalog.filters import CatalogFilter
from catalog.models import LockLevel, ModelVersion, RegisteredModel

router = Router(tags=["models and versions"])


class ModelFilters(Schema):
    find: str = F("", description="e.g. `labels == nlp and task_type == classification`", max_length=1000)
    q: str = F("", description="Words in the name or description.", max_length=200)
    stage: StageName | None = F(None, description="Has a version in this stage.")
    label: str = F("", max_length=50)
    owner: str = F("", max_length=150, description="The owner's username.")
    task_type: TaskTypeName | None = None
    data_type: DataTypeName | None = None
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT


class VersionFilters(Schema):
    find: str = F("", description="e.g. `stage == production`, `attributes.auc > 0.9`", max_length=1000)
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT


def _model(request: HttpRequest, slug: str) -> RegisteredModel:
    return selectors.get_model(who=caller(request).access, slug=slug)


def _version(request: HttpRequest, slug: str, name: str) -> ModelVersion:
    version = selectors.get_version(who=caller(request).access, slug=slug, name=name)
    return selectors.with_version_details(ModelVersion.objects.filter(pk=version.pk)).get()


def _versions_page(request: HttpRequest, versions: Any, filters: VersionFilters) -> dict[str, Any]:
    who = caller(request)
    rows, following = keyset(
        selectors.with_version_details(find.filter_versions(versions, filters.find)),
        cursor=filters.cursor,
        limit=filters.limit,
    )
    # Only a Redact version's artifacts depend on the caller's role: read their models' grants, in one query.
    who.access.prefetch(version.model for version in rows if version.lock_level == LockLevel.REDACT)
    return {"items": [version_out(v, access=who.access, base=base_url(request)) for v in rows], "next": following}


@router.get("/models", response={200: ModelPage, **ERRORS}, summary="List the models you may see, newest first")
def list_models(request: HttpRequest, filters: Query[ModelFilters]) -> dict[str, Any]:
    who = caller(request)
    params = QueryDict(mutable=True)
    for name in ("q", "stage", "label", "owner", "task_type", "data_type"):
        if value := getattr(filters, name):
            params[name] = value
    catalog_filter = CatalogFilter(params, queryset=selectors.visible_models(user=who.user))
    models = find.filter_models(catalog_filter.qs.select_related("owner"), filters.find)
    rows, following = keyset(selectors.with_labels(models), cursor=filters.cursor, limit=filters.limit)
    return {"items": [model_out(m, base=base_url(request)) for m in rows], "next": following}


@router.post("/models", response={201: ModelOut, **ERRORS}, summary="Register a model (you become its owner)")
def register_model(request: HttpRequest, payload: ModelIn) -> Status[dict[str, Any]]:
    model = services.register_model(actor=caller(request).user, **payload.model_dump())
    return created(model_out(model, base=base_url(request)))


@router.get("/models/{slug}", response={200: ModelOut, **ERRORS}, summary="A model, with its versions per stage")
def get_model(request: HttpRequest, slug: str) -> dict[str, Any]:
    return model_out(_model(request, slug), base=base_url(request))


@router.patch("/models/{slug}", response={200: ModelOut, **ERRORS}, summary="Edit a model's description, labels…")
def edit_model(request: HttpRequest, slug: str, payload: ModelPatch) -> dict[str, Any]:
    who, model = caller(request), _model(request, slug)
    permissions.may_edit_model(who.access, model).check_role()
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    current = {
        "description": model.description,
        "labels": [label.name for label in model.labels.all()],
        "task_type": model.task_type,
        "data_type": model.data_type,
    }
    model = services.edit_model(actor=who.user, model=model, **(current | changes))
    return model_out(model, base=base_url(request))


@router.get("/models/{slug}/versions", response={200: VersionPage, **ERRORS}, summary="A model's versions")
def list_model_versions(request: HttpRequest, slug: str, filters: Query[VersionFilters]) -> dict[str, Any]:
    return _versions_page(request, _model(request, slug).versions.all(), filters)


@router.post("/models/{slug}/versions", response={201: VersionOut, **ERRORS}, summary="Register a version")
def register_version(request: HttpRequest, slug: str, payload: VersionIn) -> Status[dict[str, Any]]:
    who, model = caller(request), _model(request, slug)
    permissions.may_register_version(who.access, model).check_role()
    version = services.register_version(actor=who.user, model=model, **payload.model_dump())
    return created(version_out(_version(request, slug, version.name), access=who.access, base=base_url(request)))


@router.get("/models/{slug}/versions/{version}", response={200: VersionOut, **ERRORS}, summary="A version")
def get_version(request: HttpRequest, slug: str, version: str) -> dict[str, Any]:
    return version_out(_version(request, slug, version), access=caller(request).access, base=base_url(request))


@router.patch("/models/{slug}/versions/{version}", response={200: VersionOut, **ERRORS}, summary="Edit a version")
def edit_version(request: HttpRequest, slug: str, version: str, payload: VersionPatch) -> dict[str, Any]:
    who, found = caller(request), _version(request, slug, version)
    permissions.may_edit_version(who.access, found).check_role()
    current = {
        "description": found.description,
        "labels": [label.name for label in found.labels.all()],
        "attributes": found.attributes,
        "artifact_uri": found.artifact_uri,
        "source_run_url": found.source_run_url,
    }
    services.edit_version(
        actor=who.user, version=found, **(current | payload.model_dump(exclude_unset=True, exclude_none=True))
    )
    return version_out(_version(request, slug, version), access=who.access, base=base_url(request))


@router.put(
    "/models/{slug}/versions/{version}/lock",
    response={200: VersionOut, **ERRORS},
    summary="Set a version's lock level (Editors raise it, Owners also lower it)",
)
def set_lock_level(request: HttpRequest, slug: str, version: str, payload: LockIn) -> dict[str, Any]:
    who, found = caller(request), _version(request, slug, version)
    may_set_lock_level(who.access, found, payload.lock_level).check_role()
    workflow.set_lock_level(actor=who.user, version=found, lock_level=payload.lock_level, comment=payload.comment)
    return version_out(_version(request, slug, version), access=who.access, base=base_url(request))


@router.get("/versions", response={200: VersionPage, **ERRORS}, summary="Versions of every model you may see")
def list_versions(request: HttpRequest, filters: Query[VersionFilters]) -> dict[str, Any]:
    return _versions_page(request, selectors.visible_versions(user=caller(request).user), filters)
