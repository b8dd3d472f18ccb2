"""Keyset ("older / newer") pagination over (created_at, id), newest first.

A page is the rows just past a cursor, the (created_at, id) of a row already seen, so rows arriving at the top
never shift the pages below, and no page needs a count or an OFFSET: every page costs one index range scan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from django.db.models import Model, Q, QuerySet
from django.http import QueryDict

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)
CURSOR_PARAMS = ("before", "after")


M = TypeVar("M", bound=Model)


class InvalidCursor(ValueError):
    """A cursor in a URL that this module did not write."""


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    pk: int

    def __str__(self) -> str:
        return f"{(self.created_at - EPOCH) // ONE_MICROSECOND}_{self.pk}"

    @classmethod
    def parse(cls, value: str) -> Cursor:
        """Read a cursor written by __str__; raises InvalidCursor."""
        micros, sep, pk = value.partition("_")
        try:
            if not sep or len(value) > 40:
                raise ValueError(value)
            return cls(created_at=EPOCH + int(micros) * ONE_MICROSECOND, pk=int(pk))
        except (ValueError, OverflowError) as error:
            raise InvalidCursor(value) from error

    @classmethod
    def of(cls, row: Any) -> Cursor:
        """The cursor of a row with created_at and pk."""
        return cls(created_at=row.created_at, pk=row.pk)


def without_cursor(params: QueryDict) -> QueryDict:
    """A mutable copy of params without the page's cursor: the filters alone."""
    query = params.copy()
    for name in CURSOR_PARAMS:
        query.pop(name, None)
    return query


@dataclass
class KeysetPage(Generic[M]):
    object_list: list[M]
    older: Cursor | None = None  # the oldest row shown, when there are older rows (a before= cursor)
    newer: Cursor | None = None  # the newest row shown, when there are newer rows (an after= cursor)
    error: str = ""
    params: QueryDict = field(default_factory=QueryDict)
    oldest_first: bool = False

    def _query(self, **cursor: Cursor) -> str:
        query = without_cursor(self.params)
        for name, value in cursor.items():
            query[name] = str(value)
        return query.urlencode()

    @property
    def older_query(self) -> str:
        return self._query(before=self.older) if self.older else ""

    @property
    def newer_query(self) -> str:
        return self._query(after=self.newer) if self.newer else ""

    @property
    def newest_query(self) -> str:
        """The first page (the newest entries, or the oldest when listed oldest first) with the same filters."""
        return self._query()

    @property
    def is_first(self) -> bool:
        return (self.older if self.oldest_first else self.newer) is None


def older_than(cursor: Cursor) -> Q:
    # The redundant created_at bound lets the database start its index scan at the cursor instead of filtering
    # every newer row; the OR alone is not a range it can seek to.
    return Q(created_at__lte=cursor.created_at) & (Q(created_at__lt=cursor.created_at) | Q(pk__lt=cursor.pk))


def _after(cursor: Cursor) -> Q:
    return Q(created_at__gte=cursor.created_at) & (Q(created_at__gt=cursor.created_at) | Q(pk__gt=cursor.pk))


NEWEST_FIRST, OLDEST_FIRST = ("-created_at", "-pk"), ("created_at", "pk")


def keyset_page(queryset: QuerySet[M], params: QueryDict, *, size: int, oldest_first: bool = False) -> KeysetPage[M]:
    """The page of queryset that params' before= or after= cursor asks for, newest (or oldest) first, in one query.

    `before` always asks for rows older than its cursor and `after` for newer ones; which of them moves forward
    through the list depends on its order.
    """
    try:
        before = Cursor.parse(str(params["before"])) if params.get("before") else None
        after = Cursor.parse(str(params["after"])) if params.get("after") else None
    except InvalidCursor:
        page = keyset_page(queryset, QueryDict(), size=size, oldest_first=oldest_first)
        first = "oldest" if oldest_first else "newest"
        page.params, page.error = params, f"That page link is not valid any more; showing the {first} entries."
        return page
    order, reverse = (OLDEST_FIRST, NEWEST_FIRST) if oldest_first else (NEWEST_FIRST, OLDEST_FIRST)
    forward, back = (after, before) if oldest_first else (before, after)
    onward, backward = (_after, older_than) if oldest_first else (older_than, _after)

    def make(rows: list[M], *, next_row: M | None, previous: Cursor | None) -> KeysetPage[M]:
        following = Cursor.of(next_row) if next_row is not None else None
        older, newer = (previous, following) if oldest_first else (following, previous)
        return KeysetPage(rows, older=older, newer=newer, params=params, oldest_first=oldest_first)

    if back is not None and forward is None:
        rows = list(queryset.filter(backward(back)).order_by(*reverse)[: size + 1])
        if len(rows) > size:
            rows = rows[:size][::-1]
            return make(rows, next_row=rows[-1], previous=Cursor.of(rows[0]))
        # Less than a page lies back there: that is the start of the list, shown as a full first page.
        page = keyset_page(queryset, QueryDict(), size=size, oldest_first=oldest_first)
        page.params = params
        return page
    if forward is not None:
        queryset = queryset.filter(onward(forward))
    rows = list(queryset.order_by(*order)[: size + 1])
    previous = (Cursor.of(rows[0]) if rows else forward) if forward is not None else None
    return make(rows[:size], next_row=rows[size - 1] if len(rows) > size else None, previous=previous)
