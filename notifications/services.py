"""The writes of notifications: marking them read and dismissing a decision's banner. Neither is an event of the
activity log (they change what one user sees, nothing of the catalog)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction

from approvals.models import StageChangeRequest
from core import clock
from notifications.models import DismissedDecision, ReadMarker


@transaction.atomic
def mark_all_read(*, actor: User) -> None:
    """Mark every notification actor has now as read."""
    ReadMarker.objects.update_or_create(user=actor, defaults={"read_at": clock.now()})


@transaction.atomic
def dismiss_decision(*, actor: User, change_request: StageChangeRequest) -> None:
    """Hide the banner of a decision on actor's own request; raises PermissionDenied for anyone else's request."""
    if change_request.requester_id != actor.pk:
        raise PermissionDenied("Only the requester can dismiss this decision.")
    DismissedDecision.objects.get_or_create(
        user=actor, change_request=change_request, defaults={"dismissed_at": clock.now()}
    )
