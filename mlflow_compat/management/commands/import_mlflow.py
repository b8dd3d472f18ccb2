"""Import an MLflow server's model registry: `manage.py import_mlflow --from URL --as USERNAME`."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from mlflow_compat.importer import Importer, ImportFailed, MlflowReader, Summary, Tally

FAILURES_SHOWN = 50


class ProgressLine:
    """The import's progress on stderr: a bar redrawn in place on a terminal, a plain line every few seconds
    elsewhere (a log file or CI gets no carriage returns). Twenty lines of our own rather than a dependency."""

    def __init__(self, out: OutputWrapper, *, every: float = 5.0) -> None:
        self.out, self.every = out, every
        self.tty = out.isatty()
        self.last = 0.0
        self.drawn = False

    def __call__(self, summary: Summary) -> None:
        now = time.monotonic()
        if not self.tty and now - self.last < self.every:
            return
        self.last = now
        total = max(summary.versions_estimate, summary.versions.seen, 1)
        share = min(summary.versions.seen / total, 1.0)
        rate = summary.versions.seen / max(summary.seconds, 1e-9)
        line = (
            f"versions {summary.versions.seen:,}/{total:,} · models {summary.models.seen:,}/{summary.models_total:,}"
            f" · aliases {summary.aliases.seen:,} · {rate:,.0f} versions/s"
        )
        if self.tty:
            bar = "#" * int(share * 24)
            self.out.write(f"\r[{bar:<24}] {share:4.0%} {line}", ending="")
            self.drawn = True
        else:
            self.out.write(f"{share:4.0%} {line}")
        self.out.flush()

    def done(self, summary: Summary) -> None:
        """The last state: a final line off a terminal, the end of the bar on one."""
        if not self.tty:
            self.last = 0.0
            self(summary)
        elif self.drawn:
            self.out.write("")
            self.drawn = False


class Command(BaseCommand):
    help = (
        "Import an MLflow server's model registry (models, versions, descriptions, tags, aliases, stages, times) "
        "through Model Catalog's services. Idempotent: a re-run adds only what is new, so an interrupted import "
        "resumes by running it again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from",
            dest="source",
            required=True,
            metavar="URL",
            help="the MLflow server's address, as in MLFLOW_TRACKING_URI (e.g. http://127.0.0.1:5000)",
        )
        parser.add_argument(
            "--as",
            dest="username",
            required=True,
            metavar="USERNAME",
            help="the Model Catalog user the import acts as: it owns the models it creates and is the actor of every "
            "activity entry (MLflow's own users and times are kept in each entry)",
        )
        parser.add_argument(
            "--token",
            default=None,
            help="an MLflow token, sent as Authorization: Bearer (default: $MLFLOW_TRACKING_TOKEN; without one, "
            "$MLFLOW_TRACKING_USERNAME and $MLFLOW_TRACKING_PASSWORD are sent as Basic credentials when set)",
        )
        parser.add_argument(
            "--models",
            default="",
            metavar="PATTERN",
            help="only the models whose name matches this shell-style pattern, e.g. 'churn-*' (case-sensitive)",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="read and check everything, say what would be imported, and write nothing",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username, dry_run = options["username"], options["dry_run"]
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would bury the progress
        token = options["token"] or os.environ.get("MLFLOW_TRACKING_TOKEN") or None
        try:
            reader = MlflowReader(
                options["source"],
                token=token,
                username=os.environ.get("MLFLOW_TRACKING_USERNAME") or None,
                password=os.environ.get("MLFLOW_TRACKING_PASSWORD") or None,
            )
        except ImportFailed as error:
            raise CommandError(str(error)) from error
        try:
            reader.check()  # the source first: a wrong address or token says so before anything else
        except ImportFailed as error:
            reader.close()
            raise CommandError(str(error)) from error
        actor = User.objects.filter(username=username).first()
        if actor is None or not actor.is_active:
            reader.close()
            state = "is inactive" if actor is not None else "does not exist"
            raise CommandError(f"The user “{username}” {state}: --as names the Model Catalog user the import acts as.")
        progress = ProgressLine(self.stderr)
        importer = Importer(reader, actor=actor, pattern=options["models"], report=progress)
        try:
            summary = importer.run(dry_run=dry_run)
        except (ImportFailed, KeyboardInterrupt) as error:
            progress.done(importer.summary)
            partial = importer.summary
            reason = str(error) if isinstance(error, ImportFailed) else "Interrupted."
            if partial.models.seen and not dry_run:
                partial.finished = time.monotonic()
                self._summary(partial, dry_run=False, title="Stopped after importing from")
                reason += " What was imported is kept: run the same command again to resume."
            raise CommandError(reason) from error
        finally:
            reader.close()
        progress.done(summary)
        self._summary(summary, dry_run=dry_run)
        if summary.failures:
            raise CommandError(f"{len(summary.failures):,} objects could not be imported (listed above).")

    def _summary(self, summary: Summary, *, dry_run: bool, title: str = "") -> None:
        write = self.stdout.write
        kinds: list[tuple[str, Tally]] = [
            ("models", summary.models),
            ("versions", summary.versions),
            ("aliases", summary.aliases),
        ]
        if dry_run:
            write(f"Dry run, nothing was written. Importing from {summary.server} would give:")
        elif summary.nothing_new and not summary.failures and not title:
            counts = ", ".join(f"{tally.existing:,} {kind}" for kind, tally in kinds)
            write(self.style.SUCCESS(f"Nothing new in {summary.server}: {counts} were already here."))
        else:
            write(
                f"{title or 'Imported from'} {summary.server} in {summary.seconds:.1f} s "
                f"({summary.versions_per_second:,.0f} versions/s):"
            )
        created = "would create" if dry_run else "created"
        write(f"  {'':<10}{created:>13}{'already here':>14}{'failed':>8}")
        for kind, tally in kinds:
            write(f"  {kind:<10}{tally.created:>13,}{tally.existing:>14,}{tally.failed:>8,}")
        if summary.prompts_skipped:
            write(f"  {summary.prompts_skipped:,} prompts left out (MLflow keeps prompts as registered models).")
        if summary.failures:
            write(self.style.ERROR(f"Failed ({len(summary.failures):,}):"))
            for line in summary.failures[:FAILURES_SHOWN]:
                write(f"  {line}")
            if len(summary.failures) > FAILURES_SHOWN:
                write(f"  … and {len(summary.failures) - FAILURES_SHOWN:,} more.")
