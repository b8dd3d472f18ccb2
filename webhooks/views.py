"""The Webhooks tab of the model card (its Owners only): the model's webhooks, one webhook with its delivery log, and
the forms that create, change, rotate, test, delete and redeliver, each through one service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from catalog import card
from catalog.models import RegisteredModel
from catalog.selectors import get_model
from core.types import AuthedRequest
from webhooks import selectors, services
from webhooks.forms import RotateForm, WebhookForm
from webhooks.models import GRACE_HOURS, Webhook
from webhooks.permissions import may_manage_webhooks

SECRET_KEY = "webhook_secret"  # the session key of a secret shown once, on the page the action leads to


def _owned_model(request: AuthedRequest, slug: str) -> RegisteredModel:
    model = get_model(who=request.access, slug=slug)  # 404 for who may not see it
    may_manage_webhooks(request.access, model).check_role()  # 403 for who sees it but is not an Owner
    return model


def _render_list(request: AuthedRequest, model: RegisteredModel, form: WebhookForm) -> HttpResponse:
    context = {"webhooks": selectors.model_webhooks(model=model), "form": form}
    return card.render_tab(request, model, tab="webhooks", template="webhooks/webhooks_tab.html", context=context)


@login_required
@require_GET
def model_webhooks(request: AuthedRequest, slug: str) -> HttpResponse:
    return _render_list(request, _owned_model(request, slug), WebhookForm())


@login_required
@require_POST
def webhook_create(request: AuthedRequest, slug: str) -> HttpResponse:
    model = _owned_model(request, slug)
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            webhook, secret = services.create_webhook(actor=request.user, model=model, **form.fields_for_service())
        except services.WebhookError as error:
            form.add_error(None, str(error))
        else:
            request.session[SECRET_KEY] = {"webhook": webhook.pk, "secret": secret}
            messages.success(request, "Webhook created. Copy its secret now: it is shown only this once.")
            return redirect("webhooks:webhook-detail", slug=model.slug, pk=webhook.pk)
    return _render_list(request, model, form)


def _render_detail(
    request: AuthedRequest, webhook: Webhook, form: WebhookForm | None = None, rotate: RotateForm | None = None
) -> HttpResponse:
    model = webhook.model
    assert model is not None
    shown = request.session.pop(SECRET_KEY, None) if request.method == "GET" else None
    context = {
        "webhook": webhook,
        "form": form or WebhookForm.for_webhook(webhook),
        "rotate_form": rotate or RotateForm(),
        "log": selectors.delivery_log(webhook=webhook, page=request.GET.get("page")),
        "secret": shown["secret"] if shown and shown.get("webhook") == webhook.pk else "",
    }
    return card.render_tab(
        request,
        model,
        tab="webhooks",
        template="webhooks/webhook_detail_tab.html",
        context=context,
        fragment="delivery-log",
    )


@login_required
@require_GET
def webhook_detail(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    webhook = selectors.get_webhook(model=_owned_model(request, slug), pk=pk)
    return _render_detail(request, webhook)


def _back(webhook: Webhook) -> HttpResponse:
    assert webhook.model is not None
    return redirect("webhooks:webhook-detail", slug=webhook.model.slug, pk=webhook.pk)


@login_required
@require_POST
def webhook_edit(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    webhook = selectors.get_webhook(model=_owned_model(request, slug), pk=pk)
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            services.update_webhook(actor=request.user, webhook=webhook, **form.fields_for_service())
        except services.WebhookError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Webhook saved.")
            return _back(webhook)
    return _render_detail(request, webhook, form=form)


@login_required
@require_POST
def webhook_rotate(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    webhook = selectors.get_webhook(model=_owned_model(request, slug), pk=pk)
    form = RotateForm(request.POST)
    if form.is_valid():
        grace = form.cleaned_data["grace_hours"]
        secret = services.rotate_secret(
            actor=request.user, webhook=webhook, grace_hours=GRACE_HOURS if grace is None else grace
        )
        request.session[SECRET_KEY] = {"webhook": webhook.pk, "secret": secret}
        messages.success(request, "New secret made. Copy it now: it is shown only this once.")
        return _back(webhook)
    return _render_detail(request, webhook, rotate=form)


@login_required
@require_POST
def webhook_test(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    webhook = selectors.get_webhook(model=_owned_model(request, slug), pk=pk)
    try:
        services.send_test_event(actor=request.user, webhook=webhook)
    except services.WebhookError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Test event queued; its delivery appears in the log below.")
    return _back(webhook)


@login_required
@require_POST
def delivery_redeliver(request: AuthedRequest, slug: str, pk: int, delivery_pk: int) -> HttpResponse:
    webhook = selectors.get_webhook(model=_owned_model(request, slug), pk=pk)
    delivery = selectors.get_delivery(webhook=webhook, pk=delivery_pk)
    try:
        services.redeliver(actor=request.user, delivery=delivery)
    except services.WebhookError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Event {delivery.event.event_id} queued again.")
    return _back(webhook)


@login_required
@require_POST
def webhook_delete(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    model = _owned_model(request, slug)
    webhook = selectors.get_webhook(model=model, pk=pk)
    services.delete_webhook(actor=request.user, webhook=webhook)
    messages.success(request, f"Deleted the webhook to {webhook.url}.")
    return redirect("webhooks:model-webhooks", slug=model.slug)
