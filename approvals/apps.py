from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.template.loader import render_to_string


def _pending_badge(model: Any) -> str:
    from approvals.selectors import pending_count_for_model

    return render_to_string(
        "approvals/partials/_pending_count.html", {"pending_count": pending_count_for_model(model=model)}
    )


class ApprovalsConfig(AppConfig):
    name = "approvals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from approvals.views import policy_context
        from catalog.card import CardPanel, CardTab, add_panel, add_tab

        add_tab(
            CardTab(
                key="pending",
                label="Pending Approvals",
                url_name="approvals:model-pending",
                order=30,
                badge=_pending_badge,
            )
        )
        add_panel(CardPanel(template="approvals/partials/_policy_box.html", context=policy_context, order=20))
