"""Who is calling: an API token (Authorization: Bearer), or the browser's session (with the CSRF token for writes)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja.utils import check_csrf

from api.errors import ApiError, Unauthenticated
from api.services import TokenRejected, authenticate_token
from catalog.permissions import Access
from core import lockout

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CatalogAuth(HttpBearer):
    """A bearer token, or else a signed-in session; anything else is a 401 that says what was wrong."""

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, secret = header.partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                raise Unauthenticated("Send the token as “Authorization: Bearer <token>”.")
            return self.authenticate(request, secret)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            if request.method not in SAFE_METHODS and check_csrf(request) is not None:
                raise ApiError(403, "csrf_failed", "A browser session needs the CSRF token to change anything.")
            return user
        raise Unauthenticated("No API token was sent: use “Authorization: Bearer <token>”, or sign in.")

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        if lockout.token_locked_out(request):
            raise ApiError(429, "locked_out", lockout.locked_out_message(request))
        try:
            user = authenticate_token(token)
        except TokenRejected as rejected:
            lockout.token_failed(request)
            raise Unauthenticated(str(rejected)) from rejected
        # The rest of the request (its Access, the services) acts as the token's user.
        request.user = user
        request.access = Access(user)  # type: ignore[attr-defined]
        return user
