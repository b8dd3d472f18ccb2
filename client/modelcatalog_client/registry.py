"""Registered models and their versions, as Verta's `RegisteredModel` and `RegisteredModelVersion`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from modelcatalog_client import lock as lock_levels
from modelcatalog_client._wire import Entity, Http, parse_optional_time, parse_time, path, show_time
from modelcatalog_client.activity import ActivityLog
from modelcatalog_client.change_request import ChangeRequest
from modelcatalog_client.lazy_list import FindableList
from modelcatalog_client.stage_change import _StageChange

AttributeValue = str | int | float | bool | None


def _given(**fields: Any) -> dict[str, Any]:
    """The fields the caller gave (not None), so the server applies its own defaults to the rest."""
    return {name: value for name, value in fields.items() if value is not None}


@dataclass(eq=False, repr=False)
class RegisteredModel(Entity):
    """A registered model; `slug` is its name in URLs. What the server said when it was last read (`refresh()`)."""

    _http: Http = field(repr=False)
    _json: dict[str, Any] = field(repr=False)
    name: str
    slug: str
    description: str
    labels: list[str]
    attributes: dict[str, AttributeValue]
    owner: str
    task_type: str
    data_type: str
    visibility: str
    required_approvals: int
    stage_counts: dict[str, int]
    version_count: int
    created_at: datetime
    updated_at: datetime
    url: str

    @classmethod
    def _from_json(cls, http: Http, data: Mapping[str, Any]) -> RegisteredModel:
        return cls(
            _http=http,
            _json=dict(data),
            name=data["name"],
            slug=data["slug"],
            description=data["description"],
            labels=list(data["labels"]),
            attributes=dict(data.get("attributes") or {}),
            owner=data["owner"],
            task_type=data["task_type"],
            data_type=data["data_type"],
            visibility=data["visibility"],
            required_approvals=data["required_approvals"],
            stage_counts=dict(data["stage_counts"]),
            version_count=data["version_count"],
            created_at=parse_time(data["created_at"]),
            updated_at=parse_time(data["updated_at"]),
            url=data["url"],
        )

    def __repr__(self) -> str:
        counts = ", ".join(f"{stage} {count}" for stage, count in self.stage_counts.items() if count)
        return "\n".join(
            [
                f"name: {self.name}",
                f"slug: {self.slug}",
                f"url: {self.url}",
                f"owner: {self.owner}",
                f"time created: {show_time(self.created_at)}",
                f"time updated: {show_time(self.updated_at)}",
                f"description: {self.description}",
                f"labels: {self.labels}",
                f"attributes: {self.attributes}",
                f"task type: {self.task_type}",
                f"data type: {self.data_type}",
                f"visibility: {self.visibility}",
                f"required approvals: {self.required_approvals}",
                f"versions: {self.version_count}" + (f" ({counts})" if counts else ""),
            ]
        )

    def refresh(self) -> RegisteredModel:
        """Read the model again from the server; returns it."""
        self._reload(self._http.get(path("models", self.slug)))
        return self

    @property
    def versions(self) -> RegisteredModelVersions:
        """This model's versions, newest first; `model.versions.find("stage == staging")[0]`."""
        return RegisteredModelVersions(self._http, path("models", self.slug, "versions"))

    @property
    def activity(self) -> ActivityLog:
        """This model's activity log, newest first."""
        return ActivityLog(self._http, {"model": self.slug})

    def get_version(self, name: str) -> RegisteredModelVersion:
        """The version called name; raises NotFound."""
        return RegisteredModelVersion._from_json(
            self._http, self._http.get(path("models", self.slug, "versions", name))
        )

    def create_version(
        self,
        name: str,
        desc: str | None = None,
        labels: list[str] | None = None,
        attrs: Mapping[str, AttributeValue] | None = None,
        artifact_uri: str | None = None,
        *,
        source_run_url: str | None = None,
    ) -> RegisteredModelVersion:
        """Register a version (it starts in Unassigned); raises BadRequest when the name is taken or invalid."""
        body = _given(
            name=name,
            description=desc,
            labels=labels,
            attributes=dict(attrs) if attrs is not None else None,
            artifact_uri=artifact_uri,
            source_run_url=source_run_url,
        )
        return RegisteredModelVersion._from_json(
            self._http, self._http.post(path("models", self.slug, "versions"), body)
        )


@dataclass(eq=False, repr=False)
class RegisteredModelVersion(Entity):
    """A version of a model, with its stage and lock level. What the server said when it was last read.

    `artifact_uri` and `source_run_url` are None when lock level Redact hides them from you (`redacted`).
    `pending_request` is the id of its pending stage-change request, if it has one.
    """

    _http: Http = field(repr=False)
    _json: dict[str, Any] = field(repr=False)
    model: str
    model_name: str
    name: str
    description: str
    labels: list[str]
    attributes: dict[str, AttributeValue]
    artifact_uri: str | None
    source_run_url: str | None
    redacted: bool
    stage: str
    lock_level: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    stage_changed_at: datetime | None
    pending_request: int | None
    url: str

    @classmethod
    def _from_json(cls, http: Http, data: Mapping[str, Any]) -> RegisteredModelVersion:
        return cls(
            _http=http,
            _json=dict(data),
            model=data["model"],
            model_name=data["model_name"],
            name=data["name"],
            description=data["description"],
            labels=list(data["labels"]),
            attributes=dict(data.get("attributes") or {}),
            artifact_uri=data.get("artifact_uri"),
            source_run_url=data.get("source_run_url"),
            redacted=bool(data.get("redacted")),
            stage=data["stage"],
            lock_level=data["lock_level"],
            created_by=data["created_by"],
            created_at=parse_time(data["created_at"]),
            updated_at=parse_time(data["updated_at"]),
            stage_changed_at=parse_optional_time(data.get("stage_changed_at")),
            pending_request=data.get("pending_request"),
            url=data["url"],
        )

    def __repr__(self) -> str:
        lines = [
            f"version: {self.name}",
            f"model: {self.model_name} ({self.model})",
            f"stage: {self.stage}",
            f"lock level: {self.lock_level}",
            f"url: {self.url}",
            f"time created: {show_time(self.created_at)}",
            f"time updated: {show_time(self.updated_at)}",
            f"created by: {self.created_by}",
            f"description: {self.description}",
            f"labels: {self.labels}",
            f"attributes: {self.attributes}",
            f"artifact uri: {'(redacted)' if self.redacted else self.artifact_uri or ''}",
        ]
        if self.pending_request is not None:
            lines.append(f"pending request: {self.pending_request}")
        return "\n".join(lines)

    def refresh(self) -> RegisteredModelVersion:
        """Read the version again from the server (its stage may have changed since); returns it."""
        self._reload(self._http.get(path("models", self.model, "versions", self.name)))
        return self

    @property
    def activity(self) -> ActivityLog:
        """This version's activity log, newest first: requests, reviews, stage changes, locks, comments."""
        return ActivityLog(self._http, {"model": self.model, "version": self.name})

    def get_lock_level(self) -> lock_levels._LockLevel:
        """The lock level as last read, as one of `lock.open`, `lock.closed`, `lock.redact`."""
        return lock_levels._from_value(self.lock_level)

    def set_lock_level(self, lock_level: lock_levels._LockLevel, comment: str = "") -> None:
        """Set the lock level, e.g. `lock.closed`; raises PermissionDenied or WorkflowError when the server refuses."""
        if not isinstance(lock_level, lock_levels._LockLevel):
            raise TypeError(f"`lock_level` must be an object from `lock`, not {type(lock_level)}")
        answer = self._http.put(
            path("models", self.model, "versions", self.name, "lock"),
            {"lock_level": lock_level.value, "comment": comment},
        )
        self._reload(answer)

    def change_stage(self, stage_change: _StageChange, *, archive_others: bool = False) -> ChangeRequest:
        """Request a move to another stage, e.g. `Staging("Undergoing final testing.")`; returns the request.

        This never bypasses approval: the stage changes only once enough reviewers approve (`wait()` on the
        request blocks until then). `archive_others` asks to archive, on approval, the versions already in the
        target stage. The request is sent with an Idempotency-Key, so a retry after a broken connection files it
        only once. Raises PermissionDenied (your role), WorkflowError (locked, a request already pending).
        """
        if not isinstance(stage_change, _StageChange):
            raise TypeError(f"`stage_change` must be an object from `stage_change`, not {type(stage_change)}")
        body = {"to_stage": stage_change.stage, "comment": stage_change.comment or "", "archive_others": archive_others}
        answer = self._http.post(
            path("models", self.model, "versions", self.name, "requests"), body, idempotency_key=str(uuid.uuid4())
        )
        change_request = ChangeRequest._from_json(self._http, answer)
        if change_request.status == "pending":
            self.pending_request = change_request.id
        return change_request


def _name_key(item: RegisteredModel | RegisteredModelVersion) -> str:
    return item.name.casefold()


class RegisteredModels(FindableList[RegisteredModel]):
    """Models, newest first; `find` keys: name, labels, owner, task_type, data_type, visibility, time_created…"""

    def __init__(self, http: Http) -> None:
        super().__init__(
            http,
            "/models",
            RegisteredModel._from_json,
            sort_keys={
                "time_created": lambda m: m.created_at,
                "time_updated": lambda m: m.updated_at,
                "name": _name_key,
            },
        )


class RegisteredModelVersions(FindableList[RegisteredModelVersion]):
    """Versions, newest first; `find` keys: stage, labels, name/version, model, owner, lock_level, attributes.<key>…"""

    def __init__(self, http: Http, where: str = "/versions") -> None:
        super().__init__(
            http,
            where,
            RegisteredModelVersion._from_json,
            sort_keys={
                "time_created": lambda v: v.created_at,
                "time_updated": lambda v: v.updated_at,
                "version": _name_key,
                "name": _name_key,
            },
        )
