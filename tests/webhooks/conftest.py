"""Fixtures of the webhook tests: receivers on this machine allowed, retries that come at once, a webhook on the
personas' model."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from tests.conftest import REQUIRE_POSTGRES
from tests.tasks import rq_queue
from webhooks.models import Webhook
from webhooks.services import create_webhook

# The tests' own Redis database (its queue is emptied before each test): one per pytest worker (gw0, gw1, …), so that
# workers running at once never empty each other's queue.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", f"redis://127.0.0.1:6379/{5 + _WORKER}")


@pytest.fixture(params=["database", "redis"])
def queue(request: pytest.FixtureRequest, settings: Any) -> Iterator[str]:
    """The task backend the test runs on: the database (django-tasks-db), then Redis (django-tasks-rq) when a
    Redis server answers; CI, which requires every test to run (REQUIRE_POSTGRES=1), fails without one."""
    if request.param == "redis":
        try:
            redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1).ping()
        except redis.RedisError as error:
            message = f"needs Redis at {TEST_REDIS_URL} ({error})"
            if REQUIRE_POSTGRES:
                pytest.fail(f"REQUIRE_POSTGRES=1 but the Redis backend cannot be tested: {message}")
            pytest.skip(message)
        settings.RQ_QUEUES = {"default": {"URL": TEST_REDIS_URL}}
        settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
        _empty(rq_queue())
    yield request.param
    if request.param == "redis":
        _empty(rq_queue())


def _empty(queue: Any) -> None:
    queue.empty()
    for registry in (queue.scheduled_job_registry, queue.finished_job_registry, queue.failed_job_registry):
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)


@pytest.fixture
def local(settings: Any) -> Any:
    """Deliveries may go to plain HTTP on 127.0.0.1 (as in the demo); retries wait a few milliseconds; an attempt
    times out quickly."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_RETRY_SECONDS = 0.02
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_CONNECT_TIMEOUT = 1.0
    settings.WEBHOOK_READ_TIMEOUT = 0.5
    settings.WEBHOOK_DISABLE_AFTER = 2
    return settings


def hook(owner: Any, model: Any, url: str, **fields: Any) -> tuple[Webhook, str]:
    """A webhook on model made by its owner through the service: (webhook, secret)."""
    return create_webhook(actor=owner, model=model, url=url, **fields)
