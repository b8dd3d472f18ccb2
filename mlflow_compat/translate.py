"""MLflow's words for ours, in one place: stage names, error codes and statuses, timestamps, entity JSON."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User

from catalog.models import ModelVersion, RegisteredModel, Stage
from catalog.permissions import Access, may_see_artifacts, may_see_artifacts_at

# MLflow's stages and ours: its "None" is our Unassigned; Development travels as an extra value, which stock
# clients accept (they do not validate stage strings).
TO_MLFLOW_STAGE = {
    Stage.UNASSIGNED: "None",
    Stage.DEVELOPMENT: "Development",
    Stage.STAGING: "Staging",
    Stage.PRODUCTION: "Production",
    Stage.ARCHIVED: "Archived",
}
FROM_MLFLOW_STAGE = {name.lower(): stage for stage, name in TO_MLFLOW_STAGE.items()}

# MLflow's error codes and the HTTP status each travels with (mlflow/exceptions.py, ERROR_CODE_TO_HTTP_STATUS).
STATUS_OF = {
    "INVALID_PARAMETER_VALUE": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "BAD_REQUEST": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "RESOURCE_CONFLICT": 409,
    "NOT_IMPLEMENTED": 501,
}


class MlflowError(Exception):
    """An answer in MLflow's error shape: {"error_code", "message"} with the code's HTTP status."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code, self.message = error_code, message

    @property
    def status(self) -> int:
        return STATUS_OF[self.error_code]


def stage_from_mlflow(value: str) -> Stage:
    """Our stage for an MLflow stage name, in any case; raises MlflowError for one we do not have."""
    stage = FROM_MLFLOW_STAGE.get(str(value).strip().lower())
    if stage is None:
        names = ", ".join(TO_MLFLOW_STAGE.values())
        raise MlflowError("INVALID_PARAMETER_VALUE", f"Invalid Model Version stage: {value}. Stages are: {names}.")
    return stage


def millis(moment: datetime | None) -> int | None:
    """Integer milliseconds since the epoch, as MLflow's JSON carries times."""
    return int(moment.timestamp() * 1000) if moment is not None else None


def tags_of(attributes: dict[str, Any]) -> list[dict[str, str]]:
    """Our attributes as MLflow's tags: text values, in key order; a null attribute is no tag."""
    return [
        {"key": key, "value": value if isinstance(value, str) else _text(value)}
        for key, value in sorted(attributes.items())
        if value is not None
    ]


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


# What a version's JSON is made of, read as values (lists answer from these rows, without model instances): the
# version's columns, its creator's username, and its model's name and visibility (for the redaction decision).
VERSION_COLUMNS = (
    "pk",
    "model_id",
    "number",
    "created_at",
    "updated_at",
    f"created_by__{User.USERNAME_FIELD}",
    "stage",
    "description",
    "artifact_uri",
    "source_run_url",
    "run_id",
    "attributes",
    "lock_level",
)
MODEL_COLUMNS = (
    "pk",
    "name",
    "visibility",
    "created_at",
    "updated_at",
    f"owner__{User.USERNAME_FIELD}",
    "description",
    "attributes",
)
STAGE_RANK = {stage: rank for rank, stage in enumerate(TO_MLFLOW_STAGE)}


def version_row(version: ModelVersion) -> dict[str, Any]:
    """A version instance as the row VERSION_COLUMNS reads."""
    return {
        "pk": version.pk,
        "model_id": version.model_id,
        "number": version.number,
        "created_at": version.created_at,
        "updated_at": version.updated_at,
        f"created_by__{User.USERNAME_FIELD}": version.created_by.get_username(),
        "stage": version.stage,
        "description": version.description,
        "artifact_uri": version.artifact_uri,
        "source_run_url": version.source_run_url,
        "run_id": version.run_id,
        "attributes": version.attributes,
        "lock_level": version.lock_level,
    }


def model_row(model: RegisteredModel) -> dict[str, Any]:
    """A model instance as the row MODEL_COLUMNS reads."""
    return {
        "pk": model.pk,
        "name": model.name,
        "visibility": model.visibility,
        "created_at": model.created_at,
        "updated_at": model.updated_at,
        f"owner__{User.USERNAME_FIELD}": model.owner.get_username(),
        "description": model.description,
        "attributes": model.attributes,
    }


def model_stub(model_id: int, visibility: str) -> RegisteredModel:
    """A model known by its key and visibility, all a permission decision on it reads (for rows read as values)."""
    return RegisteredModel(pk=model_id, visibility=visibility)


def artifacts_visible(access: Access, row: dict[str, Any], *, model_visibility: str) -> bool:
    """Whether the caller sees a version row's artifact locations (may_see_artifacts, on values)."""
    verdict = may_see_artifacts_at(
        access, lock_level=row["lock_level"], model=lambda: model_stub(row["model_id"], model_visibility)
    )
    return bool(verdict)


def version_json(row: dict[str, Any], *, name: str, visible: bool, aliases: Iterable[str] = ()) -> dict[str, Any]:
    """A version row (VERSION_COLUMNS) of the model named name as MLflow's ModelVersion; `version` is its number,
    as text. Locations the caller may not see (visible false: lock level Redact) are empty."""
    return {
        "name": name,
        "version": str(row["number"]),
        "creation_timestamp": millis(row["created_at"]),
        "last_updated_timestamp": millis(row["updated_at"]),
        "user_id": row[f"created_by__{User.USERNAME_FIELD}"],
        "current_stage": TO_MLFLOW_STAGE[row["stage"]],
        "description": row["description"],
        "source": row["artifact_uri"] if visible else "",
        "run_id": row["run_id"],
        "run_link": row["source_run_url"] if visible else "",
        # READY at once: an absent status reads as PENDING_REGISTRATION, and the client would poll for 5 minutes.
        "status": "READY",
        "status_message": "",
        "tags": tags_of(row["attributes"]),
        "aliases": sorted(aliases),
    }


def model_version_json(version: ModelVersion, *, access: Access, aliases: Iterable[str] = ()) -> dict[str, Any]:
    """A version instance as MLflow's ModelVersion (see version_json)."""
    visible = bool(may_see_artifacts(access, version))
    return version_json(version_row(version), name=version.model.name, visible=visible, aliases=aliases)


def registered_model_json(
    row: dict[str, Any],
    *,
    access: Access,
    latest: Iterable[dict[str, Any]] = (),
    aliases: Iterable[tuple[str, int, int]] = (),
) -> dict[str, Any]:
    """A model row (MODEL_COLUMNS) as MLflow's RegisteredModel, with the latest version in each stage (version
    rows) and its aliases (name, version key, version number)."""
    aliases = list(aliases)
    by_version: dict[int, list[str]] = {}
    for alias_name, version_id, _ in aliases:
        by_version.setdefault(version_id, []).append(alias_name)
    name, visibility = row["name"], row["visibility"]
    return {
        "name": name,
        "creation_timestamp": millis(row["created_at"]),
        "last_updated_timestamp": millis(row["updated_at"]),
        "user_id": row[f"owner__{User.USERNAME_FIELD}"],
        "description": row["description"],
        "latest_versions": [
            version_json(
                v,
                name=name,
                visible=artifacts_visible(access, v, model_visibility=visibility),
                aliases=by_version.get(v["pk"], ()),
            )
            for v in sorted(latest, key=lambda v: STAGE_RANK[v["stage"]])
        ],
        "tags": tags_of(row["attributes"]),
        "aliases": [{"alias": alias_name, "version": str(number)} for alias_name, _, number in sorted(aliases)],
    }
