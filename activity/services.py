"""Every write of the activity log: record_activity (called by the services of every app) and comments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from activity import permissions
from activity.models import MAX_COMMENT, ActivityEntry, Verb
from catalog.models import ModelVersion, RegisteredModel
from core import bulk, clock


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
    """Append one entry to the activity log; call it inside the transaction of the change it records."""
    return ActivityEntry.objects.create(
        created_at=clock.now(),
        actor=actor,
        verb=verb,
        model=model,
        version=version,
        from_stage=from_stage,
        to_stage=to_stage,
        comment=comment,
        extra=extra or {},
    )


def record_activities(entries: Sequence[ActivityEntry]) -> list[ActivityEntry]:
    """Append many unsaved entries at once, stamped now (a batch import); call it inside the transaction of the
    changes they record."""
    now = clock.now()
    for entry in entries:
        entry.created_at = now
    return bulk.insert(entries)


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
