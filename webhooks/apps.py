from __future__ import annotations

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from catalog.card import CardTab, add_tab
        from webhooks.permissions import may_manage_webhooks

        add_tab(
            CardTab(
                key="webhooks",
                label="Webhooks",
                url_name="webhooks:model-webhooks",
                order=60,
                visible=lambda access, model: bool(may_manage_webhooks(access, model)),
            )
        )
