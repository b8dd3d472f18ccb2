"""Fixtures of the webhook tests: receivers on this machine allowed, retries that come at once, a webhook on the
personas' model."""

from __future__ import annotations

from typing import Any

import pytest

from webhooks.models import Webhook
from webhooks.services import create_webhook


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
