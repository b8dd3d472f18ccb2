"""Reads of webhooks: a model's webhooks, one webhook for its Owners, and its delivery log, page by page."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from catalog.models import RegisteredModel
from webhooks.models import Delivery, DeliveryStatus, Webhook

LOG_PAGE_SIZE = 25


def model_webhooks(*, model: RegisteredModel) -> QuerySet[Webhook]:
    """model's webhooks, oldest first, each with the count of its pending and failed deliveries (one query)."""
    return (
        Webhook.objects.filter(model=model)
        .annotate(
            pending=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)),
            failed=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
        )
        .order_by("created_at", "id")
    )


def get_webhook(*, model: RegisteredModel, pk: int) -> Webhook:
    """model's webhook pk; raises Http404 when it has none such."""
    webhook = Webhook.objects.select_related("model").filter(model=model, pk=pk).first()
    if webhook is None:
        raise Http404("No such webhook.")
    return webhook


def get_delivery(*, webhook: Webhook, pk: int) -> Delivery:
    """webhook's delivery pk; raises Http404 otherwise."""
    delivery = Delivery.objects.select_related("event", "webhook__model").filter(webhook=webhook, pk=pk).first()
    if delivery is None:
        raise Http404("No such delivery.")
    return delivery


def delivery_log(*, webhook: Webhook, page: str | int | None) -> Page[Delivery]:
    """webhook's deliveries, newest first, one page (with their events: two queries whatever the page holds)."""
    deliveries = Delivery.objects.filter(webhook=webhook).select_related("event").order_by("-id")
    return Paginator(deliveries, LOG_PAGE_SIZE).get_page(page)
