"""Who may make and revoke API tokens."""

from __future__ import annotations

from api.models import ApiToken
from catalog.permissions import ALLOWED, Verdict, Who, access_of, refused


def may_create_token(who: Who) -> Verdict:
    """Every active signed-in user may make tokens that act as themselves."""
    return ALLOWED if access_of(who).is_active else refused("You cannot create API tokens.")


def may_revoke_token(who: Who, token: ApiToken) -> Verdict:
    """A token's own user may revoke it, and so may a superuser (say, for a token that leaked)."""
    user = access_of(who).user
    if access_of(who).is_active and (user.pk == token.user_id or user.is_superuser):
        return ALLOWED
    return refused("You can revoke only your own API tokens.")
