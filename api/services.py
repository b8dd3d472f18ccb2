"""Every write about API tokens: making, revoking, and noting when one was used; and checking a presented one."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction

from activity.models import Verb
from activity.services import record_activity
from api import permissions
from api.models import MAX_TOKEN_DAYS, MAX_TOKEN_NAME, ApiToken
from core import clock

TOKEN_PREFIX = "mc_"
SHOWN_CHARACTERS = 10  # "mc_" and seven more: enough to tell a user's tokens apart, far too few to guess one
LAST_USED_PRECISION = timedelta(minutes=1)  # a busy client does not write on every request


class TokenError(Exception):
    """A token could not be made or revoked; the message is fit to show a user."""


class TokenRejected(Exception):
    """A presented token does not authenticate: the message says why (unknown, revoked, expired, inactive user)."""


def digest(token: str) -> str:
    """The SHA-256 a token is stored as: tokens are long and random, so a fast hash is enough."""
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def create_api_token(*, actor: User, name: str, expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """Make a token for actor; returns it with its secret, which is shown once. Raises PermissionDenied, TokenError."""
    permissions.may_create_token(actor).enforce(TokenError)
    name = name.strip()
    if not name or len(name) > MAX_TOKEN_NAME or "\x00" in name:
        raise TokenError(f"Name the token (1–{MAX_TOKEN_NAME} characters), e.g. “release pipeline”.")
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        raise TokenError(f"A token expires after 1 to {MAX_TOKEN_DAYS:,} days, or never.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    token = ApiToken.objects.create(
        user=actor,
        name=name,
        prefix=secret[:SHOWN_CHARACTERS],
        digest=digest(secret),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    expires = token.expires_at.date().isoformat() if token.expires_at else ""
    record_activity(
        actor=actor,
        verb=Verb.TOKEN_CREATED,
        model=None,
        extra={"name": name, "token": token.prefix, "expires": expires},
    )
    return token, secret


@transaction.atomic
def revoke_api_token(*, actor: User, token: ApiToken) -> ApiToken:
    """Revoke a token at once, for good. Raises PermissionDenied, TokenError."""
    permissions.may_revoke_token(actor, token).enforce(TokenError)
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        raise TokenError(f"The token “{token.name}” was already revoked.")
    token.revoked_at = clock.now()
    token.save(update_fields=["revoked_at"])
    record_activity(actor=actor, verb=Verb.TOKEN_REVOKED, model=None, extra={"name": token.name, "token": token.prefix})
    return token


def authenticate_token(secret: str) -> User:
    """The active user a presented token acts as; notes when it was used. Raises TokenRejected saying why not."""
    token = ApiToken.objects.select_related("user").filter(digest=digest(secret.strip())).first()
    if token is None:
        raise TokenRejected("This API token is not valid: check that it was copied whole.")
    now = clock.now()
    if token.revoked_at is not None:
        raise TokenRejected(f"This API token (“{token.name}”) was revoked on {token.revoked_at:%Y-%m-%d}.")
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRejected(f"This API token (“{token.name}”) expired on {token.expires_at:%Y-%m-%d}.")
    if not token.user.is_active:
        raise TokenRejected("The account this API token belongs to is deactivated.")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
