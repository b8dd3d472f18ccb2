from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate

TRIGGERS_MIGRATION = ("activity", "0005_append_only_triggers")


def _ensure_append_only(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """Put the triggers back after a migrate that rebuilt the table (SQLite does, to alter it), not before 0005."""
    from django.db.migrations.recorder import MigrationRecorder

    from activity.db import install_triggers

    connection = connections[using]
    recorder = MigrationRecorder(connection)
    if recorder.has_table() and TRIGGERS_MIGRATION in recorder.applied_migrations():
        install_triggers(connection)


class ActivityConfig(AppConfig):
    name = "activity"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_ensure_append_only, sender=self)

        from catalog.card import CardPanel, CardTab, add_panel, add_tab

        add_tab(CardTab(key="activity", label="Activity", url_name="activity:model-activity", order=20))
        add_tab(CardTab(key="history", label="Stages as of…", url_name="activity:model-history", order=40))
        add_panel(
            CardPanel(template="activity/partials/_history_link.html", context=lambda access, model: {}, order=10)
        )
