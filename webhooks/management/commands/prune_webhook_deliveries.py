"""Delete webhook deliveries (and their events) older than WEBHOOK_LOG_DAYS; run it daily (cron, a scheduler)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from webhooks.services import prune_deliveries


class Command(BaseCommand):
    help = "Delete settled webhook deliveries older than WEBHOOK_LOG_DAYS (or --days)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--days", type=int, default=None, help="Keep this many days instead of WEBHOOK_LOG_DAYS.")

    def handle(self, *args: Any, days: int | None, **options: Any) -> None:
        deleted = prune_deliveries(older_than_days=days)
        self.stdout.write(f"Deleted {deleted} webhook deliveries.")
