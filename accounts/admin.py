"""The admin's user pages, with a rename going through accounts.services (logged as an entry of its own) instead of a
silent save; everything else on the page is Django's."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest

from accounts import services


class RenamingUserChangeForm(UserChangeForm):
    actor: Any = None  # the admin user, set by RenamingUserAdmin.get_form

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors or "username" not in self.changed_data:
            return cleaned
        try:  # inside the admin's transaction: the rename and its entry go with the rest of the form, or not at all
            services.rename_user(actor=self.actor, user=self.instance, username=cleaned["username"])
        except (PermissionDenied, services.AccountError) as refused:
            raise ValidationError({"username": str(refused)}) from refused
        return cleaned


class RenamingUserAdmin(UserAdmin):
    form = RenamingUserChangeForm

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form_class = super().get_form(request, obj, change=change, **kwargs)
        return type(form_class.__name__, (form_class,), {"actor": request.user})


admin.site.unregister(User)
admin.site.register(User, RenamingUserAdmin)
