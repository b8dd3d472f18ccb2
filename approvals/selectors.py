"""Reads of the approval workflow, limited to what the user may see."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from activity.selectors import LEAD_TIME_SAMPLE, Median, median_of
from approvals.models import Decision, Review, StageChangeRequest, Status
from catalog import permissions as catalog_permissions
from catalog.models import RegisteredModel
from catalog.permissions import AnyUser


def get_change_request(*, user: AnyUser, pk: int) -> StageChangeRequest:
    """The request with this id; raises Http404 when it does not exist or user may not view its model."""
    change_request = (
        StageChangeRequest.objects.select_related("version__model__owner", "requester", "resolved_by")
        .filter(pk=pk)
        .first()
    )
    if change_request is None or not catalog_permissions.can_view_model(user, change_request.version.model):
        raise Http404("No such request.")
    return change_request


def with_review_details(queryset: QuerySet[StageChangeRequest], *, user: AnyUser) -> QuerySet[StageChangeRequest]:
    """Requests with their approval count, whether user reviewed them, and their reviews (one extra query)."""
    reviewed = Review.objects.filter(change_request=OuterRef("pk"), reviewer_id=user.pk)
    # Correlated subqueries, not a join with GROUP BY: the database counts only the rows of the page shown.
    approvals = (
        Review.objects.filter(change_request=OuterRef("pk"), decision=Decision.APPROVE)
        .order_by()
        .values("change_request")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        queryset.select_related("version__model", "requester", "resolved_by")
        .annotate(approvals=Coalesce(Subquery(approvals), 0), reviewed_by_me=Exists(reviewed))
        .prefetch_related(
            Prefetch("reviews", queryset=Review.objects.select_related("reviewer").order_by("created_at"))
        )
    )


def pending_for_version(*, user: AnyUser, version_id: int) -> StageChangeRequest | None:
    """The version's pending request, if any, with its reviews."""
    pending = StageChangeRequest.objects.filter(version_id=version_id, status=Status.PENDING)
    return with_review_details(pending, user=user).first()


def pending_for_model(*, model: RegisteredModel) -> QuerySet[StageChangeRequest]:
    """Pending requests on any version of model, oldest first (the caller has checked view access)."""
    return StageChangeRequest.objects.filter(version__model=model, status=Status.PENDING).order_by("created_at", "id")


def pending_count_for_model(*, model: RegisteredModel) -> int:
    return pending_for_model(model=model).count()


def inbox(*, user: AnyUser, correlated: bool = False) -> QuerySet[StageChangeRequest]:
    """Pending requests user may review (not their own), oldest first."""
    # EXISTS per request, as in catalog.selectors.visible_versions: walk the pending index, stop at the page size.
    reviewable = RegisteredModel.objects.filter(
        catalog_permissions.reviewable_models_filter(user, correlated=correlated), pk=OuterRef("version__model_id")
    )
    return (
        StageChangeRequest.objects.filter(Exists(reviewable), status=Status.PENDING)
        .exclude(requester_id=user.pk)
        .order_by("created_at", "id")
    )


INBOX_COUNT_CAP = 100


def inbox_count(*, user: AnyUser) -> int:
    """How many requests wait for user's review (pending, theirs to review, not yet reviewed), counted up to 100."""
    if not user.is_authenticated:
        return 0
    reviewed = Review.objects.filter(change_request=OuterRef("pk"), reviewer_id=user.pk)
    # Counting stops at the cap, so the badge on every page costs the same whatever the backlog.
    return inbox(user=user, correlated=True).exclude(Exists(reviewed))[:INBOX_COUNT_CAP].count()


def own_requests(*, user: AnyUser) -> QuerySet[StageChangeRequest]:
    """Requests user made, newest first, on models they can still see."""
    viewable = RegisteredModel.objects.filter(
        catalog_permissions.viewable_models_filter(user), pk=OuterRef("version__model_id")
    )
    return StageChangeRequest.objects.filter(Exists(viewable), requester_id=user.pk).order_by("-created_at", "-id")


def time_to_decision(*, user: AnyUser, days: int = 90, now: datetime | None = None) -> Median:
    """Median time from request to approval or rejection of the requests decided in the last days, over at most the
    LEAD_TIME_SAMPLE most recent decisions, on the models user may view."""
    now = now or timezone.now()
    decided = (
        StageChangeRequest.objects.filter(
            status__in=[Status.APPROVED, Status.REJECTED],
            resolved_at__gte=now - timedelta(days=days),
            resolved_at__lte=now,
        )
        .order_by("-resolved_at")
        .values_list("created_at", "resolved_at", "version__model_id")
    )
    # Decisions are read newest first down their index, and the viewable models checked against a set read once:
    # a permission subquery per row costs SQLite a fresh look at every grant, and a join first sorts them all.
    viewable = set(
        RegisteredModel.objects.filter(catalog_permissions.viewable_models_filter(user)).values_list("pk", flat=True)
    )
    durations: list[timedelta] = []
    # At most five samples' worth read: past that, someone who sees few of the models gets a smaller sample rather
    # than a home page that reads the whole window.
    for requested, resolved, model_id in decided[: LEAD_TIME_SAMPLE * 5]:
        if model_id in viewable and resolved is not None:
            durations.append(resolved - requested)
            if len(durations) == LEAD_TIME_SAMPLE:
                break
    return median_of(durations, days=days)
