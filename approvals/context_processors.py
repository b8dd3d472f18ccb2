"""The reviewer's inbox count in the top navigation, computed only when a page renders it."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from approvals.selectors import inbox_count


def inbox(request: HttpRequest) -> dict[str, object]:
    return {"inbox_count": SimpleLazyObject(lambda: inbox_count(user=request.user))}
