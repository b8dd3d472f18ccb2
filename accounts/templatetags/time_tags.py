"""How a moment reads on every page: the date and time in the viewer's time zone, then how long ago it was."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from catalog.templatetags.catalog_tags import ago

register = template.Library()


@register.simple_tag
def when(value: datetime | None, relative: bool = True) -> SafeString | str:
    """`<time datetime="2026-11-30T15:05:00+01:00">2026-11-30 15:05 CET</time> · 3 hours ago` in the active time
    zone (the user's, see accounts.middleware); relative=False leaves out the "ago"."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    moment = format_html(
        '<time datetime="{}">{} {}</time>',
        local.isoformat(),  # exact, as the entry was stored (pages of the log are told apart by it)
        local.strftime("%Y-%m-%d %H:%M"),
        local.tzname() or "",
    )
    if not relative:
        return moment
    return format_html('{} <span class="ago">· {}</span>', moment, ago(value))
