"""Bulk-load a large synthetic catalog for benchmarks: N models × M versions, idempotent on re-run."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from bench.seeding import SeedError
from bench.seeding.activity import pad_activity
from bench.seeding.catalog import seed_models, seed_user, seed_versions
from bench.seeding.change_requests import seed_pending_requests
from bench.seeding.data import OWNER
from catalog.services import recount_stage_counts


class Command(BaseCommand):
    help = "Bulk-load N models with M versions each (names scale-model-NNNNN, v1..vM), skipping what exists."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--models", type=int, default=10_000)
        parser.add_argument("--versions-per-model", type=int, default=10)
        parser.add_argument(
            "--pending-requests",
            type=int,
            default=0,
            help="Open a pending request (by scale-editor, reviewed by scale-reviewer) on the newest version of "
            "this many models.",
        )
        parser.add_argument(
            "--activity-entries",
            type=int,
            default=0,
            help="Top the activity log up to this many entries with comments, rejected and cancelled requests, edits "
            "and lock changes by scale-user-01…40 over the past year (none that moves a stage).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        n_models, n_versions = options["models"], options["versions_per_model"]
        for option in ("models", "versions_per_model", "pending_requests", "activity_entries"):
            if options[option] < 0:
                raise CommandError(f"--{option.replace('_', '-')} must be zero or more, not {options[option]}.")
        started = time.monotonic()
        owner = seed_user(username=OWNER)
        with transaction.atomic():
            models = seed_models(owner=owner, count=n_models, out=self.stdout)
        with transaction.atomic():
            created = seed_versions(owner=owner, models=models, per_model=n_versions, out=self.stdout)
            # Bulk inserts bypass the services, so the per-stage counts are rebuilt from the versions.
            recount_stage_counts(model_ids=[m.pk for m in models])
        if options["pending_requests"]:
            with transaction.atomic():
                opened = seed_pending_requests(models=models[: options["pending_requests"]], out=self.stdout)
            self.stdout.write(f"{opened:,} pending requests added.")
        if options["activity_entries"]:
            try:
                with transaction.atomic():
                    padded = pad_activity(
                        owner=owner, models=models, target=options["activity_entries"], out=self.stdout
                    )
            except SeedError as error:
                raise CommandError(str(error)) from error
            self.stdout.write(f"{padded:,} activity entries added.")
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(models):,} scale models ready ({created:,} versions added) in {time.monotonic() - started:.1f}s."
            )
        )
