"""The MLflow registry REST API (/api/2.0/mlflow/registered-models/…, model-versions/…) over our services.

Each endpoint finds what it acts on as the caller may see it, asks the same decision as the pages and calls the
same service, so permissions, locks and the activity log hold as they do in the browser. Stage changes are the
exception MLflow's client knows nothing of: transition-stage never bypasses approval.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Aggregate, F, JSONField, OuterRef, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest

from catalog import permissions, selectors, services
from catalog.models import Alias, LockLevel, ModelVersion, RegisteredModel
from catalog.permissions import Access
from mlflow_compat import search
from mlflow_compat.http import Params, endpoint, required, text
from mlflow_compat.translate import (
    MODEL_COLUMNS,
    VERSION_COLUMNS,
    MlflowError,
    artifacts_visible,
    model_row,
    model_stub,
    model_version_json,
    registered_model_json,
    stage_from_mlflow,
    version_json,
)

# What MLflow's server allows (mlflow/store/model_registry/__init__.py).
MODELS_PAGE, MODELS_MOST = 100, 1_000
VERSIONS_PAGE, VERSIONS_MOST = 10_000, 200_000


def get_model(access: Access, name: str) -> RegisteredModel:
    """The model named name (MLflow names are exact), if the caller may see it; else RESOURCE_DOES_NOT_EXIST."""
    model = RegisteredModel.objects.select_related("owner").filter(name=name).first()
    if model is None or not permissions.can_view_model(access, model):
        raise MlflowError("RESOURCE_DOES_NOT_EXIST", f"Registered Model with name={name} not found")
    return model


def get_version(access: Access, name: str, version: Any) -> ModelVersion:
    """Version number `version` of the model named name; else RESOURCE_DOES_NOT_EXIST."""
    model = get_model(access, name)
    try:
        number = int(str(version))
    except ValueError as error:
        raise MlflowError("INVALID_PARAMETER_VALUE", f"Version must be an integer, got '{version}'.") from error
    found = ModelVersion.objects.select_related("created_by").filter(model=model, number=number).first()
    if found is None:
        raise MlflowError("RESOURCE_DOES_NOT_EXIST", f"Model Version (name={name}, version={version}) not found")
    found.model = model
    return found


def _edit_verdict(access: Access, version: ModelVersion) -> None:
    """A version the caller may not edit, or a locked one: PERMISSION_DENIED with the page's sentence."""
    verdict = permissions.may_edit_version(access, version)
    if not verdict:
        raise MlflowError("PERMISSION_DENIED", verdict.reason)


def _version_json(access: Access, version: ModelVersion) -> dict[str, Any]:
    aliases = Alias.objects.filter(version=version).values_list("name", flat=True)
    return model_version_json(version, access=access, aliases=aliases)


def _models_json(access: Access, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Model rows (MODEL_COLUMNS) with their latest version per stage and their aliases, in two queries for the whole
    list (three when a version is redacted). Rows, not instances: a page of 100 models has up to 500 latest
    versions, and building model instances for them took most of the time of a search."""
    ids = [row["pk"] for row in rows]
    # The highest number in each (model, stage), by a window over the versions of these models only.
    rank = Window(RowNumber(), partition_by=[F("model_id"), F("stage")], order_by=F("number").desc())
    latest: dict[int, list[dict[str, Any]]] = {}
    for version in (
        ModelVersion.objects.filter(model_id__in=ids)
        .annotate(rank=rank)
        .filter(rank=1)
        .order_by()
        .values(*VERSION_COLUMNS)
    ):
        latest.setdefault(version["model_id"], []).append(version)
    aliases: dict[int, list[tuple[str, int, int]]] = {}
    for model_id, alias_name, version_id, number in Alias.objects.filter(model_id__in=ids).values_list(
        "model_id", "name", "version_id", "version__number"
    ):
        aliases.setdefault(model_id, []).append((alias_name, version_id, number))
    visibility = {row["pk"]: row["visibility"] for row in rows}
    redacted = {v["model_id"] for versions in latest.values() for v in versions if v["lock_level"] == LockLevel.REDACT}
    access.prefetch(model_stub(pk, visibility[pk]) for pk in redacted)
    return [
        registered_model_json(row, access=access, latest=latest.get(row["pk"], ()), aliases=aliases.get(row["pk"], ()))
        for row in rows
    ]


def _model_json(access: Access, model: RegisteredModel) -> dict[str, Any]:
    return _models_json(access, [model_row(model)])[0]


def _page(queryset: QuerySet[Any], params: Params, *, default: int, most: int) -> tuple[list[Any], str | None]:
    size = search.bounded(params.get("max_results"), default=default, most=most)
    offset = search.offset_of(text(params, "page_token") or None)
    rows = list(queryset[offset : offset + size + 1])
    following = search.page_token(offset + size) if len(rows) > size else None
    return rows[:size], following


# Registered models -------------------------------------------------------------------------------------------------


@endpoint("POST")
def create_registered_model(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    (name,) = required(params, "name")
    if RegisteredModel.objects.filter(name__iexact=str(name).strip()).exists():
        raise MlflowError("RESOURCE_ALREADY_EXISTS", f"Registered Model (name={name}) already exists.")
    tags = {tag["key"]: str(tag.get("value", "")) for tag in params.get("tags") or []}
    model = services.register_model(
        actor=user, name=str(name), description=text(params, "description"), attributes=tags
    )
    return {"registered_model": _model_json(access, model)}


@endpoint("GET")
def get_registered_model(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    (name,) = required(params, "name")
    return {"registered_model": _model_json(access, get_model(access, str(name)))}


@endpoint("POST")
def rename_registered_model(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    name, _ = required(params, "name", "new_name")
    get_model(access, str(name))
    raise MlflowError(
        "PERMISSION_DENIED",
        "Model Catalog keeps a model's name for good: its pages, links and activity log refer to it. "
        "Register a model under the new name instead.",
    )


@endpoint("PATCH")
def update_registered_model(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    (name,) = required(params, "name")
    model = get_model(access, str(name))
    model = services.edit_model(
        actor=user,
        model=model,
        description=text(params, "description"),
        labels=[label.name for label in model.labels.all()],
        task_type=model.task_type,
        data_type=model.data_type,
    )
    return {"registered_model": _model_json(access, model)}


@endpoint("DELETE")
def delete_registered_model(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    (name,) = required(params, "name")
    get_model(access, str(name))
    raise MlflowError(
        "PERMISSION_DENIED",
        "Model Catalog never deletes a model: its activity log is kept for audit. Archive its versions instead.",
    )


@endpoint("GET")
def search_registered_models(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    visible = selectors.visible_models(user=user, paged=True)
    models = search.apply_filter(visible, text(params, "filter"), fields=search.MODEL_FIELDS)
    order = search.order_fields(_list(params.get("order_by")), keys=search.MODEL_ORDER, default=["name", "pk"])
    rows, following = _page(
        models.order_by(*order).values(*MODEL_COLUMNS), params, default=MODELS_PAGE, most=MODELS_MOST
    )
    answer: dict[str, Any] = {"registered_models": _models_json(access, rows)}
    return answer | ({"next_page_token": following} if following else {})


@endpoint("POST", "GET")
def get_latest_versions(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    (name,) = required(params, "name")
    model = get_model(access, str(name))
    latest = _model_json(access, model)["latest_versions"]
    stages = {stage_from_mlflow(s) for s in _list(params.get("stages"))}
    if stages:
        latest = [v for v in latest if stage_from_mlflow(v["current_stage"]) in stages]
    return {"model_versions": latest}


@endpoint("POST")
def set_registered_model_tag(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    name, key = required(params, "name", "key")
    model = get_model(access, str(name))
    services.set_attribute(actor=user, target=model, key=str(key), value=text(params, "value"))
    return {}


@endpoint("DELETE")
def delete_registered_model_tag(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    name, key = required(params, "name", "key")
    services.delete_attribute(actor=user, target=get_model(access, str(name)), key=str(key))
    return {}


@endpoint("POST", "DELETE", "GET")
def alias(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    name, alias_name = required(params, "name", "alias")
    model = get_model(access, str(name))
    if request.method == "POST":
        (number,) = required(params, "version")
        services.set_alias(actor=user, version=get_version(access, str(name), number), alias=str(alias_name))
        return {}
    if request.method == "DELETE":
        services.delete_alias(actor=user, model=model, alias=str(alias_name))
        return {}
    found = Alias.objects.select_related("version__created_by").filter(model=model, name=alias_name).first()
    if found is None:
        raise MlflowError("INVALID_PARAMETER_VALUE", f"Registered model alias {alias_name} not found.")
    found.version.model = model
    return {"model_version": _version_json(access, found.version)}


# Model versions ----------------------------------------------------------------------------------------------------


@endpoint("POST")
def create_model_version(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    name, source = required(params, "name", "source")
    model = get_model(access, str(name))
    tags = {tag["key"]: str(tag.get("value", "")) for tag in params.get("tags") or []}
    version = services.register_version(
        actor=user,
        model=model,
        name=None,  # named by its number, as MLflow numbers versions
        description=text(params, "description"),
        attributes=tags,
        artifact_uri=str(source),
        source_run_url=text(params, "run_link"),
        run_id=text(params, "run_id"),
    )
    return {"model_version": _version_json(access, version)}


@endpoint("GET")
def get_model_version(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    name, number = required(params, "name", "version")
    return {"model_version": _version_json(access, get_version(access, str(name), number))}


@endpoint("PATCH")
def update_model_version(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    name, number = required(params, "name", "version")
    version = get_version(access, str(name), number)
    _edit_verdict(access, version)
    version = services.edit_version(
        actor=user,
        version=version,
        description=text(params, "description"),
        labels=[label.name for label in version.labels.all()],
        attributes=version.attributes,
        artifact_uri=version.artifact_uri,
        source_run_url=version.source_run_url,
    )
    return {"model_version": _version_json(access, version)}


@endpoint("DELETE")
def delete_model_version(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    name, number = required(params, "name", "version")
    get_version(access, str(name), number)
    raise MlflowError(
        "PERMISSION_DENIED",
        "Model Catalog never deletes a version: its history stays in the activity log. Request a move to "
        "Archived instead (POST /api/2.0/mlflow/transition-requests/create with stage=Archived).",
    )


@endpoint("POST")
def transition_stage(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    name, number, stage = required(params, "name", "version", "stage")
    version = get_version(access, str(name), number)
    stage_from_mlflow(str(stage))
    page = request.build_absolute_uri(version.get_absolute_url())
    raise MlflowError(
        "PERMISSION_DENIED",
        "Stage changes in Model Catalog need approval, so transition-stage never changes a stage. Request the "
        f"change instead: POST /api/2.0/mlflow/transition-requests/create with name, version and stage; or with "
        f"the modelcatalog client, model_ver.change_stage(...); or on the version page: {page}",
    )


class _AliasNames(Aggregate):
    """The names of a group of aliases as one JSON list (aliases travel in their version's row: a query fewer)."""

    function = "JSON_GROUP_ARRAY"  # SQLite's
    output_field = JSONField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="JSONB_AGG", **extra)


@endpoint("GET")
def search_model_versions(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    filter_text = text(params, "filter")
    # A filter naming one model exactly, as the client's search_model_versions("name='…'") mostly does, lists the
    # versions of that model or none: it is decided once, as registered-models/get decides (can_view_model), from
    # the rows, rather than per row in the query (a nest of subqueries that took the ORM longer to build than the
    # database to run). Any other filter reads the versions of every model the caller may see.
    one_model = search.exact_name(filter_text) is not None
    versions = search.apply_filter(
        ModelVersion.objects.all() if one_model else selectors.visible_versions(user=user),
        filter_text,
        fields=search.VERSION_FIELDS,
    )
    default = ["-updated_at", "model__name", "-number"]
    order = search.order_fields(_list(params.get("order_by")), keys=search.VERSION_ORDER, default=default)
    alias_names = Alias.objects.filter(version=OuterRef("pk")).order_by().values("version")
    versions = versions.annotate(alias_names=Subquery(alias_names.annotate(names=_AliasNames("name")).values("names")))
    columns = (*VERSION_COLUMNS, "model__name", "model__visibility", "alias_names")
    rows, following = _page(
        versions.order_by(*order, "pk").values(*columns), params, default=VERSIONS_PAGE, most=VERSIONS_MOST
    )
    if one_model and rows and not permissions.can_view_model(access, _model_of(rows[0])):
        rows, following = [], None
    access.prefetch(_model_of(v) for v in rows if v["lock_level"] == LockLevel.REDACT)
    found = [
        version_json(
            v,
            name=v["model__name"],
            visible=artifacts_visible(access, v, model_visibility=v["model__visibility"]),
            aliases=v["alias_names"] or (),
        )
        for v in rows
    ]
    return {"model_versions": found} | ({"next_page_token": following} if following else {})


def _model_of(row: dict[str, Any]) -> RegisteredModel:
    return model_stub(row["model_id"], row["model__visibility"])


@endpoint("GET")
def get_download_uri(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    name, number = required(params, "name", "version")
    version = get_version(access, str(name), number)
    verdict = permissions.may_see_artifacts(access, version)
    if not verdict:
        raise MlflowError("PERMISSION_DENIED", f"Version {number} of {name}: {verdict.reason}.")
    return {"artifact_uri": version.artifact_uri}


@endpoint("POST")
def set_model_version_tag(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    name, number, key = required(params, "name", "version", "key")
    version = get_version(access, str(name), number)
    _edit_verdict(access, version)
    services.set_attribute(actor=user, target=version, key=str(key), value=text(params, "value"))
    return {}


@endpoint("DELETE")
def delete_model_version_tag(request: HttpRequest, user: User, access: Access, params: Params) -> dict[str, Any]:
    name, number, key = required(params, "name", "version", "key")
    version = get_version(access, str(name), number)
    _edit_verdict(access, version)
    services.delete_attribute(actor=user, target=version, key=str(key))
    return {}


def _list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]
