"""Writes of a user's own settings."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, User
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import permissions
from accounts.models import Profile, time_zone_names
from activity.models import Verb
from activity.services import record_activity


class ProfileError(Exception):
    """A setting that cannot be saved, with a message fit to show the user."""


class AccountError(Exception):
    """A change to an account that cannot be made, with a message fit to show the user."""


@transaction.atomic
def set_time_zone(*, actor: AbstractBaseUser, time_zone: str) -> Profile:
    """Save the time zone actor's times are shown in. Raises ProfileError for a name the time zone database lacks."""
    if time_zone not in time_zone_names():
        raise ProfileError(f"“{time_zone}” is not a time zone; pick one from the list, e.g. Europe/Berlin.")
    # A preference of the user's own, not an event on a model: the activity log does not record it.
    profile, _ = Profile.objects.update_or_create(user_id=actor.pk, defaults={"time_zone": time_zone})
    return profile


@transaction.atomic
def rename_user(*, actor: User, user: User, username: str) -> User:
    """Give user a new username, logged as an entry of its own ("renamed the user rev6 to mallory"); entries written
    before keep the name of their time. Raises PermissionDenied, AccountError."""
    permissions.may_rename_user(actor).enforce(AccountError)
    user = User.objects.select_for_update().get(pk=user.pk)
    old = user.username
    user.username = username
    others = [field.name for field in User._meta.fields if field.name != "username"]
    try:
        user.full_clean(exclude=others)  # Django's username rules and uniqueness, with its own messages
    except ValidationError as invalid:
        raise AccountError(" ".join(invalid.message_dict.get("username", invalid.messages))) from invalid
    if user.username == old:
        return user
    user.save(update_fields=["username"])
    record_activity(actor=actor, verb=Verb.USER_RENAMED, model=None, extra={"from": old, "to": user.username})
    return user
