"""Keyset pages for API lists: newest first by (created_at, id), with an opaque `next` cursor."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet

from api.errors import ApiError
from core.keyset import Cursor, InvalidCursor, older_than

DEFAULT_LIMIT, MAX_LIMIT = 25, 100

M = TypeVar("M", bound=Model)


def keyset(queryset: QuerySet[M], *, cursor: str | None, limit: int) -> tuple[list[M], str | None]:
    """The rows after cursor (newest first), at most limit, and the cursor of the next page (None on the last)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, "invalid", f"limit is 1 to {MAX_LIMIT}.", field="limit")
    rows = queryset.order_by("-created_at", "-pk")
    if cursor:
        try:
            rows = rows.filter(older_than(Cursor.parse(cursor)))
        except InvalidCursor as error:
            raise ApiError(400, "invalid_cursor", "This cursor is not one the API gave out.", field="cursor") from error
    page = list(rows[: limit + 1])
    following = str(Cursor.of(page[limit - 1])) if len(page) > limit else None
    return page[:limit], following
