"""Give every request its Access: what request.user may do, read once per request and passed where needed."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from catalog.permissions import Access


def access_middleware(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        # Access reads nothing until it is asked: request.user stays lazy, so pages that never decide pay nothing.
        request.access = Access(request.user)  # type: ignore[attr-defined]
        return get_response(request)

    return middleware
