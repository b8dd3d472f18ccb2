"""The one way a moment is written on every page: `{% when %}`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.template import Context, Template
from django.utils import timezone

MOMENT = datetime(2026, 11, 30, 14, 5, tzinfo=UTC)


def render(source: str, **context: object) -> str:
    return Template("{% load time_tags %}" + source).render(Context(context))


def test_a_moment_reads_in_utc_by_default_with_how_long_ago() -> None:
    html = render("{% when moment %}", moment=timezone.now() - timedelta(hours=3, minutes=2))
    assert html.startswith('<time datetime="')
    assert "+00:00" in html
    assert " UTC</time>" in html
    assert html.endswith('<span class="ago">· 3\xa0hours ago</span>')


def test_a_moment_reads_in_the_active_time_zone() -> None:
    with timezone.override(ZoneInfo("Asia/Kolkata")):
        html = render("{% when moment relative=False %}", moment=MOMENT)
    assert html == '<time datetime="2026-11-30T19:35:00+05:30">2026-11-30 19:35 IST</time>'


def test_summer_time_shows_its_own_offset() -> None:
    with timezone.override(ZoneInfo("Europe/Berlin")):
        winter = render("{% when moment relative=False %}", moment=MOMENT)
        summer = render("{% when moment relative=False %}", moment=MOMENT.replace(month=7))
    assert winter == '<time datetime="2026-11-30T15:05:00+01:00">2026-11-30 15:05 CET</time>'
    assert summer == '<time datetime="2026-07-30T16:05:00+02:00">2026-07-30 16:05 CEST</time>'


def test_no_moment_renders_nothing() -> None:
    assert render("[{% when moment %}]", moment=None) == "[]"
