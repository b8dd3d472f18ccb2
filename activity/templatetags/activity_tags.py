"""Template helpers of the activity log: durations and the geometry of its server-drawn charts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django import template
from django.utils import timezone

from catalog.dashboard import DayCount

register = template.Library()


@register.filter
def svg_units(percent: float) -> str:
    """A percentage of the timeline as a coordinate of its 1000-unit-wide viewBox."""
    return f"{percent * 10:.2f}"


@register.filter
def duration(value: timedelta | None) -> str:
    """ "3 days 4 hours", "2 hours 5 minutes", "40 seconds": the two largest units."""
    if value is None:
        return "—"
    seconds = max(int(value.total_seconds()), 0)
    counts = []
    for name, size in (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1)):
        count, seconds = divmod(seconds, size)
        counts.append((count, name))
    nonzero = [i for i, (count, _) in enumerate(counts) if count]
    if not nonzero:
        return "under a second"
    first = nonzero[0]
    shown = [c for c in counts[first : first + 2] if c[0]]
    return " ".join(f"{count} {name}{'' if count == 1 else 's'}" for count, name in shown)


@register.filter
def duration_until(start: datetime, end: datetime | None) -> str:
    return duration((end or timezone.now()) - start)


@dataclass(frozen=True)
class Chart:
    points: str  # the polyline through each day's count
    area: str  # the same, closed along the bottom
    top: int  # the largest count, the value of the top gridline
    first: DayCount
    last: DayCount
    peak: DayCount
    low: DayCount
    width: int
    height: int


@register.simple_tag
def production_chart(history: list[DayCount], width: int = 900, height: int = 160) -> Chart | None:
    """The geometry of the home page's Production chart, or None without history."""
    if not history:
        return None
    top = max(max(d.count for d in history), 1)
    step = width / max(len(history) - 1, 1)
    coords = [(i * step, height - d.count / top * (height - 8)) for i, d in enumerate(history)]
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    return Chart(
        points=points,
        area=f"0,{height} {points} {width},{height}",
        top=top,
        first=history[0],
        last=history[-1],
        peak=max(history, key=lambda d: (d.count, d.day)),
        low=min(history, key=lambda d: (d.count, d.day)),
        width=width,
        height=height,
    )
