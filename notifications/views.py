"""The notifications page, marking them read, and dismissing a decision's banner on the version page."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from approvals import selectors as approval_selectors
from core.http import next_url, render_page
from core.keyset import keyset_page
from core.types import AuthedRequest
from notifications import selectors, services


def _context(request: AuthedRequest) -> dict[str, object]:
    page = keyset_page(selectors.notifications(user=request.user), request.GET, size=settings.PAGE_SIZE)
    read_at = selectors.read_at(user=request.user)
    return {
        "page": page,
        "items": [(entry, read_at is None or entry.created_at > read_at) for entry in page.object_list],
        "nav": "notifications",
    }


@login_required
@require_GET
def notification_list(request: AuthedRequest) -> HttpResponse:
    return render_page(request, "notifications/notification_list.html", _context(request), partial="notifications")


@login_required
@require_POST
def mark_read(request: AuthedRequest) -> HttpResponse:
    services.mark_all_read(actor=request.user)
    if not request.htmx:
        return redirect("notifications:list")
    context = _context(request) | {"oob_count": True}
    return render(request, "notifications/notification_list.html#notifications", context)


@login_required
@require_POST
def dismiss(request: AuthedRequest, pk: int) -> HttpResponse:
    change_request = approval_selectors.get_change_request(who=request.access, pk=pk)
    services.dismiss_decision(actor=request.user, change_request=change_request)
    if request.htmx:
        return HttpResponse("")  # the banner goes away
    return redirect(next_url(request, change_request.version.get_absolute_url()))
