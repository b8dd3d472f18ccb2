"""Webhook delivery: events per second one worker delivers to a receiver on this machine (database queue, and Redis
when --redis-url answers), and the request → approve round trip with three active webhooks on the model against
none (deliveries happen after commit, so the round trip pays only for writing the outbox rows).

Runs on a throwaway SQLite database (or --database-url, which it migrates and fills: give it an empty one).

    python bench/webhooks.py [--events 500] [--runs 40] [--redis-url redis://127.0.0.1:6379/5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class Counter(BaseHTTPRequestHandler):
    received = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        with Counter.lock:
            Counter.received += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def receiver() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Counter)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/hook"


def setup(database_url: str, backend: str, redis_url: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        SECRET_KEY="bench-only-secret-key-0123456789-0123456789-0123456789",
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        WEBHOOK_ALLOW_HTTP="1",
        WEBHOOK_ALLOW_PRIVATE="1",
        TASK_BACKEND=backend,
        REDIS_URL=redis_url,
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()


def deliver_rate(url: str, events: int, backend: str) -> float:
    """Write events while no worker runs, then time one worker delivering them all."""
    from activity.services import comment_on_version
    from catalog.models import ModelVersion
    from webhooks.services import create_webhook

    version = ModelVersion.objects.select_related("model__owner").get(name="v1", model__slug="bench-rate")
    owner = version.model.owner
    create_webhook(actor=owner, model=version.model, url=url)
    for n in range(events):
        comment_on_version(actor=owner, version=version, comment=f"Event {n}")
    Counter.received = 0
    command = (
        ["manage.py", "db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.05", "--verbosity", "0"]
        if backend == "database"
        else [
            "manage.py",
            "rqworker",
            "default",
            "--with-scheduler",
            "--job-class",
            "django_tasks_rq.backend.Job",
            "--worker-class",
            "rq.SimpleWorker",
        ]
    )
    worker = subprocess.Popen([sys.executable, *command], cwd=ROOT, env=os.environ.copy())
    try:
        while Counter.received == 0:  # the worker's start (Django's set-up) is not delivery
            if worker.poll() is not None:
                raise SystemExit(f"the worker exited with {worker.returncode}")
            time.sleep(0.001)
        started, first = time.perf_counter(), Counter.received
        while Counter.received < events:
            if worker.poll() is not None:
                raise SystemExit(f"the worker exited with {worker.returncode}")
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    return (events - first) / elapsed


def round_trips(url: str, runs: int) -> tuple[float, float]:
    """Median seconds of a request and its approval, through the views, on a model without webhooks and on one with
    three active webhooks; the two alternate, so that a busy machine slows both alike."""
    from django.contrib.auth.models import User
    from django.test import Client

    from approvals.models import StageChangeRequest
    from catalog.models import ModelVersion, Stage
    from webhooks.services import create_webhook

    hooked = ModelVersion.objects.select_related("model__owner").get(name="v1", model__slug="bench-trip-3")
    for n in range(3):
        create_webhook(actor=hooked.model.owner, model=hooked.model, url=f"{url}{n}")
    editor, reviewer = Client(), Client()
    editor.force_login(User.objects.get(username="bench-editor"))
    reviewer.force_login(User.objects.get(username="bench-reviewer"))
    times: dict[str, list[float]] = {"bench-trip-0": [], "bench-trip-3": []}
    stages = [Stage.DEVELOPMENT, Stage.STAGING]
    for n in range(runs):
        # ABBA: each kind goes first every other run, so that what the first leaves behind (a warm cache, a larger
        # table) weighs on both alike.
        for slug, measured in list(times.items())[:: 1 if n % 2 == 0 else -1]:
            for client in (editor, reviewer):  # a person reads the last message on the next page; nobody here does
                client.cookies.pop("messages", None)
            started = time.perf_counter()
            response = editor.post(f"/models/{slug}/versions/v1/request/", {"to_stage": stages[n % 2], "comment": "go"})
            assert response.status_code == 302, response.status_code
            pending = StageChangeRequest.objects.get(version__model__slug=slug, status="pending")
            response = reviewer.post(f"/approvals/requests/{pending.pk}/approve/", {"comment": "ok"})
            assert response.status_code == 302, response.status_code
            measured.append(time.perf_counter() - started)
    return statistics.median(times["bench-trip-0"]), statistics.median(times["bench-trip-3"])


def seed() -> None:
    from django.contrib.auth.models import User

    from catalog.permissions import Role
    from catalog.services import add_collaborator, register_model, register_version

    owner = User.objects.create_user("bench-owner", "owner@example.com", "bench")
    editor = User.objects.create_user("bench-editor", "editor@example.com", "bench")
    reviewer = User.objects.create_user("bench-reviewer", "reviewer@example.com", "bench")
    for slug in ("bench-rate", "bench-trip-0", "bench-trip-3"):
        model = register_model(actor=owner, name=slug.replace("-", " ").title())
        assert model.slug == slug, model.slug
        add_collaborator(actor=owner, model=model, user=editor, role=Role.EDITOR)
        add_collaborator(actor=owner, model=model, user=reviewer, role=Role.REVIEWER)
        register_version(actor=owner, model=model, name="v1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--backend", choices=["database", "redis"], default="database")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        setup(args.database_url or f"sqlite:///{tmp}/bench.sqlite3", args.backend, args.redis_url)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        seed()
        url = receiver()
        rate = deliver_rate(url, args.events, args.backend)
        print(f"delivery, {args.backend} queue, one worker: {rate:,.0f} events/s ({args.events} events)")
        none, three = round_trips(url, args.runs)
        print(f"request → approve round trip, median of {args.runs}: no webhooks {none * 1000:.1f} ms,")
        print(f"  three active webhooks {three * 1000:.1f} ms ({(three / none - 1) * 100:+.1f}%)")


if __name__ == "__main__":
    main()
