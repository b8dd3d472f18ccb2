"""The time every write is stamped with.

Services, model defaults and the activity log read the time from here rather than from timezone.now(), so that a
command that replays history (the demo seed) supplies the time explicitly with `replaying`, instead of patching
Django's clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.utils import timezone

_source: ContextVar[Callable[[], datetime] | None] = ContextVar("clock_source", default=None)


def now() -> datetime:
    """The current time, or the time the surrounding `replaying` block's source gives."""
    source = _source.get()
    return source() if source is not None else timezone.now()


def replayed() -> datetime | None:
    """The time the surrounding `replaying` block gives, or None outside one (then the database stamps the log)."""
    source = _source.get()
    return source() if source is not None else None


@contextmanager
def replaying(source: Callable[[], datetime]) -> Iterator[None]:
    """Stamp every write inside the block with source()'s time (for commands that replay history, not requests)."""
    token = _source.set(source)
    try:
        yield
    finally:
        _source.reset(token)
