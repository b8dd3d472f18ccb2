"""Small statistics the dashboards share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Median:
    value: timedelta | None
    count: int  # how many durations it is the median of
    days: int  # the window they were drawn from
    sample: int  # the most durations read: a count that reaches it is a sample of the most recent

    @property
    def sampled(self) -> bool:
        return self.count >= self.sample


def median_of(durations: list[timedelta], *, days: int, sample: int) -> Median:
    """The median of durations (the mean of the middle two for an even count)."""
    ordered = sorted(durations)
    n = len(ordered)
    if not n:
        return Median(value=None, count=0, days=days, sample=sample)
    middle = ordered[(n - 1) // 2 : n // 2 + 1]
    return Median(value=sum(middle, timedelta()) / len(middle), count=n, days=days, sample=sample)
