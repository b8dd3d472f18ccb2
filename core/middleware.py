"""Refuse, before any view runs, a URL whose path or query carries text that no database column can hold."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from core.http import refuse
from core.text import unstorable


def unstorable_text_middleware(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        # PostgreSQL refuses NUL in any text it compares, so a lookup by a name from the URL would fail with a 500.
        # Forms already refuse it in bodies (Django's ProhibitNullCharactersValidator); the APIs check their JSON.
        texts = [request.path, *(text for key, values in request.GET.lists() for text in (key, *values))]
        for text in texts:
            reason = unstorable(text)
            if reason:
                return refuse(request, 400, f"The address cannot be read. {reason}")
        return get_response(request)

    return middleware
