"""Webhooks: subscriptions to the catalog's events, the events written with the changes they report (the outbox),
and one delivery per event and webhook, with its attempts."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from activity.models import ActivityEntry, Verb
from catalog.models import RegisteredModel
from core import clock
from core.constraints import choices_check

MAX_URL = 2000
MAX_DESCRIPTION = 200
MAX_HEADERS = 10
RESPONSE_EXCERPT = 1000  # characters of a receiver's answer kept in the delivery log
RESPONSE_CAP = 16 * 1024  # bytes of a receiver's answer read at most
# After a rotation, how long the old secret also signs (hours): by default, and at most.
GRACE_HOURS = 24
MAX_GRACE_HOURS = 7 * 24


class EventType(models.TextChoices):
    VERSION_REGISTERED = "version.registered", "Version registered"
    STAGE_CHANGE_REQUESTED = "stage_change.requested", "Stage change requested"
    STAGE_CHANGE_APPROVED = "stage_change.approved", "Stage change approved"
    STAGE_CHANGE_REJECTED = "stage_change.rejected", "Stage change rejected"
    STAGE_CHANGE_CANCELLED = "stage_change.cancelled", "Stage change cancelled"
    STAGE_CHANGED = "version.stage_changed", "Stage changed"
    LOCK_CHANGED = "version.lock_changed", "Lock level changed"
    ALIAS_SET = "alias.set", "Alias set or moved"
    COMMENT_ADDED = "comment.added", "Comment added"
    TEST = "webhook.test", "Test event"


# The activity entries that are events, and theirs types: every service writes its entry with record_activity, which
# writes the events beside it.
VERB_EVENTS: dict[str, EventType] = {
    Verb.VERSION_REGISTERED: EventType.VERSION_REGISTERED,
    Verb.STAGE_CHANGE_REQUESTED: EventType.STAGE_CHANGE_REQUESTED,
    Verb.STAGE_CHANGE_APPROVED: EventType.STAGE_CHANGE_APPROVED,
    Verb.STAGE_CHANGE_REJECTED: EventType.STAGE_CHANGE_REJECTED,
    Verb.STAGE_CHANGE_CANCELLED: EventType.STAGE_CHANGE_CANCELLED,
    Verb.STAGE_CHANGED: EventType.STAGE_CHANGED,
    Verb.LOCK_CHANGED: EventType.LOCK_CHANGED,
    Verb.ALIAS_SET: EventType.ALIAS_SET,
    Verb.COMMENTED: EventType.COMMENT_ADDED,
}
SUBSCRIBABLE = [event for event in EventType if event != EventType.TEST]


class State(models.TextChoices):
    ACTIVE = "active", "Active"
    TEST = "test", "Test mode"  # events are logged, not sent; a test event is sent
    DISABLED = "disabled", "Disabled"


class PayloadFormat(models.TextChoices):
    STANDARD = "standard", "JSON event"
    SLACK = "slack", "Slack incoming webhook"


def wants_event(events: list[str], event_type: str) -> bool:
    """Whether a webhook subscribed to events (none: every one) gets an event of event_type (a test event always)."""
    return event_type == EventType.TEST or not events or event_type in events


class Webhook(models.Model):
    # None: a registry-wide webhook (made by admins), which hears every model's events.
    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, null=True, blank=True, related_name="webhooks")
    url = models.CharField("URL", max_length=MAX_URL)
    description = models.CharField(max_length=MAX_DESCRIPTION, blank=True)
    # The event types wanted (EventType values); empty: all of them.
    events = models.JSONField(default=list, blank=True)
    payload_format = models.CharField(max_length=10, choices=PayloadFormat.choices, default=PayloadFormat.STANDARD)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    # Standard Webhooks secrets ("whsec_" + base64). After a rotation the previous one also signs until it expires.
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)
    # While a worker delivers to this webhook (one at a time, so that deliveries go out in event order).
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            choices_check("state", State, "webhooks_state_valid"),
            choices_check("payload_format", PayloadFormat, "webhooks_payload_format_valid"),
        ]

    def __str__(self) -> str:
        return self.url

    def event_labels(self) -> list[str]:
        return [str(EventType(value).label) for value in self.events if value in EventType.values]


class Event(models.Model):
    """One event as it is sent (the outbox): written in the transaction of the change it reports."""

    event_id = models.CharField(max_length=40, unique=True)  # "evt_…": the same on every attempt, for deduplication
    type = models.CharField(max_length=40, choices=EventType.choices)
    payload = models.JSONField()
    activity_entry = models.ForeignKey(
        ActivityEntry, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [choices_check("type", EventType, "webhooks_event_type_valid")]
        indexes = [models.Index(fields=["created_at"], name="webhooks_event_created_idx")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    LOGGED = "logged", "Logged (test mode)"


class Delivery(models.Model):
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        constraints = [choices_check("status", DeliveryStatus, "webhooks_delivery_status_valid")]
        indexes = [
            models.Index(fields=["webhook", "-id"], name="webhooks_delivery_log_idx"),
            # The next delivery of a webhook, in event order.
            models.Index(
                fields=["webhook", "id"],
                condition=models.Q(status="pending"),
                name="webhooks_delivery_pending_idx",
            ),
            models.Index(fields=["created_at"], name="webhooks_delivery_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.webhook_id} ({self.status})"
