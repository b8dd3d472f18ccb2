"""Stage-change requests: approve, reject, cancel, and wait for a decision (a release pipeline blocks on a human)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from modelcatalog_client import errors
from modelcatalog_client._wire import Entity, Http, parse_optional_time, parse_time, path, show_time
from modelcatalog_client.lazy_list import LazyList

if TYPE_CHECKING:
    from modelcatalog_client.registry import RegisteredModelVersion

# How long wait() sleeps at most between two looks, however long it has waited.
MAX_POLL_INTERVAL = 30.0
POLL_BACKOFF = 1.5


def _stage(name: str) -> str:
    return name.capitalize()


@dataclass(frozen=True)
class Review:
    """One reviewer's decision on a request: approve or reject, with their comment."""

    reviewer: str
    decision: str
    comment: str
    created_at: datetime


@dataclass(eq=False, repr=False)
class ChangeRequest(Entity):
    """A request to move a version to another stage; it applies once `required_approvals` reviewers approve.

    `status` is pending, approved, rejected or cancelled. `actions` says what you may do with it now (approve,
    reject, cancel). The object is what the server said when it was last read: `refresh()` reads it again.
    """

    _http: Http = field(repr=False)
    _json: dict[str, Any] = field(repr=False)
    id: int
    model: str
    version: str
    from_stage: str
    to_stage: str
    comment: str
    requester: str
    created_at: datetime
    status: str
    required_approvals: int
    approvals: int
    archive_others: bool
    skips_stages: bool
    reviews: list[Review]
    resolved_by: str | None
    resolved_at: datetime | None
    actions: list[str]
    url: str

    @classmethod
    def _from_json(cls, http: Http, data: Mapping[str, Any]) -> ChangeRequest:
        return cls(
            _http=http,
            _json=dict(data),
            id=data["id"],
            model=data["model"],
            version=data["version"],
            from_stage=data["from_stage"],
            to_stage=data["to_stage"],
            comment=data["comment"],
            requester=data["requester"],
            created_at=parse_time(data["created_at"]),
            status=data["status"],
            required_approvals=data["required_approvals"],
            approvals=data["approvals"],
            archive_others=data["archive_others"],
            skips_stages=data["skips_stages"],
            reviews=[
                Review(
                    reviewer=review["reviewer"],
                    decision=review["decision"],
                    comment=review["comment"],
                    created_at=parse_time(review["created_at"]),
                )
                for review in data["reviews"]
            ],
            resolved_by=data.get("resolved_by"),
            resolved_at=parse_optional_time(data.get("resolved_at")),
            actions=list(data.get("actions", [])),
            url=data["url"],
        )

    @property
    def change(self) -> str:
        """From → to, as the pages show it: "Staging → Production"."""
        return f"{_stage(self.from_stage)} → {_stage(self.to_stage)}"

    def __repr__(self) -> str:
        lines = [
            f"change request: {self.id}",
            f"model: {self.model}",
            f"version: {self.version}",
            f"stage change: {self.change}",
            f"status: {self.status} ({self.approvals} of {self.required_approvals} approvals)",
            f"requester: {self.requester}",
            f"comment: {self.comment}",
            f"time created: {show_time(self.created_at)}",
        ]
        lines += [f"review: {r.reviewer} {r.decision}d: {r.comment}".rstrip(": ") for r in self.reviews]
        if self.resolved_by or self.resolved_at:
            lines.append(f"resolved: {self.status} by {self.resolved_by or '?'} at {show_time(self.resolved_at)}")
        lines += [f"actions: {', '.join(self.actions) or 'none'}", f"url: {self.url}"]
        return "\n".join(lines)

    def refresh(self) -> ChangeRequest:
        """Read the request again from the server; returns it."""
        self._reload(self._http.get(path("requests", self.id)))
        return self

    def approve(self, comment: str = "") -> ChangeRequest:
        """Approve it; the approval that completes the required number applies the stage change at once."""
        return self._act("approve", comment)

    def reject(self, comment: str = "") -> ChangeRequest:
        """Reject it: the stage does not change."""
        return self._act("reject", comment)

    def cancel(self, comment: str = "") -> ChangeRequest:
        """Withdraw it (its requester, or an owner of the model)."""
        return self._act("cancel", comment)

    def _act(self, action: str, comment: str) -> ChangeRequest:
        # A new Idempotency-Key per call: a retry after a broken connection is answered with the first outcome
        # instead of reviewing twice (or being refused as a second review).
        key = str(uuid.uuid4())
        self._reload(self._http.post(path("requests", self.id, action), {"comment": comment}, idempotency_key=key))
        return self

    def get_version(self) -> RegisteredModelVersion:
        """The version this request is about, as it is now."""
        from modelcatalog_client.registry import RegisteredModelVersion

        return RegisteredModelVersion._from_json(
            self._http, self._http.get(path("models", self.model, "versions", self.version))
        )

    def wait(self, timeout: float | None = None, poll_interval: float = 2.0) -> ChangeRequest:
        """Block until the request is approved and return it (refreshed): the stage has changed then.

        Looks again after poll_interval seconds, then half as long again each time, up to 30 s between looks.
        Raises RequestRejected or RequestCancelled (both ChangeRequestEnded, a WorkflowError) when it ends
        otherwise, and WaitTimeout (a TimeoutError) when it is still pending after timeout seconds (None: no
        limit); the request itself stays pending then.
        """
        if poll_interval <= 0:
            raise ValueError("poll_interval must be more than 0 seconds")
        deadline = None if timeout is None else time.monotonic() + timeout
        interval = poll_interval
        while True:
            self.refresh()
            if self.status != "pending":
                return self._outcome()
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise errors.WaitTimeout(
                    f"Request {self.id} ({self.model} {self.version}: {self.change}) is still pending after "
                    f"{timeout:g} s, with {self.approvals} of {self.required_approvals} approvals.",
                    change_request=self,
                )
            time.sleep(interval if left is None else min(interval, left))
            interval = min(interval * POLL_BACKOFF, MAX_POLL_INTERVAL)

    def _outcome(self) -> ChangeRequest:
        what = f"Request {self.id} ({self.model} {self.version}: {self.change})"
        by = f" by {self.resolved_by}" if self.resolved_by else ""
        if self.status == "approved":
            return self
        if self.status == "rejected":
            rejection = next((r for r in reversed(self.reviews) if r.decision == "reject"), None)
            said = f": “{rejection.comment}”" if rejection and rejection.comment else ""
            raise errors.RequestRejected(f"{what} was rejected{by}{said}.", change_request=self)
        if self.status == "cancelled":
            raise errors.RequestCancelled(f"{what} was cancelled{by}.", change_request=self)
        raise errors.ChangeRequestEnded(f"{what} ended as {self.status}{by}.", change_request=self)


class ChangeRequests(LazyList[ChangeRequest]):
    """Stage-change requests, newest first."""

    def __init__(self, http: Http, params: Mapping[str, str | int | bool]) -> None:
        super().__init__(
            http,
            "/requests",
            ChangeRequest._from_json,
            params=params,
            sort_keys={"time_created": lambda r: r.created_at},
        )
