"""Admin for the catalog. Every write goes through the same service as the page that makes it (same permission
decision, refusal message and activity entry, with the admin user as the actor); what no service changes is
read-only here, with a link to the page that does. Staff see only the models they may view.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet, URLField
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from guardian.admin import GuardedModelAdmin

from approvals import services as workflow
from approvals.permissions import lowers_lock
from catalog import services
from catalog.models import (
    Label,
    ModelVersion,
    RegisteredModel,
    RegisteredModelGroupObjectPermission,
    RegisteredModelUserObjectPermission,
)
from catalog.permissions import viewable_models_filter

# The domain errors of the services the admin calls: each becomes the form's error, and nothing changes.
REFUSALS = (PermissionDenied, services.CatalogError, workflow.WorkflowError)
ROLES_ARE_ON_THE_CARD = "Roles are given and taken away on the model's Collaborators page, which logs each change."


class VisibleOnlyMixin:
    """Limit admin pages to models the staff user may view; anything else is a 404, as on the site."""

    model_lookup = "pk"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        if request.user.is_superuser:
            return queryset
        visible = RegisteredModel.objects.filter(viewable_models_filter(request.user)).values("pk")
        return queryset.filter(**{f"{self.model_lookup}__in": visible})

    def change_view(self, request: HttpRequest, object_id: str, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            exists = self.get_queryset(request).filter(pk=object_id).exists()
        except (ValueError, TypeError):
            exists = False
        if not exists:
            raise Http404("No such object.")
        return super().change_view(request, object_id, *args, **kwargs)  # type: ignore[misc]


class ServiceForm(forms.ModelForm):
    """An admin form whose changes are made by services, called once the fields are valid.

    The services validate and save (so the model's own validation in _post_clean is not run again on an object
    they have already written), and a refusal becomes the form's error with the service's message.
    """

    actor: Any = None  # the admin user, set by ServiceAdmin.get_form
    refusals: tuple[type[Exception], ...] = REFUSALS  # an app's form adds its own domain error
    applied: Model | None = None
    apply: Callable[[ServiceForm], Model]  # what the admin class makes of the cleaned data

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            with transaction.atomic():
                self.applied = type(self).apply(self)
        except self.refusals as refused:
            raise ValidationError(str(refused.args[0]) if refused.args else str(refused)) from refused
        return cleaned

    def _post_clean(self) -> None:
        pass


class ServiceAdmin(admin.ModelAdmin):
    """A ModelAdmin whose form hands its changes to services instead of saving the object itself."""

    form = ServiceForm

    def add(self, form: ServiceForm) -> Model:
        raise PermissionDenied("Nothing can be added here.")

    def change(self, form: ServiceForm) -> Model:
        raise PermissionDenied("Nothing can be changed here.")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form_class = super().get_form(request, obj, change=change, **kwargs)
        apply = self.change if obj is not None else self.add
        return type(form_class.__name__, (form_class,), {"actor": request.user, "apply": apply})

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        return form.applied  # written by the service in clean()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        pass

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # no service deletes models or versions: they have history


def _label_names(labels: Any) -> list[str]:
    return sorted(label.name for label in labels)


def _metadata_changed(data: dict[str, Any], version: ModelVersion) -> bool:
    """Whether the form asks for other metadata than the version has (so that a lock change alone edits nothing)."""
    current = {
        "description": version.description,
        "labels": _label_names(version.labels.all()),
        "attributes": version.attributes,
        "artifact_uri": version.artifact_uri,
        "source_run_url": version.source_run_url,
    }
    wanted = {
        "description": data["description"].strip(),
        "labels": _label_names(data["labels"]),
        "attributes": data["attributes"] or {},
        "artifact_uri": data["artifact_uri"].strip(),
        "source_run_url": data["source_run_url"].strip(),
    }
    return wanted != current


def _link(url: str, text: str) -> str:
    return format_html('<a href="{}">{}</a>', url, text)


@admin.register(RegisteredModel)
class RegisteredModelAdmin(VisibleOnlyMixin, GuardedModelAdmin, ServiceAdmin):  # type: ignore[misc]
    list_display = ["name", "owner", "visibility", "task_type", "data_type", "required_approvals", "updated_at"]
    list_filter = ["visibility", "task_type", "data_type"]
    search_fields = ["name", "description"]
    filter_horizontal = ["labels"]
    list_select_related = ["owner"]
    add_fields = ["name", "description", "labels", "task_type", "data_type", "visibility"]
    change_fields = ["description", "labels", "task_type", "data_type", "visibility", "required_approvals"]
    read_only = ["name", "slug", "owner", "collaborators", "created_at", "updated_at"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.add_fields if obj is None else [*self.read_only, *self.change_fields]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if obj is None else self.read_only

    @admin.display(description="Collaborators")
    def collaborators(self, obj: RegisteredModel) -> str:
        url = reverse("catalog:model-collaborators", kwargs={"slug": obj.slug})
        return _link(url, "Manage roles on the model's Collaborators page")

    def add(self, form: ServiceForm) -> Model:
        data = form.cleaned_data
        return services.register_model(
            actor=form.actor,
            name=data["name"],
            description=data["description"],
            labels=_label_names(data["labels"]),
            task_type=data["task_type"],
            data_type=data["data_type"],
            visibility=data["visibility"],
        )

    def change(self, form: ServiceForm) -> Model:
        data, model = form.cleaned_data, form.instance
        model = services.edit_model(
            actor=form.actor,
            model=model,
            description=data["description"],
            labels=_label_names(data["labels"]),
            task_type=data["task_type"],
            data_type=data["data_type"],
            visibility=data["visibility"],
        )
        if "required_approvals" in form.changed_data:
            model = workflow.set_approval_policy(
                actor=form.actor, model=model, required_approvals=data["required_approvals"]
            )
        return model

    # Guardian's object-permission pages show who holds what; changing grants there would skip the Owner check
    # and the log, so a change is refused with a pointer to the Collaborators page.
    def obj_perms_manage_user_view(self, request: HttpRequest, object_pk: str, user_id: str) -> HttpResponse:
        return self._read_only_grants(request, object_pk) or super().obj_perms_manage_user_view(
            request, object_pk, user_id
        )

    def obj_perms_manage_group_view(self, request: HttpRequest, object_pk: str, group_id: str) -> HttpResponse:
        return self._read_only_grants(request, object_pk) or super().obj_perms_manage_group_view(
            request, object_pk, group_id
        )

    def _read_only_grants(self, request: HttpRequest, object_pk: str) -> HttpResponse | None:
        if request.method != "POST":
            return None
        model = self.get_queryset(request).filter(pk=object_pk).first()
        if model is None:
            raise Http404("No such object.")
        messages.error(request, ROLES_ARE_ON_THE_CARD)
        return HttpResponseRedirect(reverse("catalog:model-collaborators", kwargs={"slug": model.slug}))


@admin.register(ModelVersion)
class ModelVersionAdmin(VisibleOnlyMixin, ServiceAdmin):
    model_lookup = "model"
    list_display = ["name", "model", "stage", "lock_level", "created_by", "created_at", "stage_changed_at"]
    list_filter = ["stage", "lock_level"]
    search_fields = ["name", "model__name"]
    raw_id_fields = ["model"]
    filter_horizontal = ["labels"]
    list_select_related = ["model", "created_by"]
    # As on the site's version form: a source run URL typed without a scheme means https.
    formfield_overrides = {URLField: {"assume_scheme": "https"}}
    add_fields = ["model", "name", "description", "labels", "attributes", "artifact_uri", "source_run_url"]
    metadata = ["description", "labels", "attributes", "artifact_uri", "source_run_url"]
    # Stage changes go through the approval workflow, never through the admin.
    read_only = ["model", "name", "stage", "version_page", "stage_changed_at", "created_by", "created_at"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.add_fields if obj is None else [*self.read_only, *self.metadata, "lock_level"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if obj is None else self.read_only

    @admin.display(description="Stage changes")
    def version_page(self, obj: ModelVersion) -> str:
        return _link(obj.get_absolute_url(), "Request a stage change on the version page")

    def add(self, form: ServiceForm) -> Model:
        data = form.cleaned_data
        return services.register_version(
            actor=form.actor,
            model=data["model"],
            name=data["name"],
            description=data["description"],
            labels=_label_names(data["labels"]),
            attributes=data["attributes"] or {},
            artifact_uri=data["artifact_uri"],
            source_run_url=data["source_run_url"],
        )

    def change(self, form: ServiceForm) -> Model:
        data, version = form.cleaned_data, form.instance
        relock = "lock_level" in form.changed_data
        unlocks_first = relock and lowers_lock(current=version.lock_level, new=data["lock_level"])
        if unlocks_first:  # an Owner unlocking and editing at once: open it, then edit
            version = workflow.set_lock_level(actor=form.actor, version=version, lock_level=data["lock_level"])
        if _metadata_changed(data, version):
            version = services.edit_version(
                actor=form.actor,
                version=version,
                description=data["description"],
                labels=_label_names(data["labels"]),
                attributes=data["attributes"] or {},
                artifact_uri=data["artifact_uri"],
                source_run_url=data["source_run_url"],
            )
        if relock and not unlocks_first:  # edit, then lock
            version = workflow.set_lock_level(actor=form.actor, version=version, lock_level=data["lock_level"])
        return version


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never written: what changes these rows is elsewhere (see each class)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Label)
class LabelAdmin(ReadOnlyAdmin):
    """Labels come and go with the models and versions that use them (their edit pages)."""

    search_fields = ["name"]


@admin.register(RegisteredModelUserObjectPermission)
class UserPermissionAdmin(VisibleOnlyMixin, ReadOnlyAdmin):
    """Grants change only through roles on the model's Collaborators page."""

    model_lookup = "content_object"
    list_display = ["content_object", "user", "permission"]
    list_select_related = ["content_object", "user", "permission"]


@admin.register(RegisteredModelGroupObjectPermission)
class GroupPermissionAdmin(VisibleOnlyMixin, ReadOnlyAdmin):
    """Grants change only through roles on the model's Collaborators page."""

    model_lookup = "content_object"
    list_display = ["content_object", "group", "permission"]
    list_select_related = ["content_object", "group", "permission"]
