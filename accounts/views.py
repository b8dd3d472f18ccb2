"""The Profile page: a user's own settings (the time zone times are shown in)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.forms import ProfileForm
from accounts.middleware import SESSION_KEY
from accounts.selectors import time_zone_of
from core.http import render_page
from core.types import AuthedRequest


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: AuthedRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, initial={"time_zone": time_zone_of(user=request.user)})
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.set_time_zone(actor=request.user, time_zone=form.cleaned_data["time_zone"])
        except services.ProfileError as error:
            form.add_error("time_zone", str(error))
        else:
            request.session[SESSION_KEY] = saved.time_zone
            messages.success(request, f"Saved: times are shown in {saved.time_zone}.")
            return redirect("accounts:profile")
    context = {"form": form, "now": timezone.now(), "nav": "profile"}
    return render_page(request, "accounts/profile.html", context)
