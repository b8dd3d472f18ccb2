"""How every app's views answer: a page or its htmx fragment, a page of a list, a safe place to go back to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme

from core.types import AuthedRequest


def page_of(request: HttpRequest, queryset: QuerySet[Any], per_page: int = settings.PAGE_SIZE) -> Page[Any]:
    """The page of queryset that the request's ?page= asks for (the last one when past it)."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def render_page(
    request: AuthedRequest, template: str, context: dict[str, Any], *, partial: str | None = None, status: int = 200
) -> HttpResponse:
    """Render the page, or only its partial for an htmx request; the two differ by HX-Request."""
    fragment = partial and request.htmx and not request.htmx.history_restore_request
    response = render(request, f"{template}#{partial}" if fragment else template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def query_without_page(request: HttpRequest) -> str:
    """The request's query string without its page number, for links to other pages of the same list."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def next_url(request: HttpRequest, default: str) -> str:
    """The POSTed `next` when it points back into this site, else default (never an open redirect)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


# Answers to a request the middleware refuses before any view runs, by path prefix: an API answers in its own
# error shape (each API registers its renderer in its AppConfig.ready); anything else gets the 400 page.
ErrorRenderer = Callable[[HttpRequest, int, str], HttpResponse]
ERROR_RENDERERS: dict[str, ErrorRenderer] = {}


def register_error_renderer(prefix: str, renderer: ErrorRenderer) -> None:
    """Answer refusals of requests under prefix (a path such as "/api/v1/") with renderer."""
    ERROR_RENDERERS[prefix] = renderer


def refuse(request: HttpRequest, status: int, message: str) -> HttpResponse:
    """A 4xx answer in the shape of the API the path belongs to, or the site's own error page."""
    for prefix, renderer in sorted(ERROR_RENDERERS.items(), key=lambda item: -len(item[0])):
        if request.path.startswith(prefix):
            return renderer(request, status, message)
    return render(request, f"{status}.html", {"message": message}, status=status)
