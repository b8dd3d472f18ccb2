"""Reads of the activity log."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.http import HttpRequest

from activity.models import ActivityEntry
from catalog.models import ModelVersion, RegisteredModel

FEED_PAGE_SIZE = 20


def activity_page(
    *, request: HttpRequest, model: RegisteredModel, version: ModelVersion | None = None
) -> Page[ActivityEntry]:
    """A page of a model's (or one version's) activity, newest first; the caller has checked view access."""
    entries = ActivityEntry.objects.filter(model=model).select_related("actor", "version")
    if version is not None:
        entries = entries.filter(version=version)
    return Paginator(entries.order_by("-created_at", "-id"), FEED_PAGE_SIZE).get_page(request.GET.get("page"))
