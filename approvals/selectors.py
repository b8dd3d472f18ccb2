"""Reads of the approval workflow, limited to what the user may see."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from approvals import permissions
from approvals.models import Decision, Review, StageChangeRequest, Status
from catalog import permissions as catalog_permissions
from catalog.models import RegisteredModel
from catalog.permissions import AnyUser, Who


def get_change_request(*, who: Who, pk: int) -> StageChangeRequest:
    """The request with this id; raises Http404 when it does not exist or the user may not view its model."""
    change_request = (
        StageChangeRequest.objects.select_related("version__model__owner", "requester", "resolved_by")
        .filter(pk=pk)
        .first()
    )
    if change_request is None or not catalog_permissions.can_view_model(who, change_request.version.model):
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
    # Counting stops at the cap, so the badge on every page costs the same whatever the backlog.
    return waiting_for(user=user)[:INBOX_COUNT_CAP].count()


def own_requests(*, user: AnyUser) -> QuerySet[StageChangeRequest]:
    """Requests user made, newest first, on models they can still see."""
    viewable = RegisteredModel.objects.filter(
        catalog_permissions.viewable_models_filter(user, correlated=catalog_permissions.probe_grants_per_row()),
        pk=OuterRef("version__model_id"),
    )
    return StageChangeRequest.objects.filter(Exists(viewable), requester_id=user.pk).order_by("-created_at", "-id")


def visible_change_requests(*, user: AnyUser) -> QuerySet[StageChangeRequest]:
    """Requests on the models user may view, newest first."""
    viewable = RegisteredModel.objects.filter(
        catalog_permissions.viewable_models_filter(user, correlated=catalog_permissions.probe_grants_per_row()),
        pk=OuterRef("version__model_id"),
    )
    return StageChangeRequest.objects.filter(Exists(viewable)).order_by("-created_at", "-id")


def waiting_for(*, user: AnyUser) -> QuerySet[StageChangeRequest]:
    """Pending requests that wait for user's review: theirs to review, not their own, not reviewed by them yet."""
    reviewed = Review.objects.filter(change_request=OuterRef("pk"), reviewer_id=user.pk)
    return inbox(user=user, correlated=True).exclude(Exists(reviewed))


def reviewer_emails(*, model: RegisteredModel, excluding: User) -> list[str]:
    """The addresses of the active users who may review a request by excluding on model (directly or through a
    group); superusers are not written to unless they hold the role."""
    reviewers = get_user_model().objects.filter(permissions.eligible_reviewers_filter(model, requester=excluding))
    return sorted(set(reviewers.exclude(email="").values_list("email", flat=True)))


REVIEWER_NAMES_SHOWN = 5


@dataclass(frozen=True)
class EligibleReviewers:
    """Who may approve a request (the first few names, alphabetically), for the sentence that says so."""

    names: list[str]
    more: bool  # there are more than the names listed

    def __bool__(self) -> bool:
        return bool(self.names)


def eligible_reviewers(
    *, model: RegisteredModel, requester: User | None, limit: int = REVIEWER_NAMES_SHOWN
) -> EligibleReviewers:
    """The people who may review requester's requests on model (requester None: anyone's), in one bounded query."""
    names = list(
        get_user_model()
        .objects.filter(permissions.eligible_reviewers_filter(model, requester=requester))
        .order_by("username")
        .values_list("username", flat=True)[: limit + 1]
    )
    return EligibleReviewers(names=names[:limit], more=len(names) > limit)
