"""Template helpers for stages; no permission decisions here."""

from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote_plus

from django import template
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.html import conditional_escape, escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince

from catalog.find import quoted
from catalog.models import RegisteredModel, Stage, skipped_stages, stage_count_field
from catalog.selectors import StageCount
from core.markdown import render_markdown

register = template.Library()


@register.filter
def stage_label(value: str) -> str:
    try:
        return str(Stage(value).label)
    except ValueError:
        return value


@register.simple_tag
def stage_badge(stage: str, large: bool = False, element_id: str = "") -> SafeString:
    """A stage's coloured badge. Built here rather than from an included template: a feed or a list of requests shows
    two per row, and rendering a template for each cost more than the rest of the row."""
    return format_html(
        '<span class="stage stage-{}{}"{}>{}</span>',
        stage,
        " large" if large else "",
        format_html(' id="{}"', element_id) if element_id else "",
        stage_label(stage),
    )


@register.simple_tag
def versions_in_stage_url(model: RegisteredModel, stage: str) -> str:
    """The Versions page listing model's versions in stage: a find on the model's name (quoted, so any name reads
    back whole) and the stage's quick filter."""
    # Up to five per tile and 24 tiles a page: the path is reversed once per script prefix, and the stage (a choice's
    # value, plain letters) needs no quoting.
    return (
        f"{_version_list_path(get_script_prefix())}?find={quote_plus(f'model == {quoted(model.name)}')}&stage={stage}"
    )


@register.simple_tag
def stage_counts(model: RegisteredModel, counts: list[StageCount]) -> SafeString:
    """A catalog tile's versions per stage, each linking to the Versions page of those versions. Built here rather
    than in the template: five per tile and 24 tiles a page made it the page's largest cost in the template engine."""
    return format_html_join(
        "",
        '<span class="stage-count {} {}" title="{} in {}">{}</span>',
        (
            (
                count.stage.value,
                "nonzero" if count.count else "zero",
                count.count,
                count.stage.label,
                _stage_count_link(model, count)
                if count.count
                else format_html("<b>{}</b> {}", count.count, count.stage.label),
            )
            for count in counts
        ),
    )


def _stage_count_link(model: RegisteredModel, count: StageCount) -> SafeString:
    plural = "" if count.count == 1 else "s"
    return format_html(
        '<a href="{}" aria-label="{} {} version{} of {}"><b>{}</b> {}</a>',
        versions_in_stage_url(model, count.stage.value),
        count.count,
        count.stage.label,
        plural,
        model.name,
        count.count,
        count.stage.label,
    )


@register.simple_tag(takes_context=True)
def version_ref(context: template.Context, entry: Any) -> str:
    """The version an activity entry is about, by the name the entry keeps: a link to it, except on that version's
    own page (context's current_version). A tag, not an included template: a feed page shows 25 of them."""
    current = context.get("current_version")
    if current and entry.version_id == current.pk:
        return str(conditional_escape(entry.version_name))
    url = reverse("catalog:version-detail", args=[entry.model.slug, entry.version_name])
    return format_html('<a href="{}">{}</a>', url, entry.version_name)


@register.simple_tag
def production_days(history: list[Any]) -> SafeString:
    """The home page's day-by-day rows, newest first: the day and the versions in Production at its end, grouped by
    thousands as intcomma groups them. A tag: 90 rows of a date and a grouped number cost the template engine 3 ms."""
    return format_html_join(
        "", "<tr><td>{}</td><td>{}</td></tr>", ((d.day.strftime("%Y-%m-%d"), f"{d.count:,}") for d in reversed(history))
    )


@functools.cache
def _version_list_path(script_prefix: str) -> str:
    return reverse("catalog:version-list")


@register.filter
def find_message(message: str) -> SafeString:
    """A FindError's message with its `quoted` parts (keys, operators, values) set as code."""
    return mark_safe(re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(message)))  # escaped before marking up


@register.filter
def count_in(model: RegisteredModel, stage: str) -> int:
    """How many of model's versions are in stage (the model row holds the counts: no query)."""
    return int(getattr(model, stage_count_field(stage), 0))


@register.filter
def skipped_to(from_stage: str, to_stage: str) -> list[str]:
    """The labels of the stages a move from from_stage to to_stage skips."""
    return [str(stage.label) for stage in skipped_stages(from_stage, to_stage)]


@register.filter
def ago(value: datetime | None) -> str:
    """ "3 weeks ago": the largest unit only, for tight columns (the full time goes in a title)."""
    if not value:
        return ""
    if timezone.now() - value < timedelta(minutes=1):
        return "just now"
    return f"{timesince(value, depth=1)} ago"


@register.filter
def markdown(text: str) -> SafeString:
    """A description written in Markdown as sanitised HTML (core.markdown)."""
    return render_markdown(text)


@register.filter
def and_list(items: list[str]) -> str:
    """ "A", "A and B", "A, B and C"."""
    items = [str(item) for item in items]
    return " and ".join(items) if len(items) < 3 else f"{', '.join(items[:-1])} and {items[-1]}"


@register.filter
def percent_of(part: int, whole: int) -> float:
    return round(100 * part / whole, 2) if whole else 0.0


@register.filter
def stacked(counts: list[Any], whole: int) -> list[dict[str, Any]]:
    """The non-empty stage counts as segments of a 100-unit bar: each with its count, start and width."""
    segments, start = [], 0.0
    for item in counts:
        if item.count:
            width = percent_of(item.count, whole)
            segment = {"stage": item.stage, "count": item.count, "start": f"{start:.2f}", "width": f"{width:.2f}"}
            segments.append(segment)
            start += width
    return segments
