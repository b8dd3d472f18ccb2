"""Batches of a bulk load, and a progress bar over them."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from django.core.management.base import OutputWrapper

from bench.seeding.data import BATCH


def chunks(items: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    """The items in consecutive slices of size."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Progress:
    """A one-line progress bar on a terminal (or plain lines elsewhere)."""

    def __init__(self, label: str, total: int, out: OutputWrapper | TextIO) -> None:
        self.label, self.total, self.out, self.done = label, max(total, 1), out, 0
        self.started = time.monotonic()
        self.tty = out.isatty()

    def advance(self, n: int) -> None:
        before = self.done * 10 // self.total
        self.done += n
        if not self.tty and self.done * 10 // self.total == before:
            return  # off a terminal, one line per tenth
        share = self.done / self.total
        bar = "#" * int(share * 30)
        line = f"{self.label:<10} [{bar:<30}] {share:6.1%} {self.done:,}/{self.total:,}"
        self.out.write(("\r" + line) if self.tty else line + "\n")
        self.out.flush()

    def finish(self) -> None:
        self.out.write(f"{' ' if self.tty else ''}{time.monotonic() - self.started:.1f}s\n")
