"""Running the task queue in tests: the real backend's queued tasks, run by its own worker code, in this process."""

from __future__ import annotations

import socket
import time
from datetime import timedelta
from typing import Any

import django_rq
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_rq.backend import Job
from rq import SimpleWorker

from core.followups import follow_up
from webhooks.events import QueuedRuns

FOLLOW_UP = follow_up.module_path


def on_redis() -> bool:
    """Whether the tests' task backend is Redis (django-tasks-rq) rather than the database."""
    return "RQBackend" in settings.TASKS["default"]["BACKEND"]


def run_tasks(*, wait_for_deferred: float = 0.0) -> int:
    """Run every task that is ready, and those that become ready meanwhile, with the backend's own worker; with
    wait_for_deferred, keep going while a deferred task (a retry) comes due within that many seconds. Returns how
    many tasks ran. Unlike `db_worker --batch`, it leaves the test's database connection open."""
    if on_redis():
        return _run_rq(wait_for_deferred)
    try:
        return _run_database_queue(wait_for_deferred)
    finally:
        # This worker ran inside the test's transaction, where a real one waits for its commit: the delivery runs the
        # transaction queued have run, so the next change must queue its own (webhooks.events queues one per webhook
        # and transaction).
        for registered in connection.run_on_commit:
            if isinstance(registered[1], QueuedRuns):
                registered[1].done = True


def _run_database_queue(wait_for_deferred: float) -> int:
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


def _run_rq(wait_for_deferred: float) -> int:
    queue = rq_queue()
    finished = queue.finished_job_registry
    failed = queue.failed_job_registry
    before = finished.count + failed.count
    deadline = time.monotonic() + wait_for_deferred
    while True:
        # A worker in burst mode runs what is queued, after moving the scheduled jobs that are due into the queue.
        worker = SimpleWorker([queue], connection=queue.connection, job_class=Job)
        worker.work(burst=True, with_scheduler=True, logging_level="WARNING")
        left = deadline - time.monotonic()
        if left > 0 and _next_scheduled(queue) is not None and _next_scheduled(queue) <= time.time() + left:  # type: ignore[operator]
            time.sleep(0.02)
            continue
        return finished.count + failed.count - before


def _next_scheduled(queue: Any) -> float | None:
    scheduled = queue.connection.zrange(queue.scheduled_job_registry.key, 0, 0, withscores=True)
    return float(scheduled[0][1]) if scheduled else None


def rq_queue() -> Any:
    return django_rq.get_queue("default", job_class=Job)


def queued(task_path_suffix: str = "", *, unpacked: bool = True) -> list[str]:
    """The paths of the tasks waiting in the queue (ending in task_path_suffix); unless not unpacked, those a waiting
    follow_up task will queue (core.followups: a change's mail and delivery runs in one task) count as waiting."""
    if on_redis():
        queue = rq_queue()
        jobs = [job for job in map(queue.fetch_job, queue.get_job_ids()) if job is not None]
        waiting = [(job.func_name, job.kwargs) for job in jobs]
    else:
        results = DBTaskResult.objects.filter(status="READY").order_by("enqueued_at")
        waiting = [(result.task_path, result.args_kwargs["kwargs"]) for result in results]
    paths = []
    for path, kwargs in waiting:
        paths.extend([call[0] for call in kwargs["calls"]] if path == FOLLOW_UP and unpacked else [path])
    return [path for path in paths if path.endswith(task_path_suffix)]


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
