"""Delivering a webhook's events: one run at a time per webhook (a lease on its row), its pending deliveries in event
order, each retried with exponential back-off and jitter until it succeeds or its attempts are spent."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django_tasks import task

from core import clock
from webhooks import delivery
from webhooks.models import Delivery, DeliveryStatus, State, Webhook
from webhooks.services import disable_after_failures

logger = logging.getLogger(__name__)

MAX_WAIT_SECONDS = 8 * 60 * 60


def retry_wait(attempts: int) -> timedelta:
    """How long to wait after attempts failed attempts: doubling from WEBHOOK_RETRY_SECONDS, at most 8 hours, ±20%
    so that the retries of many webhooks failing together spread out."""
    seconds = min(settings.WEBHOOK_RETRY_SECONDS * 2 ** (attempts - 1), MAX_WAIT_SECONDS)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


def _lease() -> timedelta:
    # Longer than one attempt can last (connect, then reads up to twice the read timeout), so that a live worker
    # never loses its lease, while a worker that died hands over soon.
    return timedelta(seconds=2 * (settings.WEBHOOK_CONNECT_TIMEOUT + 2 * settings.WEBHOOK_READ_TIMEOUT) + 2)


def schedule(webhook_id: int, *, at: datetime | None = None, watchdog: bool = False) -> None:
    """Queue a delivery run for webhook (at a time: a retry, or a watchdog that takes over from a run that died)."""
    runner = deliver_webhook.using(run_after=at) if at is not None else deliver_webhook
    if watchdog:
        runner.enqueue(webhook_id=webhook_id, watchdog=True)
    else:
        runner.enqueue(webhook_id=webhook_id)


def _claim(webhook_id: int) -> bool:
    now = clock.now()
    held = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    return bool(Webhook.objects.filter(held, pk=webhook_id).update(lease_until=now + _lease()))


def _head(webhook_id: int) -> Delivery | None:
    """The webhook's oldest pending delivery: nothing after it goes out before it."""
    return (
        Delivery.objects.filter(webhook_id=webhook_id, status=DeliveryStatus.PENDING)
        .select_related("event")
        .order_by("id")
        .first()
    )


def _due(head: Delivery | None) -> bool:
    return head is not None and (head.next_attempt_at is None or head.next_attempt_at <= clock.now())


@task()
def fan_out(*, webhook_ids: list[int]) -> None:
    """Queue a delivery run for each webhook (so that workers deliver to them side by side)."""
    for webhook_id in webhook_ids:
        schedule(webhook_id)


@task()
def deliver_webhook(*, webhook_id: int, watchdog: bool = False) -> int:
    """Send webhook's due deliveries in order; returns how many were settled (delivered or failed)."""
    settled = 0
    while True:
        if not _claim(webhook_id):
            # Another run holds the webhook, and looks again before it lets go: nothing to do here. A watchdog
            # stays on watch while that run lives, and takes over should its worker die.
            lease_until = Webhook.objects.filter(pk=webhook_id).values_list("lease_until", flat=True).first()
            if watchdog and lease_until is not None:
                schedule(webhook_id, at=lease_until + timedelta(seconds=1), watchdog=True)
            return settled
        if _due(_head(webhook_id)):
            # Should this worker die mid-delivery (killed, the machine lost), the watchdog takes over when the lease
            # ends and sends the delivery again, with its event id: at least once.
            schedule(webhook_id, at=clock.now() + _lease() + timedelta(seconds=1), watchdog=True)
        try:
            settled += _drain(webhook_id)
        finally:
            Webhook.objects.filter(pk=webhook_id).update(lease_until=None)
        # A delivery committed while this run held the lease found it held: look again after letting go.
        webhook = Webhook.objects.filter(pk=webhook_id).only("state").first()
        if webhook is None or webhook.state == State.DISABLED or not _due(_head(webhook_id)):
            return settled


def _drain(webhook_id: int) -> int:
    settled = 0
    while True:
        webhook = Webhook.objects.filter(pk=webhook_id).first()
        if webhook is None or webhook.state == State.DISABLED:
            return settled  # a disabled webhook's deliveries wait until it is enabled again
        head = _head(webhook_id)
        if head is None:
            return settled
        if not _due(head):
            schedule(webhook_id, at=head.next_attempt_at)
            return settled
        Webhook.objects.filter(pk=webhook_id).update(lease_until=clock.now() + _lease())
        _attempt(webhook, head)
        if head.status == DeliveryStatus.PENDING:
            schedule(webhook_id, at=head.next_attempt_at)
            return settled
        settled += 1


def _attempt(webhook: Webhook, head: Delivery) -> None:
    now = clock.now()
    outcome = delivery.attempt(webhook, head.event)
    head.attempts += 1
    head.last_attempt_at = now
    head.status_code = outcome.status_code
    head.duration_ms = outcome.duration_ms
    head.response_excerpt = outcome.excerpt
    head.error = outcome.error[:300]
    if outcome.ok:
        head.status, head.next_attempt_at = DeliveryStatus.DELIVERED, None
        Webhook.objects.filter(pk=webhook.pk).exclude(consecutive_failures=0).update(consecutive_failures=0)
    elif head.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        head.status, head.next_attempt_at = DeliveryStatus.FAILED, None
        logger.warning("Webhook %s: gave up on %s after %d attempts", webhook.pk, head.event.event_id, head.attempts)
        _count_failure(webhook)
    else:
        head.next_attempt_at = now + retry_wait(head.attempts)
    head.save(
        update_fields=[
            "attempts",
            "last_attempt_at",
            "status_code",
            "duration_ms",
            "response_excerpt",
            "error",
            "status",
            "next_attempt_at",
        ]
    )


def _count_failure(webhook: Webhook) -> None:
    Webhook.objects.filter(pk=webhook.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    failures = Webhook.objects.filter(pk=webhook.pk).values_list("consecutive_failures", flat=True).first() or 0
    if failures >= settings.WEBHOOK_DISABLE_AFTER and disable_after_failures(webhook_id=webhook.pk, failures=failures):
        logger.warning("Webhook %s to %s: disabled automatically after %d failures", webhook.pk, webhook.url, failures)
