"""The tasks a change leaves for after it commits (its mail, its webhooks' delivery runs), queued as one.

On the database queue a task is a row, written in the change's transaction: it commits with the change or vanishes
with it, at no commit of its own. Other queues (Redis) get their tasks once the transaction has committed. A request
or an approval mails someone and starts its webhooks' deliveries: two task rows, each an INSERT and half a millisecond
of Django in the request. Inside `together()` the tasks asked for are held and, when the block ends without an error,
queued as one: the task itself when there is only one, else a `follow_up` task that queues each of them from the
worker.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import Any

from django.db import transaction
from django.utils.module_loading import import_string
from django_tasks import task
from django_tasks.base import Task
from django_tasks_db import DatabaseBackend

logger = logging.getLogger(__name__)


class _Held:
    """A task held for the end of a `together()` block. It also sits in the transaction's on-commit list, where doing
    nothing it only says whether its savepoint rolled back (which takes it off the list, and the task with it)."""

    def __init__(self, held_task: Task[Any, Any], kwargs: dict[str, Any]) -> None:
        self.task, self.kwargs = held_task, kwargs

    def __call__(self) -> None:
        pass


_holding: ContextVar[list[_Held] | None] = ContextVar("followups_holding", default=None)


def queue(follow: Task[Any, Any], **kwargs: Any) -> None:
    """Queue follow with kwargs for when the current transaction commits (at once outside one)."""
    held = _holding.get()
    if held is not None and transaction.get_connection().in_atomic_block:
        item = _Held(follow, kwargs)
        transaction.on_commit(item)
        held.append(item)
        return
    _enqueue(follow, kwargs)


@contextmanager
def together() -> Iterator[None]:
    """Hold the tasks queued inside, then queue them as one task when the block ends without an error (inside the
    caller's transaction: wrap a service's body in it, under its transaction.atomic)."""
    if _holding.get() is not None:  # already inside a block: its end queues these too
        yield
        return
    token = _holding.set([])
    try:
        yield
        held = _holding.get() or []
    finally:
        _holding.reset(token)
    waiting = {id(registered[1]) for registered in transaction.get_connection().run_on_commit}
    held = [item for item in held if id(item) in waiting]  # not those of a savepoint that rolled back
    if len(held) == 1:
        _enqueue(held[0].task, held[0].kwargs)
    elif held:
        _enqueue(follow_up, {"calls": [[item.task.module_path, item.kwargs] for item in held]})


def _enqueue(follow: Task[Any, Any], kwargs: dict[str, Any]) -> None:
    if isinstance(follow.get_backend(), DatabaseBackend):
        follow.enqueue(**kwargs)  # a row, in the transaction when there is one
    else:
        transaction.on_commit(partial(_send, follow, kwargs))  # at once outside a transaction


def _send(follow: Task[Any, Any], kwargs: dict[str, Any]) -> None:
    try:
        follow.enqueue(**kwargs)
    except Exception:  # the change is committed: a queue that cannot take its follow-up must not turn it into an error
        logger.exception("Could not queue %s with %s", follow.module_path, kwargs)


@task()
def follow_up(*, calls: list[list[Any]]) -> int:
    """Queue each [task path, keyword arguments] of calls; returns how many."""
    for path, kwargs in calls:
        import_string(path).enqueue(**kwargs)
    return len(calls)
