"""Admin for webhooks: registry-wide webhooks (every model's events) are made here, by superusers; every write goes
through webhooks.services, as on the Webhooks tab (same checks, refusals and activity entries)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from catalog.admin import REFUSALS, ServiceAdmin, ServiceForm
from webhooks import services
from webhooks.models import SUBSCRIBABLE, Webhook


class WebhookAdminForm(ServiceForm):
    refusals = (*REFUSALS, services.WebhookError)
    events = forms.MultipleChoiceField(
        choices=[(event.value, event.label) for event in SUBSCRIBABLE],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None ticked: every event.",
    )
    headers = forms.JSONField(required=False, initial=dict, help_text='Extra headers, as {"Name": "value"}.')

    class Meta:
        model = Webhook
        fields = ["url", "description", "events", "payload_format", "state", "headers"]


@admin.register(Webhook)
class WebhookAdmin(ServiceAdmin):
    form = WebhookAdminForm
    list_display = ["url", "model", "state", "payload_format", "consecutive_failures", "created_at"]
    list_filter = ["state", "payload_format"]
    search_fields = ["url", "description", "model__name"]
    list_select_related = ["model"]
    readonly_fields = ["model", "disabled_reason", "consecutive_failures", "created_by", "created_at", "updated_at"]

    def add(self, form: ServiceForm) -> Model:
        data = dict(form.cleaned_data)
        data["headers"] = data.get("headers") or {}
        webhook, secret = services.create_webhook(actor=form.actor, model=None, **data)
        form.secret = secret  # type: ignore[attr-defined]
        return webhook

    def change(self, form: ServiceForm) -> Model:
        data = dict(form.cleaned_data)
        data["headers"] = data.get("headers") or {}
        webhook = Webhook.objects.select_related("model").get(pk=form.instance.pk)
        return services.update_webhook(actor=form.actor, webhook=webhook, **data)

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: str | None = None) -> Any:
        form_secret = getattr(self, "_secret", "")
        if form_secret:
            messages.warning(request, f"Copy the signing secret now; it is not shown again: {form_secret}")
        return super().response_add(request, obj, post_url_continue)

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        self._secret = getattr(form, "secret", "")
        return form.applied

    def get_queryset(self, request: HttpRequest) -> QuerySet[Webhook]:
        # The admin shows the registry-wide webhooks; a model's are on its card, for its Owners.
        return super().get_queryset(request).filter(model__isnull=True)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.delete_webhook(actor=request.user, webhook=obj)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Webhook]) -> None:
        for webhook in queryset:
            try:
                services.delete_webhook(actor=request.user, webhook=webhook)  # type: ignore[arg-type]
            except (PermissionDenied, services.WebhookError) as refused:
                messages.error(request, str(refused))
