"""The real worker process (`manage.py db_worker`) against PostgreSQL: events written while no worker runs go out in
order once one starts; a worker killed mid-delivery leaves the event to the next one, sent with the same event id."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from activity.services import comment_on_version
from tests.webhooks.conftest import hook
from tests.webhooks.receiver import Answer, receiving
from webhooks.models import Delivery, DeliveryStatus

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def worker_env() -> dict[str, str]:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": url,  # the test database
        "WEBHOOK_ALLOW_HTTP": "1",
        "WEBHOOK_ALLOW_PRIVATE": "1",
        "WEBHOOK_CONNECT_TIMEOUT": "0.5",
        "WEBHOOK_READ_TIMEOUT": "1",
        "WEBHOOK_RETRY_SECONDS": "0.2",
    }


@contextmanager
def worker() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.1"],
        cwd=ROOT,
        env=worker_env(),
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {seconds} s"
        time.sleep(0.05)


@pytest.mark.usefixtures("local")
def test_events_written_while_no_worker_runs_go_out_in_order_when_a_worker_starts(version: Any, owner: Any) -> None:
    with receiving() as receiver:
        hook(owner, version.model, receiver.url)
        for n in range(20):
            comment_on_version(actor=owner, version=version, comment=f"Comment {n}")
        time.sleep(0.5)
        assert receiver.received == []
        with worker():
            wait_for(lambda: len(receiver.received) == 20, 60, "the worker delivered the 20 events")
    assert [json.loads(r.body)["data"]["comment"] for r in receiver.received] == [f"Comment {n}" for n in range(20)]
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}


@pytest.mark.usefixtures("local")
def test_a_worker_killed_mid_delivery_leaves_it_to_the_next_which_sends_the_same_event_id(
    version: Any, owner: Any
) -> None:
    with receiving(Answer(200, delay=5)) as receiver:
        hook(owner, version.model, receiver.url)
        comment_on_version(actor=owner, version=version, comment="Deliver me once, at least")
        with worker() as first:
            wait_for(lambda: len(receiver.received) == 1, 30, "the first worker started the delivery")
            first.kill()  # SIGKILL: no clean-up of any kind
            first.wait(timeout=10)
        with worker():
            wait_for(lambda: len(receiver.received) == 2, 60, "the next worker redelivered")
            wait_for(
                lambda: Delivery.objects.filter(status=DeliveryStatus.DELIVERED).exists(), 30, "the delivery settled"
            )
    first_id, second_id = receiver.event_ids
    assert first_id == second_id
    delivery = Delivery.objects.get()
    assert delivery.event.event_id == first_id
