"""Descriptions in Markdown: rendered, links made clickable, and nothing in them can run in a reader's page."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.models import ModelVersion
from core.markdown import render_markdown
from tests.helpers import client_for, select


def test_markdown_is_rendered() -> None:
    html = render_markdown("Trained on **March** data.\n\n- AUC 0.91\n- `xgboost`")
    assert "<strong>March</strong>" in html
    assert "<li>AUC 0.91</li>" in html
    assert "<code>xgboost</code>" in html


def test_bare_and_written_links_are_clickable_with_nofollow_noopener() -> None:
    html = render_markdown("See https://example.com/run/1 and [the report](https://example.com/r).")
    assert (
        '<a href="https://example.com/run/1" rel="nofollow noopener noreferrer">https://example.com/run/1</a>' in html
    )
    assert '<a href="https://example.com/r" rel="nofollow noopener noreferrer">the report</a>' in html


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![x](javascript:alert(1))",
        '<div style="color:red" onclick="alert(1)">hi</div>',
        "<iframe src=https://evil.example></iframe>",
    ],
)
def test_nothing_in_a_description_can_run(text: str) -> None:
    elements = select(render_markdown(text))
    assert {element.tag for element in elements} <= {"p", "a"}  # raw HTML came out as text
    for element in elements:
        assert not [name for name in element.attrs if name.startswith("on") or name == "style"]
        assert not (element.attrs.get("href") or "https:").lower().startswith(("javascript:", "data:"))


def test_raw_html_is_shown_as_text() -> None:
    assert render_markdown("a <b>bold</b> claim") == "<p>a &lt;b&gt;bold&lt;/b&gt; claim</p>\n"


def test_version_page_and_model_card_render_descriptions_as_markdown(version: ModelVersion, owner: Any) -> None:
    ModelVersion.objects.filter(pk=version.pk).update(description="**Retrained** <script>alert(1)</script>")
    version.model.description = "Predicts _churn_. https://wiki.example/churn"
    version.model.save(update_fields=["description"])
    client = client_for(owner)
    page = client.get(version.get_absolute_url()).text
    [description] = select(page, "div", class_="description")
    assert description.inner == "<p><strong>Retrained</strong> &lt;script&gt;alert(1)&lt;/script&gt;</p>\n"
    card = client.get(version.model.get_absolute_url()).text
    assert "<em>churn</em>" in card
    assert 'href="https://wiki.example/churn" rel="nofollow noopener noreferrer"' in card
