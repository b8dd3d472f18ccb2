"""Workflow pages and actions: request, approve, reject, cancel, lock, policy, Pending Approvals, inbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from activity.selectors import activity_page
from approvals import panels, permissions, selectors, services
from approvals.filters import InboxFilter
from approvals.forms import ChangeRequestForm, LockForm, PolicyForm, ReviewForm
from approvals.models import StageChangeRequest
from catalog import card
from catalog import selectors as catalog_selectors
from catalog.models import MAX_APPROVALS, MIN_APPROVALS, LockLevel, ModelVersion, RegisteredModel
from catalog.permissions import Access, Verdict
from catalog.templatetags.catalog_tags import and_list
from catalog.version_page import render_version_page, stage_dependent_context
from core.http import next_url, page_of, render_page
from core.keyset import keyset_page
from core.types import AuthedRequest


def _version_update(
    request: AuthedRequest, version: ModelVersion, *, notice: str = "", error: str = ""
) -> HttpResponse:
    """The request panel, with out-of-band every other part of the version page that an action can change: the stage
    box, the header's "stage changed", the stage timeline, the details (Redact hides some), the lock box, the activity
    feed and the inbox count."""
    version = ModelVersion.objects.select_related("model__owner", "created_by").get(pk=version.pk)  # as it is now
    context = panels.request_panel(request.access, version, error=error)
    context |= stage_dependent_context(request, version) | {
        "notice": notice,
        "page": activity_page(params=request.GET, model=version.model, version=version),
        "current_version": version,
        "target": "activity-feed",
    }
    return render(request, "approvals/partials/_version_update.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def change_request_create(request: AuthedRequest, slug: str, version: str) -> HttpResponse:
    model_version = catalog_selectors.get_version(who=request.access, slug=slug, name=version, details=False)
    permissions.may_request_stage_change(request.access, model_version, pending=None).check_role()
    if request.method == "GET":
        to_stage = request.GET.get("to_stage", "")
        response = (
            render(
                request,
                "approvals/partials/_request_panel_update.html",
                panels.request_panel(request.access, model_version, to_stage=to_stage),
            )
            if request.htmx
            else redirect(f"{model_version.get_absolute_url()}?{urlencode({'to_stage': to_stage})}")
        )
        patch_vary_headers(response, ["HX-Request"])  # one URL, a panel or a redirect: caches must keep both
        return response
    form = ChangeRequestForm(request.POST)
    if not form.is_valid():
        to_stage = request.POST.get("to_stage", "")
        # An unknown stage opens no form to show the field's error in, so the panel says it.
        error = "Choose one of the stages." if "to_stage" in form.errors else ""
        if request.htmx:
            context = panels.request_panel(request.access, model_version, to_stage=to_stage, form=form, error=error)
            return render(request, "approvals/partials/_request_panel.html", context)
        return render_version_page(request, model_version, to_stage=to_stage, form=form, error=error)
    try:
        change_request = services.request_stage_change(actor=request.user, version=model_version, **form.cleaned_data)
    except services.WorkflowError as error:
        return _after_action(request, model_version, error=str(error))
    # Say so only when someone was written to; the panel then says who can approve it.
    mailed = change_request.reviewers_mailed
    notice = "Requested. Reviewers have been notified." if mailed else "Requested. Nobody was notified by mail."
    return _after_action(request, model_version, notice=notice)


def _after_action(request: AuthedRequest, version: ModelVersion, *, notice: str = "", error: str = "") -> HttpResponse:
    if request.htmx:
        return _version_update(request, version, notice=notice, error=error)
    if error:
        messages.error(request, error)
    elif notice:
        messages.success(request, notice)
    return redirect(next_url(request, version.get_absolute_url()))


def _review_action(
    request: AuthedRequest,
    pk: int,
    action: Callable[..., StageChangeRequest],
    *,
    may: Callable[[Access, StageChangeRequest], Verdict],
    notice: str,
) -> HttpResponse:
    change_request = selectors.get_change_request(who=request.access, pk=pk)
    version = change_request.version
    may(request.access, change_request).check_role()
    form = ReviewForm(request.POST)
    error = ""
    if not form.is_valid():
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    else:
        try:
            action(actor=request.user, change_request=change_request, comment=form.cleaned_data["comment"])
        except services.WorkflowError as refused:
            error = str(refused)
    if request.htmx and request.htmx.target != "request-panel":
        return _card_update(request, change_request, notice="" if error else notice, error=error)
    return _after_action(request, version, notice="" if error else notice, error=error)


def _card_update(
    request: AuthedRequest, change_request: StageChangeRequest, *, notice: str, error: str
) -> HttpResponse:
    """A request's card in the Pending Approvals tab or the inbox, with out-of-band counts."""
    refreshed = selectors.with_review_details(
        StageChangeRequest.objects.filter(pk=change_request.pk), user=request.user
    ).get()
    model = refreshed.version.model
    # Cards are swapped by their own id wherever they are, so the page the card is on tells the inbox (cards across
    # models, no per-model badge) from the model's Pending Approvals tab.
    in_inbox = urlsplit(request.htmx.current_url_abs_path or "").path == reverse("approvals:inbox")
    context = {
        "change_request": refreshed,
        "notice": notice if refreshed.status == "pending" else "",  # a decided card says what happened itself
        "card_error": error,
        "review_form": ReviewForm(),
        "show_model": in_inbox,
    } | panels.review_actions(request.access, refreshed)
    if in_inbox:
        own = selectors.own_requests(user=request.user).filter(status="pending")
        context |= {"pending_count": None, "own_total": own.count()}
    else:  # the model card: its header's "updated", its stage summary and its tab's count change with the request
        context |= {
            "model": model,
            "pending_count": selectors.pending_count_for_model(model=model),
            "stage_summary": catalog_selectors.stage_counts(model),
            "production_versions": catalog_selectors.production_versions(model=model),
        }
    return render(request, "approvals/partials/_request_card_update.html", context)


@login_required
@require_POST
def change_request_approve(request: AuthedRequest, pk: int) -> HttpResponse:
    return _review_action(
        request, pk, services.approve_change_request, may=permissions.may_try_review, notice="Approved."
    )


@login_required
@require_POST
def change_request_reject(request: AuthedRequest, pk: int) -> HttpResponse:
    return _review_action(
        request, pk, services.reject_change_request, may=permissions.may_try_review, notice="Rejected."
    )


@login_required
@require_POST
def change_request_cancel(request: AuthedRequest, pk: int) -> HttpResponse:
    return _review_action(
        request, pk, services.cancel_change_request, may=permissions.may_cancel, notice="Request cancelled."
    )


@login_required
@require_POST
def lock_level_set(request: AuthedRequest, slug: str, version: str) -> HttpResponse:
    model_version = catalog_selectors.get_version(who=request.access, slug=slug, name=version, details=False)
    permissions.may_set_lock_level(request.access, model_version).check_role()  # before reading the input
    form = LockForm(request.POST)
    if not form.is_valid():
        return _after_action(request, model_version, error="Choose one of the lock levels.")
    new = form.cleaned_data["lock_level"]
    permissions.may_set_lock_level(request.access, model_version, new).check_role()
    try:
        services.set_lock_level(actor=request.user, version=model_version, lock_level=new)
    except services.WorkflowError as error:
        return _after_action(request, model_version, error=str(error))
    return _after_action(request, model_version, notice=f"Lock level set to {LockLevel(new).label}.")


def policy_context(access: Access, model: RegisteredModel) -> dict[str, Any]:
    """What the approval-policy box on the model card needs."""
    return {
        "can_set_policy": bool(permissions.may_set_approval_policy(access, model)),
        "approval_limits": (MIN_APPROVALS, MAX_APPROVALS),
    }


def _too_few_reviewers(model: RegisteredModel) -> str:
    """The warning when fewer people may review the model's stage changes than a request needs approvals, or ""."""
    reviewers = selectors.eligible_reviewers(model=model, requester=None, limit=MAX_APPROVALS)
    needed = model.required_approvals
    if reviewers.more or len(reviewers.names) >= needed:
        return ""
    who = f"only {and_list(reviewers.names)} can" if reviewers.names else "nobody can"
    return (
        f"A stage change needs {needed} approvals, but {who} review this model’s stage changes (and never their own "
        "requests), so requests will wait until you add reviewers on the Collaborators tab or a superuser approves."
    )


@login_required
@require_POST
def policy_set(request: AuthedRequest, slug: str) -> HttpResponse:
    model = catalog_selectors.get_model(who=request.access, slug=slug)
    permissions.may_set_approval_policy(request.access, model).check_role()
    form = PolicyForm(request.POST)
    error = notice = warning = ""
    if form.is_valid():
        try:
            model = services.set_approval_policy(
                actor=request.user, model=model, required_approvals=form.cleaned_data["required_approvals"]
            )
            notice = f"Stage changes now need {model.required_approvals} approval(s)."
            warning = _too_few_reviewers(model)
        except services.WorkflowError as refused:
            error = str(refused)
    else:
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    if not request.htmx:
        messages.error(request, error) if error else messages.success(request, notice)
        if warning:
            messages.warning(request, warning)
        return redirect(model)
    context = policy_context(request.access, model) | {
        "model": model,
        "policy_form": form if error else None,
        "notice": notice,
        "policy_warning": warning,
        "policy_error": error,
    }
    return render(request, "approvals/partials/_policy_update.html", context)  # with the header's "updated"


@login_required
@require_GET
def model_pending(request: AuthedRequest, slug: str) -> HttpResponse:
    model = catalog_selectors.get_model(who=request.access, slug=slug)
    page = page_of(request, selectors.with_review_details(selectors.pending_for_model(model=model), user=request.user))
    context = {
        "page": page,
        "cards": [(r, panels.review_actions(request.access, r)) for r in page.object_list],
        "review_form": ReviewForm(),
        "query": "",
    }
    return card.render_tab(request, model, tab="pending", template="approvals/model_pending_tab.html", context=context)


@login_required
@require_GET
def inbox(request: AuthedRequest) -> HttpResponse:
    inbox_filter = InboxFilter(request.GET or None, queryset=selectors.inbox(user=request.user))
    # Keyset pages: no count of the backlog and no OFFSET, so page 200 costs what page 1 does.
    page = keyset_page(
        selectors.with_review_details(inbox_filter.qs, user=request.user),
        request.GET,
        size=settings.PAGE_SIZE,
        oldest_first=True,
    )
    own = selectors.with_review_details(
        selectors.own_requests(user=request.user).filter(status="pending"), user=request.user
    )
    own_page = list(own[:20])
    request.access.prefetch(r.version.model for r in [*page.object_list, *own_page])
    context: dict[str, Any] = {
        "filter": inbox_filter,
        "page": page,
        "cards": [(r, panels.review_actions(request.access, r)) for r in page.object_list],
        "own_cards": [(r, panels.review_actions(request.access, r)) for r in own_page],
        "own_total": own.count() if len(own_page) == 20 else len(own_page),
        "review_form": ReviewForm(),
        "query": request.GET.copy().urlencode(),
        "nav": "inbox",
    }
    return render_page(request, "approvals/inbox.html", context, partial="inbox-results")
