"""Read-only admin of the activity log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from activity.models import ActivityEntry
from catalog.admin import VisibleOnlyMixin


@admin.register(ActivityEntry)
class ActivityEntryAdmin(VisibleOnlyMixin, admin.ModelAdmin):
    model_lookup = "model"
    list_display = ["created_at", "actor", "verb", "model", "version", "from_stage", "to_stage"]
    list_filter = ["verb", "to_stage"]
    search_fields = ["comment", "model__name", "version__name", "actor__username"]
    list_select_related = ["actor", "model", "version"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
