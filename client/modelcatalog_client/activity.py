"""The activity log: who did what to a model or version, when, with their comment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from modelcatalog_client._wire import Entity, Http, parse_time, show_time
from modelcatalog_client.lazy_list import LazyList


@dataclass(eq=False, repr=False)
class ActivityEntry(Entity):
    """One entry of the append-only log; `event` is e.g. stage_change_requested, stage_changed, commented."""

    _http: Http = field(repr=False)
    _json: dict[str, Any] = field(repr=False)
    id: int
    time: datetime
    actor: str
    event: str
    model: str | None
    version: str | None
    from_stage: str
    to_stage: str
    comment: str
    details: dict[str, Any]

    @classmethod
    def _from_json(cls, http: Http, data: Mapping[str, Any]) -> ActivityEntry:
        return cls(
            _http=http,
            _json=dict(data),
            id=data["id"],
            time=parse_time(data["time"]),
            actor=data["actor"],
            event=data["event"],
            model=data.get("model"),
            version=data.get("version"),
            from_stage=data.get("from_stage") or "",
            to_stage=data.get("to_stage") or "",
            comment=data.get("comment") or "",
            details=dict(data.get("details") or {}),
        )

    def __repr__(self) -> str:
        subject = " ".join(part for part in (self.model, self.version) if part)
        stages = f" {self.from_stage or '…'} → {self.to_stage}" if self.to_stage else ""
        said = f": {self.comment}" if self.comment else ""
        return f"<ActivityEntry {self.id} {show_time(self.time)} {self.actor} {self.event} {subject}{stages}{said}>"


class ActivityLog(LazyList[ActivityEntry]):
    """Entries of the activity log, newest first."""

    def __init__(self, http: Http, params: Mapping[str, str | int | bool]) -> None:
        super().__init__(
            http, "/activity", ActivityEntry._from_json, params=params, sort_keys={"time_created": lambda e: e.time}
        )
