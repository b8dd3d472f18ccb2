"""What every API operation shares: who is calling, the documented errors, absolute links."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest
from ninja import Status

from api.schemas import ErrorOut
from catalog.permissions import Access

# The refusals every operation may answer with, documented in the OpenAPI schema (429: a locked-out address).
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 429: ErrorOut}


@dataclass(frozen=True)
class Caller:
    user: User
    access: Access


def caller(request: HttpRequest) -> Caller:
    """The authenticated user (a token's or the session's) and what they may do, for this request."""
    return Caller(user=request.user, access=request.access)  # type: ignore[arg-type, attr-defined]


def base_url(request: HttpRequest) -> str:
    """This site's address as the client reached it, for links to pages."""
    return request.build_absolute_uri("/").rstrip("/")


def created(body: dict[str, Any]) -> Status[dict[str, Any]]:
    return Status(201, body)
