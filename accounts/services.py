"""Writes of a user's own settings."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from accounts.models import Profile, time_zone_names


class ProfileError(Exception):
    """A setting that cannot be saved, with a message fit to show the user."""


@transaction.atomic
def set_time_zone(*, actor: AbstractBaseUser, time_zone: str) -> Profile:
    """Save the time zone actor's times are shown in. Raises ProfileError for a name the time zone database lacks."""
    if time_zone not in time_zone_names():
        raise ProfileError(f"“{time_zone}” is not a time zone; pick one from the list, e.g. Europe/Berlin.")
    # A preference of the user's own, not an event on a model: the activity log does not record it.
    profile, _ = Profile.objects.update_or_create(user_id=actor.pk, defaults={"time_zone": time_zone})
    return profile
