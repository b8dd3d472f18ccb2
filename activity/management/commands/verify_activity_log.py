"""Walk the activity log's hash chain and report the first entry that does not hold (activity.chain.verify)."""

from __future__ import annotations

import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from activity import chain
from activity.models import Verification

CHECKPOINT = re.compile(r"^(\d+):([0-9a-f]{64})$")


class Command(BaseCommand):
    help = (
        "Recompute every link of the activity log's hash chain, oldest first, a chunk at a time. Exits non-zero and "
        "names the first entry edited, deleted, inserted or moved; records the result, which the Activity page "
        "shows. On success prints the head as a checkpoint (position:hash) to keep somewhere else."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help="a checkpoint printed by an earlier run: the chain must still have that hash at that position",
        )
        parser.add_argument("--no-record", action="store_true", help="do not record the result")

    def handle(self, *args: Any, **options: Any) -> None:
        checkpoints = []
        for text in options["checkpoint"]:
            match = CHECKPOINT.match(text.strip())
            if match is None:
                raise CommandError(f"A checkpoint is position:hash (64 hex digits), e.g. 1234:9f86d0…; not {text!r}.")
            checkpoints.append((int(match[1]), match[2]))
        finding = chain.verify(checkpoints=checkpoints)
        if not options["no_record"]:
            Verification.objects.create(
                ok=finding.ok,
                entries_checked=finding.checked,
                up_to_seq=finding.up_to_seq,
                up_to_entry=finding.up_to_entry,
                head_hash=finding.head_hash if finding.up_to_seq else "",
                problem=finding.problem,
            )
        if not finding.ok:
            raise CommandError(
                f"The activity log was tampered with. {finding.problem} "
                f"Intact up to position {finding.up_to_seq} (entry {finding.up_to_entry})."
            )
        if finding.up_to_seq == 0:
            self.stdout.write("The activity log is empty: nothing to verify.")
            return
        self.stdout.write(
            f"The activity log is intact: {finding.checked:,} entries, up to entry {finding.up_to_entry} "
            f"(position {finding.up_to_seq})."
        )
        self.stdout.write(f"Checkpoint: {finding.up_to_seq}:{finding.head_hash}")
