"""Who may change other people's accounts."""

from __future__ import annotations

from catalog.permissions import ALLOWED, Verdict, Who, access_of, refused


def may_rename_user(who: Who) -> Verdict:
    """A superuser, or staff with Django's permission to change users (the admin's user pages)."""
    user = access_of(who).user
    if access_of(who).is_active and (user.is_superuser or user.has_perm("auth.change_user")):
        return ALLOWED
    return refused("Only an administrator can rename a user.")
