"""Every write of the activity log: record_activity (called by the services of every app) and comments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction

from activity import permissions
from activity.db import database_stamps_time
from activity.models import MAX_COMMENT, ActivityEntry, Verb
from catalog.models import ModelVersion, RegisteredModel
from core import bulk, clock
from webhooks.events import record_events


class ActivityError(Exception):
    """A write to the activity log was refused; the message is fit to show a user."""


def record_activity(
    *,
    actor: User,
    verb: Verb,
    model: RegisteredModel | None,
    version: ModelVersion | None = None,
    from_stage: str = "",
    to_stage: str = "",
    comment: str = "",
    extra: dict[str, Any] | None = None,
) -> ActivityEntry:
    """Append one entry to the activity log; call it inside the transaction of the change it records.

    The entry keeps the names of its actor, model and version as they are now; the database stamps its time (unless
    a command is replaying history) and links it into the hash chain when the transaction commits."""
    replayed = clock.replayed()
    if replayed is None and not database_stamps_time(connection):
        replayed = clock.now()
    entry = ActivityEntry(
        actor=actor,
        verb=verb,
        model=model,
        version=version,
        from_stage=from_stage,
        to_stage=to_stage,
        comment=comment,
        extra=extra or {},
        actor_username=actor.get_username(),
        model_name=model.name if model is not None else "",
        version_name=version.name if version is not None else "",
    )
    if replayed is not None:
        entry.created_at = replayed
    entry.save(force_insert=True)
    record_events([entry])  # the webhooks' outbox, in this transaction
    return entry


def record_activities(entries: Sequence[ActivityEntry]) -> list[ActivityEntry]:
    """Append many unsaved entries at once, stamped now (a batch import); call it inside the transaction of the
    changes they record. Like record_activity, each keeps its names and the database stamps and chains it."""
    replayed = clock.replayed()
    if replayed is None and not database_stamps_time(connection):
        replayed = clock.now()
    for entry in entries:
        entry.name_subjects()
        if replayed is not None:
            entry.created_at = replayed
    inserted = bulk.insert(entries)
    record_events(inserted)
    return inserted


@transaction.atomic
def comment_on_version(*, actor: User, version: ModelVersion, comment: str) -> ActivityEntry:
    """Add a plain comment to version's activity log. Raises PermissionDenied, ActivityError."""
    model = version.model
    permissions.may_comment(actor, model).enforce(ActivityError)
    text = comment.strip()
    if not text:
        raise ActivityError("Write a comment first.")
    if len(text) > MAX_COMMENT:
        raise ActivityError(f"The comment has {len(text):,} characters; at most {MAX_COMMENT:,} are allowed.")
    if "\x00" in text:
        raise ActivityError("The comment contains a character that cannot be stored (NUL).")
    return record_activity(actor=actor, verb=Verb.COMMENTED, model=model, version=version, comment=text)
