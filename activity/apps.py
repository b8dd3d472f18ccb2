from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate

TRIGGERS_MIGRATION = ("activity", "0005_append_only_triggers")
INTEGRITY_MIGRATION = ("activity", "0011_log_integrity")


def _ensure_append_only(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """Put the triggers back after a migrate that rebuilt the table (SQLite does, to alter it), each set only once
    the migration that made it has run."""
    from django.db.migrations.recorder import MigrationRecorder

    from activity.db import install_append_only, install_integrity

    connection = connections[using]
    recorder = MigrationRecorder(connection)
    applied = recorder.applied_migrations() if recorder.has_table() else {}
    if TRIGGERS_MIGRATION in applied:
        install_append_only(connection)
    if INTEGRITY_MIGRATION in applied:
        install_integrity(connection)


def register_chain_function(sender: Any = None, connection: BaseDatabaseWrapper | None = None, **kwargs: Any) -> None:
    """Give a SQLite connection the hash function its chaining trigger calls (activity.db)."""
    if connection is not None and connection.vendor == "sqlite":
        from activity.chain import CANONICAL_FIELDS, SQLITE_HASH_FUNCTION, sqlite_link_hash

        connection.connection.create_function(
            SQLITE_HASH_FUNCTION, len(CANONICAL_FIELDS), sqlite_link_hash, deterministic=True
        )


class ActivityConfig(AppConfig):
    name = "activity"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_ensure_append_only, sender=self)
        connection_created.connect(register_chain_function)
        for connection in connections.all(initialized_only=True):
            if connection.connection is not None:
                register_chain_function(connection=connection)

        from catalog.card import CardPanel, CardTab, add_panel, add_tab

        add_tab(CardTab(key="activity", label="Activity", url_name="activity:model-activity", order=20))
        add_tab(CardTab(key="history", label="Stages as of…", url_name="activity:model-history", order=40))
        add_panel(
            CardPanel(template="activity/partials/_history_link.html", context=lambda access, model: {}, order=10)
        )
