"""Descriptions written in Markdown, rendered to HTML that is safe to put in a page."""

from __future__ import annotations

from functools import cache

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


@cache
def _parser() -> MarkdownIt:
    # html=False: raw HTML in a description is shown as text, never passed through; linkify makes bare URLs links.
    return MarkdownIt("commonmark", {"html": False, "linkify": True}).enable(["linkify", "table", "strikethrough"])


def render_markdown(text: str) -> SafeString:
    """text as Markdown, turned into HTML and then sanitised (nh3), so that nothing it says runs in a reader's page:
    no raw HTML, no script, no javascript: links; links get rel="nofollow noopener"."""
    html = _parser().render(text)
    # The parser already escapes HTML; the sanitiser is the second wall, in case a rule of the parser lets one through.
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
    )
    return mark_safe(clean)  # sanitised just above
