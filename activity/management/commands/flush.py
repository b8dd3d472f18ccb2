"""Django's flush, which lifts the activity log's append-only triggers for the flush alone."""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections, transaction

from activity.db import install_triggers, remove_triggers


class Command(FlushCommand):
    help = (
        f"{FlushCommand.help} The activity log is emptied too: its append-only triggers are dropped for the flush "
        "and created again in the same transaction."
    )

    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        # One transaction: the triggers are back, or the data is still there.
        with transaction.atomic(using=connection.alias):
            remove_triggers(connection)
            super().handle(**options)
            install_triggers(connection)
