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
    # The names each entry keeps from its time, not the live ones (which the links of the site lead to).
    list_display = ["created_at", "actor_username", "verb", "model_name", "version_name", "from_stage", "to_stage"]
    list_filter = ["verb", "to_stage"]
    search_fields = ["comment", "model_name", "version_name", "actor_username"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
