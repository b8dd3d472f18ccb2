"""Running the task queue in tests: the real backend's queued tasks, run by its own worker code, in this process."""

from __future__ import annotations

import socket
import time
from datetime import timedelta

from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult


def run_tasks(*, wait_for_deferred: float = 0.0) -> int:
    """Run every task that is ready, and those that become ready meanwhile, as the database worker does; with
    wait_for_deferred, keep going while a deferred task (a retry) comes due within that many seconds. Returns how
    many tasks ran. Unlike `db_worker --batch`, it leaves the test's database connection open."""
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="tests",
        excluded_queue_names=[],
    )
    ran = 0
    deadline = time.monotonic() + wait_for_deferred
    while True:
        result = DBTaskResult.objects.ready().filter(backend_name="default").first()
        if result is None:
            left = deadline - time.monotonic()
            soon = timezone.now() + timedelta(seconds=max(left, 0))
            if left > 0 and DBTaskResult.objects.filter(status="READY", run_after__lte=soon).exists():
                time.sleep(0.02)
                continue
            return ran
        result.claim(worker.worker_id)
        worker.run_task(result)
        ran += 1


def queued(task_path_suffix: str = "") -> list[DBTaskResult]:
    """The tasks waiting in the queue (their path ending in task_path_suffix), oldest first."""
    return [
        result
        for result in DBTaskResult.objects.filter(status="READY").order_by("enqueued_at")
        if result.task_path.endswith(task_path_suffix)
    ]


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
