"""Every write of webhooks: create, change, rotate the secret, delete, send a test event, redeliver. Each asks
webhooks.permissions, and the subscription changes are logged in the activity log."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from accounts.system import system_user
from activity.models import Verb
from activity.services import record_activity
from catalog.models import RegisteredModel
from core import clock
from webhooks import permissions
from webhooks.delivery import RESERVED_HEADERS, new_secret
from webhooks.events import schedule_after_commit, test_event
from webhooks.models import (
    GRACE_HOURS,
    MAX_DESCRIPTION,
    MAX_GRACE_HOURS,
    MAX_HEADERS,
    MAX_URL,
    SUBSCRIBABLE,
    Delivery,
    DeliveryStatus,
    Event,
    PayloadFormat,
    State,
    Webhook,
)
from webhooks.safety import UnsafeURL, check_url_form, resolve

HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")


class WebhookError(Exception):
    """A webhook change was refused; the message is fit to show a user."""


def _checked_url(url: str) -> str:
    try:
        url = check_url_form(url)
        if len(url) > MAX_URL:
            raise WebhookError(f"The URL has {len(url):,} characters; at most {MAX_URL:,} are allowed.")
        resolve(url)
    except UnsafeURL as error:
        raise WebhookError(str(error)) from None
    return url


def _checked_events(events: list[str]) -> list[str]:
    allowed = {str(event) for event in SUBSCRIBABLE}
    unknown = sorted(set(events) - allowed)
    if unknown:
        raise WebhookError(f"Unknown event types: {', '.join(unknown)}.")
    return [str(event) for event in SUBSCRIBABLE if str(event) in set(events)]  # in one order, without repeats


def _checked_headers(headers: dict[str, str]) -> dict[str, str]:
    if len(headers) > MAX_HEADERS:
        raise WebhookError(f"At most {MAX_HEADERS} extra headers are allowed.")
    checked = {}
    for name, value in headers.items():
        name, value = str(name).strip(), str(value).strip()
        if not HEADER_NAME.match(name):
            raise WebhookError(f"“{name}” is not a valid header name.")
        if name.lower() in RESERVED_HEADERS:
            raise WebhookError(f"The header {name} is set by the delivery itself.")
        if any(char in value for char in "\r\n\x00") or len(value) > 1000:
            raise WebhookError(f"The value of {name} has line breaks or is longer than 1,000 characters.")
        checked[name] = value
    return checked


def _checked_fields(fields: dict[str, Any]) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    if "url" in fields:
        checked["url"] = _checked_url(fields["url"])
    if "description" in fields:
        description = str(fields["description"]).strip()
        if len(description) > MAX_DESCRIPTION:
            raise WebhookError(f"The description has more than {MAX_DESCRIPTION} characters.")
        checked["description"] = description
    if "events" in fields:
        checked["events"] = _checked_events(list(fields["events"]))
    if "payload_format" in fields:
        if fields["payload_format"] not in PayloadFormat.values:
            raise WebhookError("Choose a payload format.")
        checked["payload_format"] = fields["payload_format"]
    if "state" in fields:
        if fields["state"] not in State.values:
            raise WebhookError("Choose active, test mode or disabled.")
        checked["state"] = fields["state"]
    if "headers" in fields:
        checked["headers"] = _checked_headers(dict(fields["headers"]))
    return checked


def _log(actor: User, verb: Verb, webhook: Webhook, **extra: Any) -> None:
    record_activity(
        actor=actor, verb=verb, model=webhook.model, extra={"webhook": webhook.pk, "url": webhook.url} | extra
    )


@transaction.atomic
def create_webhook(
    *,
    actor: User,
    model: RegisteredModel | None,
    url: str,
    events: list[str] | None = None,
    description: str = "",
    payload_format: str = PayloadFormat.STANDARD,
    state: str = State.ACTIVE,
    headers: dict[str, str] | None = None,
) -> tuple[Webhook, str]:
    """Subscribe url to model's events (every model's, for None); returns the webhook and its secret, which is shown
    this once. Raises PermissionDenied, WebhookError."""
    permissions.may_manage_webhooks(actor, model).enforce(WebhookError)
    fields = _checked_fields(
        {
            "url": url,
            "events": events or [],
            "description": description,
            "payload_format": payload_format,
            "state": state,
            "headers": headers or {},
        }
    )
    secret = new_secret()
    webhook = Webhook.objects.create(model=model, secret=secret, created_by=actor, **fields)
    _log(actor, Verb.WEBHOOK_CREATED, webhook)
    return webhook, secret


@transaction.atomic
def update_webhook(*, actor: User, webhook: Webhook, **fields: Any) -> Webhook:
    """Change webhook's URL, events, description, payload format, state or headers. Enabling it again clears its
    failures and sends what waited. Raises PermissionDenied, WebhookError."""
    permissions.may_manage_webhooks(actor, webhook.model).enforce(WebhookError)
    unknown = set(fields) - {"url", "events", "description", "payload_format", "state", "headers"}
    if unknown:
        raise WebhookError(f"These cannot be changed: {', '.join(sorted(unknown))}.")
    checked = _checked_fields(fields)
    webhook = Webhook.objects.select_for_update(of=("self",)).select_related("model").get(pk=webhook.pk)
    changed = [name for name, value in checked.items() if getattr(webhook, name) != value]
    if not changed:
        return webhook
    enabled = "state" in changed and webhook.state == State.DISABLED and checked["state"] != State.DISABLED
    for name in changed:
        setattr(webhook, name, checked[name])
    if enabled:
        webhook.consecutive_failures, webhook.disabled_reason = 0, ""
        changed += ["consecutive_failures", "disabled_reason"]
    webhook.updated_at = clock.now()
    webhook.save(update_fields=[*changed, "updated_at"])
    change = "changed"
    if "state" in changed:
        change = {"active": "enabled", "test": "put in test mode", "disabled": "disabled"}[webhook.state]
    _log(actor, Verb.WEBHOOK_CHANGED, webhook, change=change, fields=sorted(set(changed) & set(checked)))
    if webhook.state != State.DISABLED:
        schedule_after_commit([webhook.pk])
    return webhook


@transaction.atomic
def disable_after_failures(*, webhook_id: int, failures: int) -> bool:
    """Disable a webhook whose deliveries failed failures times in a row (the delivery worker calls this at
    WEBHOOK_DISABLE_AFTER), logged under Model Catalog's own account; False when it is gone or disabled already."""
    webhook = Webhook.objects.select_for_update(of=("self",)).select_related("model").filter(pk=webhook_id).first()
    if webhook is None or webhook.state == State.DISABLED:
        return False
    reason = f"Disabled automatically after {failures} failed deliveries in a row."
    webhook.state, webhook.disabled_reason, webhook.updated_at = State.DISABLED, reason, clock.now()
    webhook.save(update_fields=["state", "disabled_reason", "updated_at"])
    _log(system_user(), Verb.WEBHOOK_CHANGED, webhook, change="disabled", reason=reason)
    return True


@transaction.atomic
def rotate_secret(*, actor: User, webhook: Webhook, grace_hours: int = GRACE_HOURS) -> str:
    """Give webhook a new secret, returned this once; the old one also signs for grace_hours (receivers accept
    either meanwhile). Raises PermissionDenied, WebhookError."""
    permissions.may_manage_webhooks(actor, webhook.model).enforce(WebhookError)
    if not 0 <= grace_hours <= MAX_GRACE_HOURS:
        raise WebhookError(f"The grace period is from 0 to {MAX_GRACE_HOURS} hours.")
    webhook = Webhook.objects.select_for_update(of=("self",)).select_related("model").get(pk=webhook.pk)
    secret = new_secret()
    now = clock.now()
    webhook.previous_secret, webhook.previous_secret_expires_at = webhook.secret, now + timedelta(hours=grace_hours)
    webhook.secret, webhook.updated_at = secret, now
    webhook.save(update_fields=["previous_secret", "previous_secret_expires_at", "secret", "updated_at"])
    _log(actor, Verb.WEBHOOK_CHANGED, webhook, change="rotated the secret of", grace_hours=grace_hours)
    return secret


@transaction.atomic
def delete_webhook(*, actor: User, webhook: Webhook) -> None:
    """Delete webhook with its delivery log. Raises PermissionDenied, WebhookError."""
    permissions.may_manage_webhooks(actor, webhook.model).enforce(WebhookError)
    webhook = Webhook.objects.select_for_update(of=("self",)).select_related("model").get(pk=webhook.pk)
    _log(actor, Verb.WEBHOOK_DELETED, webhook)
    webhook.delete()


@transaction.atomic
def send_test_event(*, actor: User, webhook: Webhook) -> Delivery:
    """Queue a test event to webhook (also in test mode). Raises PermissionDenied, WebhookError."""
    permissions.may_manage_webhooks(actor, webhook.model).enforce(WebhookError)
    if webhook.state == State.DISABLED:
        raise WebhookError("The webhook is disabled; enable it to send a test event.")
    event = test_event(webhook, actor_name=actor.get_username())
    queued = Delivery.objects.create(webhook=webhook, event=event, next_attempt_at=clock.now())
    schedule_after_commit([webhook.pk])
    return queued


@transaction.atomic
def redeliver(*, actor: User, delivery: Delivery) -> Delivery:
    """Queue delivery's event again (same event id) behind the webhook's pending ones. Raises PermissionDenied,
    WebhookError."""
    webhook = delivery.webhook
    permissions.may_manage_webhooks(actor, webhook.model).enforce(WebhookError)
    if webhook.state == State.DISABLED:
        raise WebhookError("The webhook is disabled; enable it to redeliver.")
    if delivery.status == DeliveryStatus.PENDING:
        raise WebhookError("This delivery is still pending.")
    queued = Delivery.objects.create(webhook=webhook, event=delivery.event, next_attempt_at=clock.now())
    schedule_after_commit([webhook.pk])
    return queued


def prune_deliveries(*, older_than_days: int | None = None) -> int:
    """Delete settled deliveries (and events no delivery refers to any more) older than the log keeps; returns how
    many deliveries went."""
    days = settings.WEBHOOK_LOG_DAYS if older_than_days is None else older_than_days
    cutoff = clock.now() - timedelta(days=days)
    deleted, _ = Delivery.objects.filter(created_at__lt=cutoff).exclude(status=DeliveryStatus.PENDING).delete()
    Event.objects.filter(created_at__lt=cutoff, deliveries__isnull=True).delete()
    return deleted
