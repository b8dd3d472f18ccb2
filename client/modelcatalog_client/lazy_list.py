"""Lists read page by page as they are used, as Verta's lazy lists: iterate, index, `find`, `sort`.

The API lists newest first (by creation time) and pages by cursor. Iterating follows the cursors; `[i]` asks for
only the first i + 1 items; `len()` reads the whole list (the API does not count). `sort("time_created",
descending=True)` is the server's own order and stays lazy; every other sort reads the whole list first and
sorts it here.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Generic, TypeVar, overload

from modelcatalog_client._wire import Http, Params

T = TypeVar("T")
L = TypeVar("L", bound="LazyList[Any]")

SERVER_ORDER: tuple[str, bool] = ("time_created", True)


class LazyList(Generic[T]):
    """Items of one API list, read when needed."""

    def __init__(
        self,
        http: Http,
        where: str,
        build: Callable[[Http, Mapping[str, Any]], T],
        *,
        params: Params | None = None,
        sort_keys: Mapping[str, Callable[[T], Any]],
    ) -> None:
        self._http = http
        self._where = where
        self._build = build
        self._params: dict[str, str | int | bool] = dict(params or {})
        self._sort_keys = sort_keys
        self._sort = SERVER_ORDER

    def sort(self: L, key: str, descending: bool = False) -> L:
        """A copy sorted by key; only ("time_created", descending=True), the API's order, stays lazy.

        Any other order reads every item first, then sorts them in this process (stable; names without regard
        to case). The keys are those of `sort_keys()`.
        """
        if key not in self._sort_keys:
            raise ValueError(f"cannot sort by {key!r}; sort keys are: {', '.join(self._sort_keys)}")
        sorted_copy = copy.copy(self)
        sorted_copy._sort = (key, descending)
        return sorted_copy

    def sort_keys(self) -> list[str]:
        """The keys `sort` takes."""
        return list(self._sort_keys)

    def _pages(self, wanted: int | None = None) -> Iterator[T]:
        """Items in the server's order, following the cursors; asks for no more than `wanted` in all."""
        cursor: str | None = None
        read = 0
        while wanted is None or read < wanted:
            limit = self._http.page_size if wanted is None else min(self._http.page_size, wanted - read)
            params = {**self._params, "limit": limit, **({"cursor": cursor} if cursor else {})}
            page = self._http.get(self._where, params=params)
            items = page["items"]
            for item in items:
                yield self._build(self._http, item)
            read += len(items)
            cursor = page.get("next")
            if not cursor or not items:
                return

    def _items(self, wanted: int | None = None) -> Iterator[T]:
        if self._sort == SERVER_ORDER:
            return self._pages(wanted)
        key, descending = self._sort
        return iter(sorted(self._pages(), key=self._sort_keys[key], reverse=descending))

    def __iter__(self) -> Iterator[T]:
        return self._items()

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            start, stop, step = index.start, index.stop, index.step
            if stop is None or stop < 0 or (start or 0) < 0 or (step or 1) < 0:
                return list(self._items())[index]
            return list(itertools.islice(self._items(stop), start, stop, step))
        if not isinstance(index, int):
            raise TypeError(f"list indices must be integers or slices, not {type(index).__name__}")
        if index < 0:
            return list(self._items())[index]
        for item in itertools.islice(self._items(index + 1), index, None):
            return item
        raise IndexError("index out of range")

    def __len__(self) -> int:
        """The number of items: reads the whole list, page by page."""
        return sum(1 for _ in self._pages())

    def __bool__(self) -> bool:
        return any(True for _ in self._pages(1))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self._params.items())
        order = "" if self._sort == SERVER_ORDER else f", sort={self._sort[0]!r}, descending={self._sort[1]}"
        return f"<{type(self).__name__} {self._where}{' ' + shown if shown else ''}{order}>"


class FindableList(LazyList[T]):
    """A lazy list the API filters with `find`, Verta's predicate language."""

    def find(self: L, *predicates: str | Sequence[str]) -> L:
        """A copy with these predicates, ANDed with any it has: `find("stage == staging", "labels == nlp")`.

        Each predicate is `key op value` with op one of ==, !=, <, <=, >, >=, ~=; a single list of predicates is
        taken too, as Verta's `find` does. The server parses them and says what is wrong (BadRequest).
        """
        given = predicates[0] if len(predicates) == 1 and isinstance(predicates[0], list | tuple) else predicates
        for predicate in given:
            if not isinstance(predicate, str):
                raise TypeError(f"predicates must be type str, not {type(predicate)}")
        found = copy.copy(self)
        existing = [str(self._params["find"])] if self._params.get("find") else []
        found._params = {**self._params, "find": " and ".join([*existing, *given])}
        return found
