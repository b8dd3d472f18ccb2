"""The API tokens page: a user makes, lists and revokes their own tokens; a new token is shown once."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from api import permissions, services
from api.forms import TokenForm
from api.models import ApiToken
from core.http import render_page
from core.types import AuthedRequest


def _render(request: AuthedRequest, form: TokenForm, *, secret: str = "", new: ApiToken | None = None) -> HttpResponse:
    context: dict[str, Any] = {
        "form": form,
        "tokens": ApiToken.objects.filter(user=request.user).order_by("-created_at", "-id"),
        "secret": secret,
        "new": new,
        "api_base": request.build_absolute_uri("/api/v1/"),
        "nav": "tokens",
    }
    return render_page(request, "api/token_list.html", context, partial="tokens")


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: AuthedRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    if request.method == "POST":
        permissions.may_create_token(request.access).check_role()
        if form.is_valid():
            try:
                token, secret = services.create_api_token(actor=request.user, **form.cleaned_data)
            except services.TokenError as error:
                form.add_error(None, str(error))
            else:
                # Shown in this answer only, never stored: a reload does not show it again.
                return _render(request, TokenForm(), secret=secret, new=token)
    return _render(request, form)


@login_required
@require_POST
def token_revoke(request: AuthedRequest, pk: int) -> HttpResponse:
    token = ApiToken.objects.filter(pk=pk, user=request.user).first()
    if token is None:  # someone else's tokens do not exist for you
        raise Http404("No such token.")
    try:
        services.revoke_api_token(actor=request.user, token=token)
    except services.TokenError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Revoked “{token.name}”: it no longer works.")
    if request.htmx:
        return _render(request, TokenForm())
    return redirect("api-tokens")
