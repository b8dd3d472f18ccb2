"""What a user has read of their notifications. The notifications themselves are activity entries (see selectors):
nothing is written twice."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from approvals.models import StageChangeRequest


class ReadMarker(models.Model):
    """When the user last marked their notifications read: entries after it are unread."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+")
    read_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user} read up to {self.read_at:%Y-%m-%d %H:%M}"


class DismissedDecision(models.Model):
    """A decision on the user's own request whose banner on the version page they dismissed."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    change_request = models.ForeignKey(StageChangeRequest, on_delete=models.CASCADE, related_name="+")
    dismissed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "change_request"], name="notifications_one_dismissal"),
        ]

    def __str__(self) -> str:
        return f"{self.user} dismissed {self.change_request_id}"
