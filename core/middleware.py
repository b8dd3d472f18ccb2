"""Refuse, before any view runs, an API URL whose path or query carries text that no database column can hold."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from core.http import ERROR_RENDERERS, refuse
from core.text import unstorable


def unstorable_text_middleware(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        # PostgreSQL refuses NUL in any text it compares, so an API lookup by a name from the URL would fail with a
        # 500. Pages need no such check: their URL converters do not match NUL, and their forms (query strings and
        # bodies alike) refuse it with Django's ProhibitNullCharactersValidator. The APIs check their JSON bodies.
        if not request.path.startswith(tuple(ERROR_RENDERERS)):
            return get_response(request)
        texts = [request.path, *(text for key, values in request.GET.lists() for text in (key, *values))]
        for text in texts:
            reason = unstorable(text)
            if reason:
                return refuse(request, 400, f"The address cannot be read. {reason}")
        return get_response(request)

    return middleware
