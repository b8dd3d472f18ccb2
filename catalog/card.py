"""The model card: catalog draws its header and stage summary; each app adds its own tabs and summary panels.

An app registers what it adds from its AppConfig.ready() and renders its tab with its own view and template, so
that changing, say, the Pending Approvals tab touches only approvals/. The card lays them out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers

from catalog import permissions, selectors
from catalog.models import RegisteredModel
from catalog.permissions import Access
from core.types import AuthedRequest

CARD_TEMPLATE = "catalog/model_detail.html"


@dataclass(frozen=True)
class CardTab:
    key: str
    label: str
    url_name: str  # a URL that takes the model's slug
    order: int
    badge: Callable[[RegisteredModel], str] | None = None  # HTML drawn after the label (a count)
    visible: Callable[[Access, RegisteredModel], bool] | None = None  # shown to everyone who sees the model if None


@dataclass(frozen=True)
class CardPanel:
    template: str  # drawn in the summary, under the stage counts
    context: Callable[[Access, RegisteredModel], dict[str, Any]]
    order: int


_tabs: list[CardTab] = []
_panels: list[CardPanel] = []


def add_tab(tab: CardTab) -> None:
    """Add a tab to every model card (from an AppConfig.ready())."""
    _tabs.append(tab)
    _tabs.sort(key=lambda t: t.order)


def add_panel(panel: CardPanel) -> None:
    """Add a panel to every model card's summary (from an AppConfig.ready())."""
    _panels.append(panel)
    _panels.sort(key=lambda p: p.order)


@dataclass(frozen=True)
class TabLink:
    key: str
    label: str
    url: str
    badge: str


def _tab_links(access: Access, model: RegisteredModel) -> list[TabLink]:
    return [
        TabLink(
            key=tab.key,
            label=tab.label,
            url=reverse(tab.url_name, kwargs={"slug": model.slug}),
            badge=tab.badge(model) if tab.badge else "",
        )
        for tab in _tabs
        if tab.visible is None or tab.visible(access, model)
    ]


def _card_context(request: AuthedRequest, model: RegisteredModel) -> dict[str, Any]:
    """The header and summary of the card, and the panels the apps add to it (drawn here, each with its context)."""
    return {
        "labels": [label.name for label in model.labels.all()],
        "stage_summary": selectors.stage_counts(model),
        "production_versions": selectors.production_versions(model=model),
        "can_edit": bool(permissions.may_edit_model(request.access, model)),
        "panels": [
            render_to_string(panel.template, {"model": model} | panel.context(request.access, model), request=request)
            for panel in _panels
        ],
    }


def render_tab(
    request: AuthedRequest,
    model: RegisteredModel,
    *,
    tab: str,
    template: str,
    context: dict[str, Any],
    fragment: str | None = None,
    fragment_only: bool = False,
) -> HttpResponse:
    """The card with tab open: the whole page; for htmx, the tabs, or `fragment` of the tab when htmx targets it
    (or, with fragment_only, for any htmx request: the answer to a form inside the tab)."""
    base = {"model": model, "tab": tab, "tab_template": template, "nav": "catalog"}
    htmx = request.htmx and not request.htmx.history_restore_request
    if htmx and fragment and (fragment_only or request.htmx.target == fragment):
        response = render(request, f"{template}#{fragment}", base | context)
    elif htmx:
        response = render(
            request, f"{CARD_TEMPLATE}#tabs", base | {"tabs": _tab_links(request.access, model)} | context
        )
    else:
        card = _card_context(request, model)
        response = render(request, CARD_TEMPLATE, base | card | {"tabs": _tab_links(request.access, model)} | context)
    patch_vary_headers(response, ["HX-Request"])
    return response
