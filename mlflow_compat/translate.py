"""MLflow's words for ours, in one place: stage names, error codes and statuses, timestamps, entity JSON."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from catalog.models import Alias, ModelVersion, RegisteredModel, Stage
from catalog.permissions import Access, may_see_artifacts

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


def model_version_json(version: ModelVersion, *, access: Access, aliases: Iterable[str] = ()) -> dict[str, Any]:
    """A version as MLflow's ModelVersion; `version` is its number, as text. Redacted locations are empty."""
    visible = bool(may_see_artifacts(access, version))
    return {
        "name": version.model.name,
        "version": str(version.number),
        "creation_timestamp": millis(version.created_at),
        "last_updated_timestamp": millis(version.updated_at),
        "user_id": version.created_by.get_username(),
        "current_stage": TO_MLFLOW_STAGE[Stage(version.stage)],
        "description": version.description,
        "source": version.artifact_uri if visible else "",
        "run_id": version.run_id,
        "run_link": version.source_run_url if visible else "",
        # READY at once: an absent status reads as PENDING_REGISTRATION, and the client would poll for 5 minutes.
        "status": "READY",
        "status_message": "",
        "tags": tags_of(version.attributes),
        "aliases": sorted(aliases),
    }


def registered_model_json(
    model: RegisteredModel,
    *,
    access: Access,
    latest: Iterable[ModelVersion] = (),
    aliases: Iterable[Alias] = (),
) -> dict[str, Any]:
    """A model as MLflow's RegisteredModel, with the latest version in each stage and its aliases."""
    by_version: dict[int, list[str]] = {}
    for alias in aliases:
        by_version.setdefault(alias.version_id, []).append(alias.name)
    return {
        "name": model.name,
        "creation_timestamp": millis(model.created_at),
        "last_updated_timestamp": millis(model.updated_at),
        "user_id": model.owner.get_username(),
        "description": model.description,
        "latest_versions": [
            model_version_json(v, access=access, aliases=by_version.get(v.pk, ()))
            for v in sorted(latest, key=_stage_order)
        ],
        "tags": tags_of(model.attributes),
        "aliases": sorted(
            ({"alias": alias.name, "version": str(alias.version.number)} for alias in aliases), key=lambda a: a["alias"]
        ),
    }


def _stage_order(version: ModelVersion) -> int:
    return list(TO_MLFLOW_STAGE).index(Stage(version.stage))
