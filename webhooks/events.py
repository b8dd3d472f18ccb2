"""Events: the payload each one carries, and writing them, with a delivery per subscribed webhook, in the transaction of
the change they report (an outbox). A task sends them once that transaction commits (webhooks.tasks)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q

from activity.models import ActivityEntry
from catalog.models import LockLevel, ModelVersion, RegisteredModel, Stage
from core import bulk, clock, followups
from webhooks.models import VERB_EVENTS, Delivery, DeliveryStatus, Event, EventType, State, Webhook, wants_event


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def _stage(value: str) -> str:
    return str(Stage(value).label) if value in Stage.values else value


def _link(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def human_text(event_type: str, data: dict[str, Any]) -> str:
    """The one line a person reads (in Slack, in the delivery log)."""
    actor = data.get("actor") or "Someone"
    model = (data.get("model") or {}).get("name", "")
    version = (data.get("version") or {}).get("name", "")
    subject = f"{model} {version}".strip()
    move = f"from {_stage(data.get('from_stage', ''))} to {_stage(data.get('to_stage', ''))}"
    match event_type:
        case EventType.VERSION_REGISTERED:
            return f"{actor} registered {subject}"
        case EventType.STAGE_CHANGE_REQUESTED:
            return f"{actor} requested moving {subject} {move}"
        case EventType.STAGE_CHANGE_APPROVED:
            return f"{actor} approved moving {subject} {move}"
        case EventType.STAGE_CHANGE_REJECTED:
            return f"{actor} rejected moving {subject} {move}"
        case EventType.STAGE_CHANGE_CANCELLED:
            return f"{actor} cancelled the request to move {subject} {move}"
        case EventType.STAGE_CHANGED:
            cause = data.get("cause") or {}
            because = f" ({cause['text']})" if cause.get("text") else ""
            return f"{subject} moved {move}{because}"
        case EventType.LOCK_CHANGED:
            lock = data.get("lock_level") or {}
            return f"{actor} changed the lock level of {subject} from {lock.get('from')} to {lock.get('to')}"
        case EventType.ALIAS_SET:
            alias = data.get("alias") or {}
            if alias.get("moved_from"):
                return (
                    f"{actor} moved the alias @{alias.get('name')} of {model} from {alias['moved_from']} to {version}"
                )
            return f"{actor} set the alias @{alias.get('name')} on {subject}"
        case EventType.COMMENT_ADDED:
            comment = data.get("comment", "")
            short = comment if len(comment) <= 200 else comment[:199] + "…"
            return f"{actor} commented on {subject}: {short}"
        case EventType.TEST:
            return f"Test event from Model Catalog for {model or 'the registry'}"
    return f"{actor}: {event_type} on {subject}"


def _model_data(model: RegisteredModel | None) -> dict[str, Any] | None:
    if model is None:
        return None
    return {"name": model.name, "slug": model.slug, "url": _link(model.get_absolute_url())}


def _version_data(version: ModelVersion | None, current: dict[str, Any] | None = None) -> dict[str, Any] | None:
    if version is None:
        return None
    # current: the version's row as the database has it now (the caller's instance may have been read before a lock).
    now = current or {"stage": version.stage, "lock_level": version.lock_level, "artifact_uri": version.artifact_uri}
    data: dict[str, Any] = {
        "name": version.name,
        "number": version.number,
        "stage": now["stage"],
        "lock_level": now["lock_level"],
        "url": _link(version.get_absolute_url()),
    }
    # Where a Redacted version's artifacts are is for its Owners only: it never leaves in an event.
    if now["lock_level"] != LockLevel.REDACT and now["artifact_uri"]:
        data["artifact_uri"] = now["artifact_uri"]
    return data


def payload(*, event_id: str, event_type: str, when: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of an event in the Standard Webhooks shape: type, timestamp and data, with the event id."""
    data = data | {"text": human_text(event_type, data)}
    return {"id": event_id, "type": str(event_type), "timestamp": when.isoformat(), "data": data}


def entry_data(entry: ActivityEntry, current: dict[str, Any] | None = None) -> dict[str, Any]:
    """What an event says about the change an activity entry records (current: its version's row as it is now)."""
    extra = entry.extra or {}
    data: dict[str, Any] = {
        "model": _model_data(entry.model),
        "version": _version_data(entry.version, current),
        "from_stage": entry.from_stage,
        "to_stage": entry.to_stage,
        "actor": entry.actor_username or entry.actor.get_username(),
        "comment": entry.comment,
    }
    if "change_request" in extra:
        data["change_request"] = extra["change_request"]
    if extra.get("caused_by"):
        data["cause"] = {"type": "promotion", "change_request": extra["caused_by"], "text": entry.comment}
    if extra.get("requested_by"):
        data["requested_by"] = extra["requested_by"]
    if entry.verb == "lock_changed":
        data["lock_level"] = {"from": extra.get("from"), "to": extra.get("to")}
    if "alias" in extra:
        data["alias"] = {"name": extra["alias"], "moved_from": extra.get("moved_from", "")}
    return data


class Subscriber(NamedTuple):
    """What writing an event needs of a webhook that may want it (read as a row: this runs in every change)."""

    pk: int
    model_id: int | None
    events: list[str]
    state: str

    def wants(self, event_type: str, model_id: int | None) -> bool:
        return self.model_id in (None, model_id) and wants_event(self.events, event_type)


def _subscribers(model_ids: set[int]) -> list[Subscriber]:
    rows = (
        Webhook.objects.filter(Q(model_id__in=model_ids) | Q(model_id=None), state__in=[State.ACTIVE, State.TEST])
        .order_by("id")
        .values_list("pk", "model_id", "events", "state")
    )
    return [Subscriber(*row) for row in rows]


_held: ContextVar[list[ActivityEntry] | None] = ContextVar("webhook_events_held", default=None)


@contextmanager
def written_together() -> Iterator[None]:
    """Hold the events of the entries recorded inside and write them together when the block ends without an error
    (inside the caller's transaction): one read of the webhooks and one insert each for the events, the deliveries and
    the delivery runs, however many entries a change writes (an approval, the move it makes, the versions it
    archives)."""
    if _held.get() is not None:  # already inside a block: its end writes these too
        yield
        return
    token = _held.set([])
    try:
        yield
        held = _held.get() or []
    finally:
        _held.reset(token)
    record_events(held)


def record_events(entries: Sequence[ActivityEntry]) -> None:
    """Write the events of entries (those VERB_EVENTS names) with one delivery per webhook that wants each, in the
    current transaction; the deliveries are queued when it commits, and vanish with it if it rolls back."""
    held = _held.get()
    if held is not None:
        held.extend(entries)
        return
    relevant = [entry for entry in entries if entry.verb in VERB_EVENTS and entry.model_id is not None]
    if not relevant:
        return
    webhooks = _subscribers({entry.model_id for entry in relevant if entry.model_id is not None})
    if not webhooks:
        return
    now = clock.now()
    # A version's artifact URI goes out only if the database says it is not Redacted now (the caller's instance may
    # have been read before a lock); read back only the versions whose instance would show one.
    version_ids = {
        entry.version.pk
        for entry in relevant
        if entry.version is not None and entry.version.artifact_uri and entry.version.lock_level != LockLevel.REDACT
    }
    current: dict[int, dict[str, Any]] = (
        {
            row["pk"]: dict(row)
            for row in ModelVersion.objects.filter(pk__in=version_ids).values(
                "pk", "stage", "lock_level", "artifact_uri"
            )
        }
        if version_ids
        else {}
    )
    events: list[Event] = []
    targets: list[list[Subscriber]] = []
    for entry in relevant:
        event_type = VERB_EVENTS[entry.verb]
        wanted = [w for w in webhooks if w.wants(event_type, entry.model_id)]
        if not wanted:
            continue
        event_id = new_event_id()
        events.append(
            Event(
                event_id=event_id,
                type=event_type,
                payload=payload(
                    event_id=event_id,
                    event_type=event_type,
                    when=now,
                    data=entry_data(entry, current.get(entry.version_id or 0)),
                ),
                activity_entry_id=entry.pk,
                created_at=now,
            )
        )
        targets.append(wanted)
    if not events:
        return
    bulk.insert(events)
    deliveries = [
        Delivery(
            webhook_id=webhook.pk,
            event=event,
            status=DeliveryStatus.LOGGED if webhook.state == State.TEST else DeliveryStatus.PENDING,
            next_attempt_at=now,
            created_at=now,
        )
        for event, wanted in zip(events, targets, strict=True)
        for webhook in wanted
    ]
    bulk.insert(deliveries)
    to_send = sorted({d.webhook_id for d in deliveries if d.status == DeliveryStatus.PENDING})
    if to_send:
        schedule_after_commit(to_send)


class QueuedRuns:
    """Marks the webhooks whose delivery run this transaction has queued. It sits in the connection's on-commit list,
    so it is gone when the transaction commits or rolls back (or rolls back to a savepoint before it was queued)."""

    def __init__(self, webhook_ids: list[int]) -> None:
        self.webhook_ids, self.done = frozenset(webhook_ids), False

    def __call__(self) -> None:
        self.done = True


def _queued_in_transaction(connection: BaseDatabaseWrapper) -> set[int]:
    """The webhooks whose delivery run is already queued by the open transaction."""
    callbacks = [registered[1] for registered in connection.run_on_commit]  # (savepoint ids, callback, robust)
    return {
        webhook_id
        for callback in callbacks
        if isinstance(callback, QueuedRuns) and not callback.done
        for webhook_id in callback.webhook_ids
    }


def schedule_after_commit(webhook_ids: list[int]) -> None:
    """Queue a delivery run for each webhook, to start once the current transaction commits (core.followups: on the
    database queue the task row is written in the transaction; with a change's mail, as one task). One run per webhook
    and transaction: a run sends every delivery waiting for its webhook, so a change that writes several events (an
    approval that moves a version and archives others) queues each webhook once."""
    from webhooks.tasks import deliver_webhook, fan_out  # the task module imports this one

    connection = transaction.get_connection()
    if connection.in_atomic_block:
        queued = _queued_in_transaction(connection)
        webhook_ids = [webhook_id for webhook_id in webhook_ids if webhook_id not in queued]
        if not webhook_ids:
            return
        transaction.on_commit(QueuedRuns(webhook_ids))
    if len(webhook_ids) == 1:
        followups.queue(deliver_webhook, webhook_id=webhook_ids[0])
    else:  # one task, whatever the number of webhooks; the worker queues one run for each
        followups.queue(fan_out, webhook_ids=webhook_ids)


def test_event(webhook: Webhook, *, actor_name: str) -> Event:
    """A test event for webhook (written, not yet delivered)."""
    now = clock.now()
    event_id = new_event_id()
    data = {"model": _model_data(webhook.model), "version": None, "actor": actor_name, "comment": ""}
    return Event.objects.create(
        event_id=event_id,
        type=EventType.TEST,
        payload=payload(event_id=event_id, event_type=EventType.TEST, when=now, data=data),
        created_at=now,
    )
