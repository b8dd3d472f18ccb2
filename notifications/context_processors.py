"""The navigation's badges: requests waiting for the user's review and unread notifications, counted together in one
query, and only when a page renders one of them."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from notifications.selectors import nav_counts


def nav(request: HttpRequest) -> dict[str, object]:
    counts = SimpleLazyObject(lambda: nav_counts(user=request.user))
    return {
        "inbox_count": SimpleLazyObject(lambda: counts[0]),
        "notification_count": SimpleLazyObject(lambda: counts[1]),
    }
