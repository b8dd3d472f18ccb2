"""A user's notifications, read from the activity log: decisions on their requests, requests waiting for their
review, and comments on versions they requested. No row is written per notification; a marker says what is read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import BigIntegerField, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from activity.models import ActivityEntry, Verb
from approvals import selectors as approval_selectors
from approvals.models import StageChangeRequest, Status
from catalog import permissions
from catalog.models import ModelVersion, RegisteredModel
from catalog.permissions import AnyUser
from core.compiled import per_user_sql
from notifications.models import DismissedDecision, ReadMarker

DECISIONS = [Verb.STAGE_CHANGE_APPROVED, Verb.STAGE_CHANGE_REJECTED, Verb.STAGE_CHANGE_CANCELLED]
COUNT_CAP = 100


def notifications(*, user: AnyUser) -> QuerySet[ActivityEntry]:
    """Entries about user by someone else, newest first, on models user may still view: decisions on user's requests,
    requests user may review, comments on versions user requested."""
    if not user.is_authenticated:
        return ActivityEntry.objects.none()
    reviewable = RegisteredModel.objects.filter(permissions.reviewable_models_filter(user)).values("pk")
    waiting = Q(verb=Verb.STAGE_CHANGE_REQUESTED, model_id__in=reviewable)
    still_pending = StageChangeRequest.objects.filter(pk=OuterRef("request_id"), status=Status.PENDING)
    return (
        _about(user)
        .filter(_about_me(user) | waiting)
        .annotate(still_pending=Exists(still_pending))
        .select_related("actor", "model", "version__model")
        .order_by("-created_at", "-id")
    )


def _about(user: User) -> QuerySet[ActivityEntry]:
    """Entries by someone else than user on models user may still view."""
    viewable = RegisteredModel.objects.filter(
        permissions.viewable_models_filter(user, correlated=True), pk=OuterRef("model_id")
    )
    return (
        ActivityEntry.objects.alias(request_id=Cast(KeyTextTransform("change_request", "extra"), BigIntegerField()))
        .filter(Exists(viewable))
        .exclude(actor_id=user.pk)
    )


def _about_me(user: User) -> Q:
    """Decisions on user's requests and comments on the versions user asked to move (read from the version index)."""
    mine = StageChangeRequest.objects.filter(requester_id=user.pk)
    # The version condition stands alone, outside the OR: PostgreSQL then joins the log to user's requests (a few rows)
    # down the version index. Inside the OR it was a filter on every entry, a scan of the whole log (100 ms a page at
    # 1,000,000 entries).
    decided_mine = StageChangeRequest.objects.filter(pk=OuterRef("request_id"), requester_id=user.pk)
    return Q(version_id__in=mine.values("version_id")) & (
        Q(Exists(decided_mine), verb__in=DECISIONS) | Q(verb=Verb.COMMENTED)
    )


def read_at(*, user: User) -> datetime | None:
    """When user last marked their notifications read (None: never)."""
    marker = ReadMarker.objects.filter(user=user).first()
    return marker.read_at if marker else None


def nav_counts(*, user: AnyUser) -> tuple[int, int]:
    """The navigation's two badges, each counted up to 100, in one query: requests waiting for user's review and
    user's unread notifications.

    Unread notifications come in two disjoint parts. Entries about user's own requests are read from the log's version
    index. Requests for user's review are counted only while they still wait for user, so they are read with the
    inbox's count from the pending requests, newest first: those that came after user last read are the first ones
    of that walk, and counting them among its first 100 counts them up to 100. (One filter over the whole log for
    both parts scanned it: 175 ms a page for a reviewer of 10,000 models.)"""
    if not isinstance(user, User):
        return 0, 0
    # One round trip for both: every page shows both badges, and a second query per page is what the budget forbids.
    sql, params = per_user_sql("nav_counts", user, _nav_counts_sql)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inbox, unread = cursor.fetchone()
    return int(inbox), min(int(unread), COUNT_CAP)


def _nav_counts_sql(user: User) -> tuple[str, list[Any]]:
    marker = ReadMarker.objects.filter(user=user, read_at__gte=OuterRef("created_at"))
    waiting_sql, waiting_params = (
        approval_selectors.waiting_for(user=user)
        .annotate(seen=Exists(marker))
        .order_by("-created_at", "-id")[: approval_selectors.INBOX_COUNT_CAP]
        .values("seen")
        .query.sql_with_params()
    )
    about_sql, about_params = (
        _about(user).filter(_about_me(user)).exclude(Exists(marker)).order_by()[:COUNT_CAP].values("pk")
    ).query.sql_with_params()
    sql = (
        f"WITH waiting AS ({waiting_sql}) SELECT (SELECT COUNT(*) FROM waiting),"
        f" (SELECT COUNT(*) FROM waiting WHERE NOT seen) + (SELECT COUNT(*) FROM ({about_sql}) about)"
    )
    return sql, [*waiting_params, *about_params]


def pending_and_decision(
    *, user: AnyUser, version: ModelVersion
) -> tuple[StageChangeRequest | None, StageChangeRequest | None]:
    """The version page's two requests in one query (and the reviews' prefetch): the version's pending request, with
    its reviews as approvals.selectors.pending_for_version gives it, and the decision banner's request: the last
    decided request user made for version, when someone else decided it and user has not dismissed it."""
    requests = StageChangeRequest.objects.filter(status=Status.PENDING, version_id=version.pk)
    if user.is_authenticated:
        last_decided = (
            StageChangeRequest.objects.filter(version_id=version.pk, requester_id=user.pk)
            .exclude(status=Status.PENDING)
            .order_by("-created_at", "-id")
            .values("pk")[:1]
        )
        dismissed = DismissedDecision.objects.filter(user_id=user.pk, change_request=OuterRef("pk"))
        requests = (
            StageChangeRequest.objects.filter(Q(status=Status.PENDING) | Q(pk=Subquery(last_decided)))
            .filter(version_id=version.pk)
            .annotate(dismissed=Exists(dismissed))
        )
    requests = approval_selectors.with_review_details(requests, user=user)
    pending = decided = None
    for change_request in requests.order_by("id"):
        if change_request.status == Status.PENDING:
            pending = pending or change_request
        else:
            decided = change_request
    if decided is None or decided.dismissed or decided.resolved_by_id in (None, user.pk):  # type: ignore[attr-defined]
        return pending, None
    return pending, decided
