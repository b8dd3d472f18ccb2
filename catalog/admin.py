"""Admin for the catalog, with guardian's object-permission pages; staff see only models they may view."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet, URLField
from django.http import Http404, HttpRequest, HttpResponse
from guardian.admin import GuardedModelAdmin

from catalog.models import (
    Label,
    ModelVersion,
    RegisteredModel,
    RegisteredModelGroupObjectPermission,
    RegisteredModelUserObjectPermission,
)
from catalog.permissions import viewable_models_filter


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


@admin.register(RegisteredModel)
class RegisteredModelAdmin(VisibleOnlyMixin, GuardedModelAdmin):  # type: ignore[misc]
    list_display = [
        "name",
        "owner",
        "visibility",
        "task_type",
        "data_type",
        "required_approvals",
        "updated_at",
    ]
    list_filter = ["visibility", "task_type", "data_type"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["owner"]
    filter_horizontal = ["labels"]
    list_select_related = ["owner"]


@admin.register(ModelVersion)
class ModelVersionAdmin(VisibleOnlyMixin, admin.ModelAdmin):
    model_lookup = "model"
    list_display = ["name", "model", "stage", "lock_level", "created_by", "created_at", "stage_changed_at"]
    list_filter = ["stage", "lock_level"]
    search_fields = ["name", "model__name"]
    raw_id_fields = ["model", "created_by"]
    filter_horizontal = ["labels"]
    list_select_related = ["model", "created_by"]
    # Stage changes go through the approval workflow, never through the admin.
    readonly_fields = ["stage", "stage_changed_at"]
    # As on the site's version form: a source run URL typed without a scheme means https.
    formfield_overrides = {URLField: {"assume_scheme": "https"}}


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(RegisteredModelUserObjectPermission)
class UserPermissionAdmin(VisibleOnlyMixin, admin.ModelAdmin):
    model_lookup = "content_object"
    list_display = ["content_object", "user", "permission"]
    raw_id_fields = ["content_object", "user"]
    list_select_related = ["content_object", "user", "permission"]


@admin.register(RegisteredModelGroupObjectPermission)
class GroupPermissionAdmin(VisibleOnlyMixin, admin.ModelAdmin):
    model_lookup = "content_object"
    list_display = ["content_object", "group", "permission"]
    raw_id_fields = ["content_object", "group"]
    list_select_related = ["content_object", "group", "permission"]
