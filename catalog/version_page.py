"""The version page: catalog's details with the workflow panels of approvals and the timeline and feed of activity.

The workflow and comment views render it too, when a form posted without JavaScript has an error to show.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse

from activity import selectors as activity_selectors
from activity.forms import CommentForm
from activity.permissions import may_comment
from approvals import panels
from approvals.forms import ChangeRequestForm
from catalog.models import ModelVersion
from catalog.permissions import may_see_artifacts
from core.http import render_page
from core.types import AuthedRequest
from notifications import selectors as notification_selectors


def render_version_page(
    request: AuthedRequest,
    version: ModelVersion,
    *,
    to_stage: str = "",
    form: ChangeRequestForm | None = None,
    error: str = "",
    comment_form: CommentForm | None = None,
) -> HttpResponse:
    """The version page; to_stage opens the request panel for that stage (how it works without JavaScript)."""
    model = version.model
    context: dict[str, Any] = {
        "model": model,
        "version": version,
        "nav": "catalog",
        "page": activity_selectors.activity_page(params=request.GET, model=model, version=version),
        "current_version": version,
        "target": "activity-feed",
    }
    if request.htmx and not request.htmx.history_restore_request:  # a page of the feed: nothing else is drawn
        return render_page(request, "activity/partials/_activity_feed.html", context)
    pending, decision = notification_selectors.pending_and_decision(user=request.user, version=version)
    context |= panels.request_panel(request.access, version, to_stage=to_stage, form=form, error=error, pending=pending)
    context |= stage_dependent_context(request, version) | {
        "can_comment": bool(may_comment(request.access, model)),
        "comment_form": comment_form or CommentForm(),
        "decision": decision,
    }
    return render_page(request, "catalog/version_detail.html", context)


def stage_dependent_context(request: AuthedRequest, version: ModelVersion) -> dict[str, Any]:
    """What the parts of the page that a stage or lock change redraws need besides the request panel's context: the
    stage timeline and the details that lock level Redact hides (the workflow views redraw them out of band)."""
    artifacts = may_see_artifacts(request.access, version)
    return {
        "timeline": activity_selectors.stage_timeline(version=version),
        "redacted": not artifacts,
        "redacted_reason": artifacts.reason,
        "version_url": request.build_absolute_uri(version.get_absolute_url()),
    }
