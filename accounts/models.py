"""A user's own settings."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from django.conf import settings
from django.db import models

DEFAULT_TIME_ZONE = "UTC"
TIME_ZONE_MAX_LENGTH = 64


@cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA time zone name this machine knows, sorted."""
    return tuple(sorted(available_timezones()))


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    time_zone = models.CharField(max_length=TIME_ZONE_MAX_LENGTH, default=DEFAULT_TIME_ZONE)

    def __str__(self) -> str:
        return f"{self.user} ({self.time_zone})"
