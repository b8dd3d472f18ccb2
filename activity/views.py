"""The activity page and its exports, comments on a version, and the model card's "as of" history tab."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import datetime, tzinfo
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from activity import permissions, selectors, services
from activity.forms import AsOfForm, CommentForm
from catalog import card
from catalog import selectors as catalog_selectors
from catalog.version_page import render_version_page
from core.http import render_page
from core.types import AuthedRequest

EXPORT_COLUMNS = ["time", "actor", "event", "model", "version", "from_stage", "to_stage", "comment", "details"]


def _list_context(request: AuthedRequest) -> dict[str, Any]:
    search = selectors.search_activity(user=request.user, params=request.GET)
    return {
        "filter": search.filter,
        "page": search.page,
        "nav": "activity",
        "target": "activity-results",
        "action": reverse("activity:activity-list"),
        "verification": selectors.latest_verification() if not request.htmx else None,
    }


@login_required
@require_GET
def activity_list(request: AuthedRequest) -> HttpResponse:
    return render_page(request, "activity/activity_list.html", _list_context(request), partial="activity-results")


class _Echo:
    """A file-like object whose write returns what it was given, so csv.writer can feed a streaming response."""

    def write(self, value: str) -> str:
        return value


def _export_record(row: dict[str, Any], zone: tzinfo) -> dict[str, Any]:
    return {
        "time": timezone.localtime(row["created_at"], zone).isoformat(),
        "actor": row["actor_username"],
        "event": row["verb"],
        "model": row["model__slug"] or "",
        "version": row["version_name"],
        "from_stage": row["from_stage"],
        "to_stage": row["to_stage"],
        "comment": row["comment"],
        "details": row["extra"],
    }


def _cell(value: Any) -> Any:
    # A spreadsheet runs a cell that starts with one of these as a formula: a comment must stay text.
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return f"'{value}"
    return value


def _csv_lines(rows: Iterable[dict[str, Any]], zone: tzinfo) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        record = _export_record(row, zone)
        record["details"] = json.dumps(record["details"], sort_keys=True) if record["details"] else ""
        yield writer.writerow([_cell(record[column]) for column in EXPORT_COLUMNS])


def _json_lines(rows: Iterable[dict[str, Any]], zone: tzinfo) -> Iterator[str]:
    for row in rows:
        yield json.dumps(_export_record(row, zone), cls=DjangoJSONEncoder, ensure_ascii=False) + "\n"


EXPORT_FORMATS = {
    "csv": ("text/csv; charset=utf-8", _csv_lines),
    "jsonl": ("application/x-ndjson; charset=utf-8", _json_lines),
}


@login_required
@require_GET
def activity_export(request: AuthedRequest, fmt: str) -> HttpResponseBase:
    rows = selectors.export_entries(user=request.user, params=request.GET)
    if rows is None:
        return render(request, "activity/activity_list.html", _list_context(request), status=400)
    content_type, lines = EXPORT_FORMATS[fmt]
    # The body streams after the middleware has put the time zone back: the viewer's zone goes in with the rows.
    response = StreamingHttpResponse(lines(rows, timezone.get_current_timezone()), content_type=content_type)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="activity-{stamp}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def version_comment(request: AuthedRequest, slug: str, version: str) -> HttpResponse:
    model_version = catalog_selectors.get_version(who=request.access, slug=slug, name=version)
    model = model_version.model
    permissions.may_comment(request.access, model).check_role()
    form = CommentForm(request.POST)
    notice = ""
    if form.is_valid():
        try:
            services.comment_on_version(actor=request.user, version=model_version, comment=form.cleaned_data["comment"])
        except services.ActivityError as error:
            form.add_error("comment", str(error))
        else:
            if not request.htmx:
                messages.success(request, "Comment added.")
                return HttpResponseRedirect(model_version.get_absolute_url() + "#activity-heading")
            form, notice = CommentForm(), "Comment added."
    if not request.htmx:  # the version page again, with the error and the comment kept for editing
        return render_version_page(request, model_version, comment_form=form)
    context = {
        "model": model,
        "version": model_version,
        "current_version": model_version,
        "comment_form": form,
        "notice": notice,  # said where the focus goes after the form is swapped
        "can_comment": True,
        "page": selectors.activity_page(params=request.GET, model=model, version=model_version),
        "target": "activity-feed",
    }
    return render(request, "activity/partials/_version_activity.html", context)


@login_required
@require_GET
def model_activity(request: AuthedRequest, slug: str) -> HttpResponse:
    model = catalog_selectors.get_model(who=request.access, slug=slug)
    search = selectors.search_activity(user=request.user, params=request.GET, model=model)
    context = {
        "filter": search.filter,
        "page": search.page,
        "target": "activity-results",
        "action": reverse("activity:model-activity", kwargs={"slug": model.slug}),
    }
    return card.render_tab(
        request,
        model,
        tab="activity",
        template="activity/model_activity_tab.html",
        context=context,
        fragment="activity-results",
    )


@login_required
@require_GET
def model_history(request: AuthedRequest, slug: str) -> HttpResponse:
    model = catalog_selectors.get_model(who=request.access, slug=slug)
    form = AsOfForm(request.GET or None, initial={"at": timezone.localtime().replace(second=0, microsecond=0)})
    at: datetime | None = form.cleaned_data["at"] if form.is_valid() else None
    context = {
        "as_of_form": form,
        "at": at,
        "as_of": selectors.stages_as_of(model=model, at=at) if at else None,
    }
    return card.render_tab(request, model, tab="history", template="activity/model_history_tab.html", context=context)
