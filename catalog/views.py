"""Pages of the catalog: home, catalog, the Versions page, the model card's Versions and Collaborators tabs, the version
page, forms."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog import card, dashboard, permissions, selectors, services
from catalog.filters import CatalogFilter, VersionFilter, quick_filters
from catalog.find import EXAMPLES, OPERATORS, VERSION_KEYS
from catalog.forms import (
    CollaboratorForm,
    CollaboratorRemoveForm,
    ModelEditForm,
    ModelRegisterForm,
    VersionForm,
    format_attributes,
)
from catalog.models import RegisteredModel
from catalog.permissions import ROLE_DESCRIPTIONS, Role
from catalog.templatetags.catalog_tags import and_list
from catalog.version_page import render_version_page
from core.http import page_of, query_without_page, render_page
from core.types import AuthedRequest


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@login_required
@require_GET
def home(request: AuthedRequest) -> HttpResponse:
    home_page = dashboard.home_dashboard(user=request.user)
    context = {
        "stats": home_page.stats,
        "production_history": home_page.production_history,
        "time_to_decision": home_page.time_to_decision,
        "time_to_production": home_page.time_to_production,
        "nav": "home",
    }
    return render(request, "catalog/home.html", context)


@login_required
@require_GET
def model_list(request: AuthedRequest) -> HttpResponse:
    queryset = selectors.visible_models(user=request.user).select_related("owner")
    catalog_filter = CatalogFilter(request.GET or None, queryset=queryset)
    page = page_of(request, selectors.with_labels(catalog_filter.qs))
    context = selectors.page_suggestions(list(page.object_list)) | {
        "filter": catalog_filter,
        "page": page,
        "tiles": [(m, selectors.stage_counts(m)) for m in page.object_list],
        "active_stage": catalog_filter.form.cleaned_data.get("stage", "") if catalog_filter.is_valid() else "",
        "query": query_without_page(request),
        "nav": "catalog",
    }
    partial = "catalog" if request.htmx.target == "catalog" else "results"
    return render_page(request, "catalog/model_list.html", context, partial=partial)


def _suggestions(request: AuthedRequest, options: list[str]) -> HttpResponse:
    response = render(request, "catalog/partials/_suggestions.html", {"options": options})
    response["Cache-Control"] = "private, no-store"  # what a user may see changes with their roles
    return response


@login_required
@require_GET
def suggest_labels(request: AuthedRequest) -> HttpResponse:
    text = request.GET.get("label", "")[:50]
    return _suggestions(request, selectors.label_suggestions(user=request.user, text=text))


@login_required
@require_GET
def suggest_owners(request: AuthedRequest) -> HttpResponse:
    text = request.GET.get("owner", "")[:150]
    return _suggestions(request, selectors.owner_suggestions(user=request.user, text=text))


@login_required
@require_GET
def version_list(request: AuthedRequest) -> HttpResponse:
    search = selectors.search_versions(user=request.user, params=request.GET, size=settings.PAGE_SIZE)
    fragment = bool(request.htmx) and not request.htmx.history_restore_request
    context = {
        "search": search,
        "page": search.page,
        "chips": quick_filters(request.GET, url=reverse("catalog:version-list")),
        "examples": EXAMPLES,
        "find_keys": VERSION_KEYS,
        "find_operators": OPERATORS,
        "filtered": search.filter.is_bound,
        # The results fragment also brings the search's error, shown under the box outside it.
        "find_error_oob": fragment,
        "nav": "versions",
    }
    return render_page(request, "catalog/version_list.html", context, partial="version-results")


@login_required
@require_http_methods(["GET", "POST"])
def model_register(request: AuthedRequest) -> HttpResponse:
    form = ModelRegisterForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        users, groups = form.collaborator_fields()
        try:
            # The model and its first reviewers together: a refused reviewer leaves no model half set up.
            with transaction.atomic():
                model = services.register_model(actor=request.user, **form.cleaned_data)
                for user in users:
                    services.add_collaborator(actor=request.user, model=model, role=Role.REVIEWER, user=user)
                for group in groups:
                    services.add_collaborator(actor=request.user, model=model, role=Role.REVIEWER, group=group)
        except services.CatalogError as error:
            form.add_error(None, str(error))
        else:
            reviewers = [u.get_username() for u in users] + [f"group {g.name}" for g in groups]
            added = f" {and_list(reviewers)} can review its stage changes." if reviewers else ""
            messages.success(request, f"Registered {model.name}.{added} Register its first version next.")
            return redirect(model)
    return render(request, "catalog/model_register.html", {"form": form, "nav": "catalog"})


@login_required
@require_GET
def model_detail(request: AuthedRequest, slug: str) -> HttpResponse:
    model = selectors.get_model(who=request.access, slug=slug)
    version_filter = VersionFilter(
        request.GET or None, queryset=selectors.with_labels(model.versions.select_related("created_by"))
    )
    context = {
        "filter": version_filter,
        "page": page_of(request, version_filter.qs),
        "query": query_without_page(request),
        "can_register": bool(permissions.may_register_version(request.access, model)),
    }
    return card.render_tab(
        request,
        model,
        tab="versions",
        template="catalog/model_versions_tab.html",
        context=context,
        fragment="versions-results",
    )


def _render_collaborators(
    request: AuthedRequest, model: RegisteredModel, form: CollaboratorForm, *, after_change: bool = False
) -> HttpResponse:
    context = {
        "collaborators": selectors.collaborators(model=model),
        "form": form,
        "role_descriptions": [(role, ROLE_DESCRIPTIONS[role]) for role in Role],
        "can_manage": bool(permissions.may_manage_collaborators(request.access, model)),
    }
    return card.render_tab(
        request,
        model,
        tab="collaborators",
        template="catalog/model_collaborators_tab.html",
        context=context,
        fragment="collaborators-panel",
        fragment_only=after_change,
    )


@login_required
@require_GET
def model_collaborators(request: AuthedRequest, slug: str) -> HttpResponse:
    model = selectors.get_model(who=request.access, slug=slug)
    return _render_collaborators(request, model, CollaboratorForm())


def _collaborators_response(request: AuthedRequest, model: RegisteredModel, form: CollaboratorForm) -> HttpResponse:
    """After a collaborator change: the panel for htmx; a redirect, or the page with form errors, otherwise."""
    if not request.htmx and not form.errors:
        return redirect("catalog:model-collaborators", slug=model.slug)
    return _render_collaborators(request, model, form, after_change=True)


def _principal(kind: str, principal: Any) -> dict[str, Any]:
    return {"user": principal if kind == "user" else None, "group": principal if kind == "group" else None}


@login_required
@require_POST
def collaborator_add(request: AuthedRequest, slug: str) -> HttpResponse:
    model = selectors.get_model(who=request.access, slug=slug)
    permissions.may_manage_collaborators(request.access, model).check_role()
    form = CollaboratorForm(request.POST)
    if form.is_valid():
        kind, principal, role = (
            form.cleaned_data["kind"],
            form.cleaned_data["principal"],
            Role(form.cleaned_data["role"]),
        )
        try:
            services.add_collaborator(actor=request.user, model=model, role=role, **_principal(kind, principal))
        except services.CatalogError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{kind.capitalize()} {form.cleaned_data['name']} now has the {role.label} role.")
            form = CollaboratorForm()
    return _collaborators_response(request, model, form)


@login_required
@require_POST
def collaborator_remove(request: AuthedRequest, slug: str) -> HttpResponse:
    model = selectors.get_model(who=request.access, slug=slug)
    permissions.may_manage_collaborators(request.access, model).check_role()
    form = CollaboratorRemoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
        return _collaborators_response(request, model, CollaboratorForm())
    kind, name, principal = form.cleaned_data["kind"], form.cleaned_data["name"], form.cleaned_data["principal"]
    try:
        services.remove_collaborator(actor=request.user, model=model, **_principal(kind, principal))
    except services.CatalogError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Removed {kind} {name} from the collaborators.")
    return _collaborators_response(request, model, CollaboratorForm())


@login_required
@require_http_methods(["GET", "POST"])
def model_edit(request: AuthedRequest, slug: str) -> HttpResponse:
    model = selectors.get_model(who=request.access, slug=slug)
    permissions.may_edit_model(request.access, model).check_role()
    initial = {
        "description": model.description,
        "labels": ", ".join(label.name for label in model.labels.all()),
        "task_type": model.task_type,
        "data_type": model.data_type,
        "visibility": model.visibility,
        "attributes": format_attributes(model.attributes),
    }
    can_manage = bool(permissions.may_change_visibility(request.access, model))
    form = ModelEditForm(request.POST or None, initial=initial, can_manage=can_manage)
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_model(actor=request.user, model=model, **form.cleaned_data)
        except services.CatalogError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Saved {model.name}.")
            return redirect(model)
    return render(request, "catalog/model_edit.html", {"form": form, "model": model, "nav": "catalog"})


@login_required
@require_http_methods(["GET", "POST"])
def version_register(request: AuthedRequest, slug: str) -> HttpResponse:
    model = selectors.get_model(who=request.access, slug=slug)
    permissions.may_register_version(request.access, model).check_role()
    form = VersionForm(request.POST or None, model=model)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.register_version(actor=request.user, model=model, **form.cleaned_data)
        except services.CatalogError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Registered version {version.name}.")
            return redirect(version)
    return render(request, "catalog/version_register.html", {"form": form, "model": model, "nav": "catalog"})


@login_required
@require_GET
def version_detail(request: AuthedRequest, slug: str, version: str) -> HttpResponse:
    model_version = selectors.get_version(who=request.access, slug=slug, name=version)
    return render_version_page(request, model_version, to_stage=request.GET.get("to_stage", ""))


@login_required
@require_http_methods(["GET", "POST"])
def version_edit(request: AuthedRequest, slug: str, version: str) -> HttpResponse:
    model_version = selectors.get_version(who=request.access, slug=slug, name=version)
    model = model_version.model
    verdict = permissions.may_edit_version(request.access, model_version)
    verdict.check_role()
    if not verdict:  # locked: the page says why, with nothing to edit
        messages.error(request, verdict.reason)
        return HttpResponseRedirect(model_version.get_absolute_url())
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
            return redirect(model_version)
    context = {"form": form, "model": model, "version": model_version, "nav": "catalog"}
    return render(request, "catalog/version_edit.html", context)
