"""A model's webhooks and their delivery logs (its Owners only), through the same services as the Webhooks tab."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from api.pagination import DEFAULT_LIMIT, keyset
from api.schemas import DeliveryOut, DeliveryPage, RotateIn, WebhookIn, WebhookOut, WebhookPatch
from api.wiring import ERRORS, caller, created
from catalog.models import RegisteredModel
from catalog.selectors import get_model
from webhooks import selectors, services
from webhooks.models import Delivery, Webhook
from webhooks.permissions import may_manage_webhooks

router = Router(tags=["webhooks"])


def _owned(request: HttpRequest, slug: str) -> RegisteredModel:
    who = caller(request)
    model = get_model(who=who.access, slug=slug)
    may_manage_webhooks(who.access, model).check_role()
    return model


def _webhook(webhook: Webhook, secret: str | None = None) -> dict[str, Any]:
    return {
        "id": webhook.pk,
        "url": webhook.url,
        "events": webhook.events,
        "description": webhook.description,
        "payload_format": webhook.payload_format,
        "state": webhook.state,
        "headers": webhook.headers,
        "disabled_reason": webhook.disabled_reason,
        "created_at": webhook.created_at,
        "secret": secret,
    }


def _delivery(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.pk,
        "event_id": delivery.event.event_id,
        "event_type": delivery.event.type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "status_code": delivery.status_code,
        "duration_ms": delivery.duration_ms,
        "response_excerpt": delivery.response_excerpt,
        "error": delivery.error,
        "next_attempt_at": delivery.next_attempt_at,
        "created_at": delivery.created_at,
    }


@router.get("/models/{slug}/webhooks", response={200: list[WebhookOut], **ERRORS}, summary="A model's webhooks")
def list_webhooks(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    return [_webhook(w) for w in selectors.model_webhooks(model=_owned(request, slug))]


@router.post(
    "/models/{slug}/webhooks",
    response={201: WebhookOut, **ERRORS},
    summary="Create a webhook (the answer holds its secret, this once)",
)
def create_webhook(request: HttpRequest, slug: str, payload: WebhookIn) -> Status[dict[str, Any]]:
    model = _owned(request, slug)
    webhook, secret = services.create_webhook(actor=caller(request).user, model=model, **payload.model_dump())
    return created(_webhook(webhook, secret))


@router.get("/models/{slug}/webhooks/{webhook_id}", response={200: WebhookOut, **ERRORS}, summary="One webhook")
def get_webhook(request: HttpRequest, slug: str, webhook_id: int) -> dict[str, Any]:
    return _webhook(selectors.get_webhook(model=_owned(request, slug), pk=webhook_id))


@router.patch("/models/{slug}/webhooks/{webhook_id}", response={200: WebhookOut, **ERRORS}, summary="Change a webhook")
def patch_webhook(request: HttpRequest, slug: str, webhook_id: int, payload: WebhookPatch) -> dict[str, Any]:
    webhook = selectors.get_webhook(model=_owned(request, slug), pk=webhook_id)
    fields = payload.model_dump(exclude_none=True)
    return _webhook(services.update_webhook(actor=caller(request).user, webhook=webhook, **fields))


@router.delete(
    "/models/{slug}/webhooks/{webhook_id}",
    response={200: list[WebhookOut], **ERRORS},
    summary="Delete a webhook (the answer: the model's webhooks left)",
)
def delete_webhook(request: HttpRequest, slug: str, webhook_id: int) -> list[dict[str, Any]]:
    model = _owned(request, slug)
    webhook = selectors.get_webhook(model=model, pk=webhook_id)
    services.delete_webhook(actor=caller(request).user, webhook=webhook)
    return [_webhook(w) for w in selectors.model_webhooks(model=model)]


@router.post(
    "/models/{slug}/webhooks/{webhook_id}/rotate-secret",
    response={200: WebhookOut, **ERRORS},
    summary="A new secret (in the answer, this once); the old one signs too for the grace period",
)
def rotate_secret(request: HttpRequest, slug: str, webhook_id: int, payload: RotateIn) -> dict[str, Any]:
    webhook = selectors.get_webhook(model=_owned(request, slug), pk=webhook_id)
    secret = services.rotate_secret(actor=caller(request).user, webhook=webhook, grace_hours=payload.grace_hours)
    webhook.refresh_from_db()
    return _webhook(webhook, secret)


@router.post(
    "/models/{slug}/webhooks/{webhook_id}/test",
    response={201: DeliveryOut, **ERRORS},
    summary="Queue a test event to the webhook",
)
def send_test(request: HttpRequest, slug: str, webhook_id: int) -> Status[dict[str, Any]]:
    webhook = selectors.get_webhook(model=_owned(request, slug), pk=webhook_id)
    return created(_delivery(services.send_test_event(actor=caller(request).user, webhook=webhook)))


@router.get(
    "/models/{slug}/webhooks/{webhook_id}/deliveries",
    response={200: DeliveryPage, **ERRORS},
    summary="The webhook's deliveries, newest first",
)
def list_deliveries(
    request: HttpRequest, slug: str, webhook_id: int, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> dict[str, Any]:
    webhook = selectors.get_webhook(model=_owned(request, slug), pk=webhook_id)
    rows, following = keyset(
        Delivery.objects.filter(webhook=webhook).select_related("event"), cursor=cursor, limit=limit
    )
    return {"items": [_delivery(d) for d in rows], "next": following}


@router.post(
    "/models/{slug}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    response={201: DeliveryOut, **ERRORS},
    summary="Queue a delivery's event again, with the same event id",
)
def redeliver(request: HttpRequest, slug: str, webhook_id: int, delivery_id: int) -> Status[dict[str, Any]]:
    webhook = selectors.get_webhook(model=_owned(request, slug), pk=webhook_id)
    delivery = selectors.get_delivery(webhook=webhook, pk=delivery_id)
    return created(_delivery(services.redeliver(actor=caller(request).user, delivery=delivery)))
