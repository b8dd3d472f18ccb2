"""Failed sign-ins and failed API tokens lock the account and the client address out for a while (django-axes).

The login form goes through axes' authentication backend. API tokens do not pass through Django's
authenticate(), so the token paths (our REST API and the MLflow-compatible API) ask here before checking a token
and report each wrong one here; axes keeps the count and the record an admin sees under "Axes" in the admin.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

# Credentials a token attempt is recorded with: no password, a marker that it was a token, and the username only when
# the caller named one (MLflow's Basic scheme).
TOKEN_MARKER = "api_token"


def lockout_parameters(request: HttpRequest | Any, credentials: dict[str, Any] | None = None) -> list[str]:
    """What a failure counts against: the username and, separately, the client address. A bearer token names no
    user, so it counts against the address alone (an empty username would otherwise lock every token out)."""
    if credentials and credentials.get(TOKEN_MARKER) and not credentials.get("username"):
        return ["ip_address"]
    return ["username", "ip_address"]


def client_username(request: HttpRequest | Any, credentials: dict[str, Any] | None = None) -> str:
    """The username an attempt names, as axes stores it: at most the 150 characters a username may have, without the
    NUL PostgreSQL cannot store (a 10,000-character or NUL username is a failed sign-in, not a server error)."""
    raw = credentials.get("username") if credentials else getattr(request, "POST", {}).get("username")
    return str(raw or "").replace("\x00", "")[:150]


def locked_out_message(request: HttpRequest | None = None) -> str:
    cool_off = get_cool_off(request)
    wait = f"{int(cool_off.total_seconds() // 60) or 1} minutes" if cool_off else "a while"
    return (
        "Too many failed attempts from this address or for this account: sign-in is locked for "
        f"{wait}. An administrator can lift the lock sooner."
    )


def cool_off_seconds(request: HttpRequest | None = None) -> int:
    cool_off = get_cool_off(request)
    return int(cool_off.total_seconds()) if cool_off else 0


def _credentials(username: str | None) -> dict[str, Any]:
    return {"username": username or "", TOKEN_MARKER: True}


def token_locked_out(request: HttpRequest, username: str | None = None) -> bool:
    """Whether this address (or the named user) is locked out; asked before a presented token is even looked up."""
    return not AxesProxyHandler.is_allowed(request, _credentials(username))


def token_failed(request: HttpRequest, username: str | None = None) -> None:
    """Count one wrong, revoked or expired token against the address (and the named user)."""
    user_login_failed.send(sender=__name__, credentials=_credentials(username), request=request)
    # The attempt that reaches the limit keeps its own answer ("not valid"); the next one is told about the lock.
    request.axes_locked_out = False  # type: ignore[attr-defined]


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """The page a locked-out sign-in gets (the login form and the admin's): 429, saying for how long."""
    response = render(request, "registration/locked_out.html", {"message": locked_out_message(request)}, status=429)
    response["Retry-After"] = str(cool_off_seconds(request))
    return response
