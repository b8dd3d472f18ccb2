"""Reads of a user's settings."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from accounts.models import DEFAULT_TIME_ZONE, Profile


def time_zone_of(*, user: AbstractBaseUser) -> str:
    """The name of the time zone user chose, UTC until they choose one."""
    return Profile.objects.filter(user_id=user.pk).values_list("time_zone", flat=True).first() or DEFAULT_TIME_ZONE
