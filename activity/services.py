"""The one writer of the activity log."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from activity.models import ActivityEntry, Verb
from catalog.models import ModelVersion, RegisteredModel


def record_activity(
    *,
    actor: User,
    verb: Verb,
    model: RegisteredModel,
    version: ModelVersion | None = None,
    from_stage: str = "",
    to_stage: str = "",
    comment: str = "",
    extra: dict[str, Any] | None = None,
) -> ActivityEntry:
    """Append one entry to the activity log; call it inside the transaction of the change it records."""
    return ActivityEntry.objects.create(
        created_at=timezone.now(),
        actor=actor,
        verb=verb,
        model=model,
        version=version,
        from_stage=from_stage,
        to_stage=to_stage,
        comment=comment,
        extra=extra or {},
    )
