"""Pages of the catalog: home, catalog, model card and its tabs, version page, and their forms."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from activity import permissions as activity_permissions
from activity import selectors as activity_selectors
from activity.forms import CommentForm
from approvals import panels
from approvals import selectors as approval_selectors
from approvals.forms import ChangeRequestForm
from catalog import permissions, selectors, services
from catalog.filters import CatalogFilter, VersionFilter
from catalog.forms import (
    CollaboratorForm,
    CollaboratorRemoveForm,
    ModelEditForm,
    ModelRegisterForm,
    VersionForm,
    format_attributes,
)
from catalog.models import LockLevel, ModelVersion, RegisteredModel
from catalog.permissions import ROLE_DESCRIPTIONS, Role
from catalog.types import AuthedRequest


def page_of(request: AuthedRequest, queryset: QuerySet[Any], per_page: int = settings.PAGE_SIZE) -> Page[Any]:
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def render_page(
    request: AuthedRequest, template: str, context: dict[str, Any], *, partial: str | None = None
) -> HttpResponse:
    """Render the page, or only its partial for an htmx request; the two differ by HX-Request."""
    name = (
        f"{template}#{partial}" if partial and request.htmx and not request.htmx.history_restore_request else template
    )
    response = render(request, name, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _query_without_page(request: AuthedRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@login_required
@require_GET
def home(request: AuthedRequest) -> HttpResponse:
    stats = selectors.home_stats(user=request.user)
    context = {
        "stats": stats,
        "nav": "home",
        "production_history": activity_selectors.production_history(user=request.user, current=stats.production_count),
        "time_to_decision": approval_selectors.time_to_decision(user=request.user),
        "time_to_production": activity_selectors.time_to_production(user=request.user),
    }
    return render(request, "catalog/home.html", context)


@login_required
@require_GET
def model_list(request: AuthedRequest) -> HttpResponse:
    queryset = selectors.visible_models(user=request.user).select_related("owner")
    catalog_filter = CatalogFilter(request.GET or None, queryset=queryset)
    page = page_of(request, selectors.with_labels(catalog_filter.qs))
    context = {
        "filter": catalog_filter,
        "page": page,
        "tiles": [(m, selectors.stage_counts(m)) for m in page.object_list],
        "active_stage": catalog_filter.form.cleaned_data.get("stage", "") if catalog_filter.is_valid() else "",
        "query": _query_without_page(request),
        "nav": "catalog",
    }
    partial = "catalog" if request.htmx.target == "catalog" else "results"
    return render_page(request, "catalog/model_list.html", context, partial=partial)


@login_required
@require_http_methods(["GET", "POST"])
def model_register(request: AuthedRequest) -> HttpResponse:
    form = ModelRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            model = services.register_model(actor=request.user, **form.cleaned_data)
        except services.CatalogError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Registered {model.name}. Register its first version next.")
            return redirect("catalog:model-detail", slug=model.slug)
    return render(request, "catalog/model_register.html", {"form": form, "nav": "catalog"})


def model_card_context(request: AuthedRequest, model: RegisteredModel, tab: str) -> dict[str, Any]:
    user = request.user
    return {
        "model": model,
        "tab": tab,
        "nav": "catalog",
        "labels": [label.name for label in model.labels.all()],
        "stage_summary": selectors.stage_counts(model),
        "production_versions": selectors.production_versions(model=model),
        "can_edit": permissions.can_edit_model(user, model),
        "can_manage": permissions.can_manage_model(user, model),
        "pending_count": approval_selectors.pending_count_for_model(model=model),
    }


@login_required
@require_GET
def model_detail(request: AuthedRequest, slug: str) -> HttpResponse:
    model = selectors.get_model(user=request.user, slug=slug)
    version_filter = VersionFilter(
        request.GET or None, queryset=selectors.with_labels(model.versions.select_related("created_by"))
    )
    context = model_card_context(request, model, "versions") | {
        "filter": version_filter,
        "page": page_of(request, version_filter.qs),
        "query": _query_without_page(request),
    }
    partial = "versions-results" if request.htmx.target == "versions-results" else "tabs"
    return render_page(request, "catalog/model_detail.html", context, partial=partial)


@login_required
@require_GET
def model_activity(request: AuthedRequest, slug: str) -> HttpResponse:
    model = selectors.get_model(user=request.user, slug=slug)
    search = activity_selectors.search_activity(user=request.user, params=request.GET, model=model)
    context = model_card_context(request, model, "activity") | {
        "filter": search.filter,
        "page": search.page,
        "target": "activity-results",
        "action": reverse("catalog:model-activity", kwargs={"slug": model.slug}),
    }
    partial = "activity-results" if request.htmx.target == "activity-results" else "tabs"
    return render_page(request, "catalog/model_detail.html", context, partial=partial)


def _collaborators_context(request: AuthedRequest, model: RegisteredModel, form: CollaboratorForm) -> dict[str, Any]:
    return model_card_context(request, model, "collaborators") | {
        "collaborators": selectors.collaborators(model=model),
        "form": form,
        "role_descriptions": [(role, ROLE_DESCRIPTIONS[role]) for role in Role],
    }


@login_required
@require_GET
def model_collaborators(request: AuthedRequest, slug: str) -> HttpResponse:
    model = selectors.get_model(user=request.user, slug=slug)
    context = _collaborators_context(request, model, CollaboratorForm())
    return render_page(request, "catalog/model_detail.html", context, partial="tabs")


def _collaborators_response(request: AuthedRequest, model: RegisteredModel, form: CollaboratorForm) -> HttpResponse:
    """After a collaborator change: the panel for htmx; a redirect, or the page with form errors, otherwise."""
    if not request.htmx and not form.errors:
        return redirect("catalog:model-collaborators", slug=model.slug)
    model = selectors.get_model(user=request.user, slug=model.slug)  # the actor's own role may have changed
    context = _collaborators_context(request, model, form)
    template = "catalog/model_detail.html#collaborators-panel" if request.htmx else "catalog/model_detail.html"
    return render(request, template, context)


@login_required
@require_POST
def collaborator_add(request: AuthedRequest, slug: str) -> HttpResponse:
    model = selectors.get_model(user=request.user, slug=slug)
    if not permissions.can_manage_model(request.user, model):
        raise PermissionDenied("Only owners of this model can manage its collaborators.")
    form = CollaboratorForm(request.POST)
    if form.is_valid():
        kind, principal, role = (
            form.cleaned_data["kind"],
            form.cleaned_data["principal"],
            Role(form.cleaned_data["role"]),
        )
        try:
            services.add_collaborator(
                actor=request.user,
                model=model,
                role=role,
                user=principal if kind == "user" else None,
                group=principal if kind == "group" else None,
            )
        except services.CatalogError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{kind.capitalize()} {form.cleaned_data['name']} now has the {role.label} role.")
            form = CollaboratorForm()
    return _collaborators_response(request, model, form)


@login_required
@require_POST
def collaborator_remove(request: AuthedRequest, slug: str) -> HttpResponse:
    model = selectors.get_model(user=request.user, slug=slug)
    if not permissions.can_manage_model(request.user, model):
        raise PermissionDenied("Only owners of this model can manage its collaborators.")
    form = CollaboratorRemoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
        return _collaborators_response(request, model, CollaboratorForm())
    kind, name, principal = form.cleaned_data["kind"], form.cleaned_data["name"], form.cleaned_data["principal"]
    try:
        services.remove_collaborator(
            actor=request.user,
            model=model,
            user=principal if kind == "user" else None,
            group=principal if kind == "group" else None,
        )
    except services.CatalogError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Removed {kind} {name} from the collaborators.")
    return _collaborators_response(request, model, CollaboratorForm())


@login_required
@require_http_methods(["GET", "POST"])
def model_edit(request: AuthedRequest, slug: str) -> HttpResponse:
    model = selectors.get_model(user=request.user, slug=slug)
    if not permissions.can_edit_model(request.user, model):
        raise PermissionDenied("Only editors and owners of this model can edit it.")
    can_manage = permissions.can_manage_model(request.user, model)
    initial = {
        "description": model.description,
        "labels": ", ".join(label.name for label in model.labels.all()),
        "task_type": model.task_type,
        "data_type": model.data_type,
        "visibility": model.visibility,
    }
    form = ModelEditForm(request.POST or None, initial=initial, can_manage=can_manage)
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_model(actor=request.user, model=model, **form.cleaned_data)
        except services.CatalogError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Saved {model.name}.")
            return redirect("catalog:model-detail", slug=model.slug)
    return render(request, "catalog/model_edit.html", {"form": form, "model": model, "nav": "catalog"})


@login_required
@require_http_methods(["GET", "POST"])
def version_register(request: AuthedRequest, slug: str) -> HttpResponse:
    model = selectors.get_model(user=request.user, slug=slug)
    if not permissions.can_edit_model(request.user, model):
        raise PermissionDenied("Only editors and owners of this model can register versions.")
    form = VersionForm(request.POST or None, model=model)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.register_version(actor=request.user, model=model, **form.cleaned_data)
        except services.CatalogError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Registered version {version.name}.")
            return redirect(version_url(version))
    return render(request, "catalog/version_register.html", {"form": form, "model": model, "nav": "catalog"})


def version_url(version: ModelVersion) -> str:
    return reverse("catalog:version-detail", kwargs={"slug": version.model.slug, "version": version.name})


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
        "page": activity_selectors.activity_page(request=request, model=model, version=version),
        "current_version": version,
        "target": "activity-feed",
    }
    if request.htmx and not request.htmx.history_restore_request:  # a page of the feed: nothing else is drawn
        return render_page(request, "activity/partials/_activity_feed.html", context)
    context |= panels.request_panel(request, version, to_stage=to_stage, form=form, error=error)
    context["timeline"] = activity_selectors.stage_timeline(version=version)
    context["can_comment"] = activity_permissions.can_comment(request.user, model)
    context["comment_form"] = comment_form or CommentForm()
    context["redacted"] = version.lock_level == LockLevel.REDACT and not permissions.can_see_redacted(
        request.user, model
    )
    return render_page(request, "catalog/version_detail.html", context)


@login_required
@require_GET
def version_detail(request: AuthedRequest, slug: str, version: str) -> HttpResponse:
    model_version = selectors.get_version(user=request.user, slug=slug, name=version)
    return render_version_page(request, model_version, to_stage=request.GET.get("to_stage", ""))


@login_required
@require_http_methods(["GET", "POST"])
def version_edit(request: AuthedRequest, slug: str, version: str) -> HttpResponse:
    model_version = selectors.get_version(user=request.user, slug=slug, name=version)
    model = model_version.model
    if not permissions.can_edit_model(request.user, model):
        raise PermissionDenied("Only editors and owners of this model can edit its versions.")
    if model_version.is_locked:
        messages.error(request, f"Version {model_version.name} is locked; its metadata cannot change.")
        return HttpResponseRedirect(version_url(model_version))
    initial = {
        "description": model_version.description,
        "labels": ", ".join(label.name for label in model_version.labels.all()),
        "attributes": format_attributes(model_version.attributes),
        "artifact_uri": model_version.artifact_uri,
        "source_run_url": model_version.source_run_url,
    }
    form = VersionForm(request.POST or None, initial=initial, model=model, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_version(actor=request.user, version=model_version, **form.cleaned_data)
        except services.CatalogError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Saved version {model_version.name}.")
            return redirect(version_url(model_version))
    context = {"form": form, "model": model, "version": model_version, "nav": "catalog"}
    return render(request, "catalog/version_edit.html", context)
