"""Types shared by the views of every app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

if TYPE_CHECKING:
    from catalog.permissions import Access


class AuthedRequest(HttpRequest):
    """A request that passed login_required, through django-htmx's middleware and the access middleware."""

    user: User
    htmx: HtmxDetails
    access: Access  # what request.user may do, computed once for this request
