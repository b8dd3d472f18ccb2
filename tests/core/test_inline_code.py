"""Templates carry no code or style the Content-Security-Policy would refuse: no inline <script>, no style attribute
or <style> element, no on* event handler attribute, no javascript: URL."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
REFUSED = {
    "inline script": re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "style element": re.compile(r"<style\b", re.I),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "hx-on attribute (needs eval)": re.compile(r"\shx-on[:-]", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}
# Django prints a {# #} comment that spans lines as text.
MULTILINE_COMMENT = re.compile(r"{#(?:(?!#}).)*\n(?:(?!#}).)*#}", re.S)
COMMENT = re.compile(r"{#.*?#}|{% comment %}.*?{% endcomment %}", re.S)


def test_templates_have_no_inline_code_or_style() -> None:
    assert len(TEMPLATES) > 20
    found = [
        f"{path.relative_to(ROOT)}:{text[: match.start()].count(chr(10)) + 1}: {what}"
        for path in TEMPLATES
        for text in [COMMENT.sub(lambda m: "\n" * m.group().count("\n"), path.read_text())]
        for what, pattern in REFUSED.items()
        for match in pattern.finditer(text)
    ]
    found += [
        f"{path.relative_to(ROOT)}: a {{# #}} comment over several lines"
        for path in TEMPLATES
        if MULTILINE_COMMENT.search(path.read_text())
    ]
    assert not found, "\n".join(found)


def test_the_check_finds_what_it_looks_for() -> None:
    sample = '<p style="x" onclick="y"><script>z</script><a href="javascript:void(0)">'
    assert {what for what, pattern in REFUSED.items() if pattern.search(sample)} == {
        "style attribute",
        "event handler attribute",
        "inline script",
        "javascript: URL",
    }
    assert not REFUSED["inline script"].search('<script src="/static/js/app.js" defer></script>')
