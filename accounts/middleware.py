"""Show times in the time zone the signed-in user chose (UTC for anyone else)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone

from accounts.models import DEFAULT_TIME_ZONE
from accounts.selectors import time_zone_of

SESSION_KEY = "time_zone"


def remember_time_zone(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """On sign-in, keep the user's time zone in the session, so that no request has to read it again."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = time_zone_of(user=user)


def _zone(request: HttpRequest) -> ZoneInfo:
    name = DEFAULT_TIME_ZONE
    if request.user.is_authenticated:
        name = request.session.get(SESSION_KEY, "")
        if not name:  # a session from before the setting existed: read it once
            name = request.session[SESSION_KEY] = time_zone_of(user=request.user)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIME_ZONE)


class ViewersZone(tzinfo):
    """The zone of the request's user, looked up the first time a time is converted to it: a request that shows no
    time (a health check, a JSON answer) reads neither the session nor the user for it."""

    def __init__(self, request: HttpRequest) -> None:
        self._request = request
        self._zone: ZoneInfo | None = None

    @property
    def zone(self) -> ZoneInfo:
        if self._zone is None:
            self._zone = _zone(self._request)
        return self._zone

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return self.zone.utcoffset(dt)

    def dst(self, dt: datetime | None) -> timedelta | None:
        return self.zone.dst(dt)

    def tzname(self, dt: datetime | None) -> str | None:
        return self.zone.tzname(dt)

    def fromutc(self, dt: datetime) -> datetime:
        return self.zone.fromutc(dt.replace(tzinfo=self.zone))  # the local time carries the real zone from here on

    def __str__(self) -> str:
        return str(self.zone)


def time_zone_middleware(get_response: Callable[[HttpRequest], HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    def middleware(request: HttpRequest) -> HttpResponseBase:
        timezone.activate(ViewersZone(request))
        try:
            return get_response(request)
        finally:
            timezone.deactivate()

    return middleware
