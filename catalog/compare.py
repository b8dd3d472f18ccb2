"""Two versions of a model side by side: what differs between them, with the same permissions and redaction as the
version page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from activity.selectors import stage_timeline
from catalog import selectors
from catalog.models import ModelVersion
from catalog.permissions import may_see_artifacts
from core.http import refuse, render_page
from core.text import unstorable
from core.types import AuthedRequest


@dataclass(frozen=True)
class Side:
    version: ModelVersion
    labels: list[tuple[str, bool]]  # each label and whether the other version lacks it
    redacted: bool
    redacted_reason: str
    timeline: Any


@dataclass(frozen=True)
class AttributeRow:
    key: str
    values: list[str]  # "" where the version has no such attribute
    present: list[bool]
    differs: bool


def _attribute_rows(a: ModelVersion, b: ModelVersion) -> list[AttributeRow]:
    rows = []
    for key in sorted(set(a.attributes or {}) | set(b.attributes or {})):
        present = [key in (a.attributes or {}), key in (b.attributes or {})]
        values = [str((v.attributes or {}).get(key, "")) for v in (a, b)]
        differs = present[0] != present[1] or (a.attributes or {}).get(key) != (b.attributes or {}).get(key)
        rows.append(AttributeRow(key=key, values=values, present=present, differs=differs))
    return rows


def _side(request: AuthedRequest, version: ModelVersion, other_labels: set[str]) -> Side:
    artifacts = may_see_artifacts(request.access, version)
    names = [label.name for label in version.labels.all()]
    return Side(
        version=version,
        labels=[(name, name not in other_labels) for name in names],
        redacted=not artifacts,
        redacted_reason=artifacts.reason,
        timeline=stage_timeline(version=version),
    )


@login_required
@require_GET
def version_compare(request: AuthedRequest, slug: str) -> HttpResponse:
    model = selectors.get_model(who=request.access, slug=slug)  # 404 before any parameter is read
    a, b = request.GET.get("a", "").strip(), request.GET.get("b", "").strip()
    if not a:
        return refuse(request, 400, "Name the version to compare: /compare/?a=<version>&b=<version>.")
    unreadable = unstorable(a) or unstorable(b)
    if unreadable:  # PostgreSQL cannot compare a name holding NUL: say so rather than fail
        return refuse(request, 400, f"No version has such a name. {unreadable}")
    if not b:  # from the version page's "Compare with…": choose the other one
        model, (version_a,) = selectors.versions_to_compare(who=request.access, slug=slug, names=[a])
        context = {"model": model, "a": version_a, "choices": selectors.compare_choices(model=model), "nav": "catalog"}
        return render_page(request, "catalog/version_compare.html", context)
    model, (version_a, version_b) = selectors.versions_to_compare(who=request.access, slug=slug, names=[a, b])
    labels_a = {label.name for label in version_a.labels.all()}
    labels_b = {label.name for label in version_b.labels.all()}
    context = {
        "model": model,
        "a": version_a,
        "b": version_b,
        "sides": [_side(request, version_a, labels_b), _side(request, version_b, labels_a)],
        "attributes": _attribute_rows(version_a, version_b),
        "choices": selectors.compare_choices(model=model),
        "nav": "catalog",
    }
    return render_page(request, "catalog/version_compare.html", context)
