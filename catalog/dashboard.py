"""Every read of the home page: totals, recent versions, Production over time and lead times, for one user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from activity.models import PRODUCTION_MOVES, ActivityEntry, Verb
from activity.selectors import visible_entries
from approvals.models import StageChangeRequest, Status
from catalog import permissions
from catalog.models import STAGE_ORDER, ModelVersion, RegisteredModel, Stage, stage_count_field
from catalog.permissions import AnyUser
from catalog.selectors import StageCount, visible_models, visible_versions
from core.stats import Median, median_of

LEAD_TIME_SAMPLE = 200  # recent enough to describe the team today, small enough to read on every home page
HISTORY_DAYS = 90


@dataclass(frozen=True)
class HomeStats:
    total_models: int
    total_versions: int
    stage_counts: list[StageCount]
    recently_registered: list[ModelVersion]
    recently_changed: list[ModelVersion]

    @property
    def production_count(self) -> int:
        return next(c.count for c in self.stage_counts if c.stage == Stage.PRODUCTION)


@dataclass(frozen=True)
class DayCount:
    day: date
    count: int


@dataclass(frozen=True)
class HomeDashboard:
    stats: HomeStats
    production_history: list[DayCount]
    time_to_decision: Median
    time_to_production: Median


def home_dashboard(*, user: AnyUser) -> HomeDashboard:
    """Everything the home page shows, across the models user may view."""
    stats = home_stats(user=user)
    return HomeDashboard(
        stats=stats,
        production_history=production_history(user=user, current=stats.production_count),
        time_to_decision=time_to_decision(user=user),
        time_to_production=time_to_production(user=user),
    )


def home_stats(*, user: AnyUser, recent: int = 8) -> HomeStats:
    """Totals and recent versions across the models user may view."""
    totals = visible_models(user=user).aggregate(
        models=Count("pk"), **{stage.value: Sum(stage_count_field(stage)) for stage in STAGE_ORDER}
    )
    counts = [StageCount(stage=stage, count=totals[stage.value] or 0) for stage in STAGE_ORDER]
    recent_qs = visible_versions(user=user).select_related("model")
    return HomeStats(
        total_models=totals["models"],
        total_versions=sum(c.count for c in counts),
        stage_counts=counts,
        recently_registered=list(recent_qs.order_by("-created_at", "-id")[:recent]),
        recently_changed=list(
            recent_qs.filter(stage_changed_at__isnull=False).order_by("-stage_changed_at", "-id")[:recent]
        ),
    )


def production_history(
    *, user: AnyUser, current: int, days: int = HISTORY_DAYS, now: datetime | None = None
) -> list[DayCount]:
    """Versions in Production at the end of each of the last days, walked back from current through the log."""
    now = timezone.localtime(now or timezone.now())
    today = now.date()
    start = timezone.make_aware(datetime.combine(today - timedelta(days=days - 1), datetime.min.time()))
    moves = (
        visible_entries(user=user, account_events=False)
        .filter(PRODUCTION_MOVES, created_at__gte=start, created_at__lte=now)
        .values_list("created_at", "to_stage")
    )
    net: dict[date, int] = {}
    for created_at, to_stage in moves:
        day = timezone.localtime(created_at).date()
        net[day] = net.get(day, 0) + (1 if to_stage == Stage.PRODUCTION else -1)
    history = []
    count = current
    for offset in range(days):
        day = today - timedelta(days=offset)
        history.append(DayCount(day=day, count=count))
        count -= net.get(day, 0)
    return history[::-1]


def time_to_production(*, user: AnyUser, days: int = HISTORY_DAYS, now: datetime | None = None) -> Median:
    """Median time from registration (Unassigned) to first arrival in Production of the versions that arrived in the
    last days, over at most the LEAD_TIME_SAMPLE most recent arrivals, from the log of the models user may view."""
    now = now or timezone.now()
    earlier_arrival = ActivityEntry.objects.filter(
        version=OuterRef("version"),
        verb=Verb.STAGE_CHANGED,
        to_stage=Stage.PRODUCTION,
        created_at__lt=OuterRef("created_at"),
    )
    arrivals = (
        visible_entries(user=user, account_events=False)
        # Arrivals as "a Production move that does not leave Production": a condition on to_stage would lead SQLite
        # to the (to_stage, time) index and through every request for Production, instead of the partial index.
        .filter(PRODUCTION_MOVES, created_at__gte=now - timedelta(days=days))
        .exclude(from_stage=Stage.PRODUCTION)
        .filter(created_at__lte=now)
        .exclude(Exists(earlier_arrival))
        .order_by("-created_at", "-pk")
        .values_list("created_at", "version__created_at")[:LEAD_TIME_SAMPLE]
    )
    durations = [arrived - registered for arrived, registered in arrivals]
    return median_of(durations, days=days, sample=LEAD_TIME_SAMPLE)


def time_to_decision(*, user: AnyUser, days: int = HISTORY_DAYS, now: datetime | None = None) -> Median:
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
    if connection.vendor == "postgresql":
        # PostgreSQL checks each decision's model down the grants' index as it walks the decisions newest first, and
        # stops at the sample: reading every viewable model's id first cost 16 ms for someone who sees 10,000.
        viewable_model = RegisteredModel.objects.filter(
            permissions.viewable_models_filter(user, correlated=True), pk=OuterRef("version__model_id")
        )
        # No further back than the 5 × LEAD_TIME_SAMPLE-th decision, the bound below: someone who sees few models gets
        # a smaller sample rather than a walk through the whole window.
        oldest = decided.values("resolved_at")[LEAD_TIME_SAMPLE * 5 - 1 : LEAD_TIME_SAMPLE * 5]
        since = Coalesce(Subquery(oldest), Value(now - timedelta(days=days)))
        rows = decided.filter(Exists(viewable_model), resolved_at__gte=since)[:LEAD_TIME_SAMPLE]
        sampled = [resolved - requested for requested, resolved, _ in rows if resolved is not None]
        return median_of(sampled, days=days, sample=LEAD_TIME_SAMPLE)
    # Elsewhere decisions are read newest first down their index, and the viewable models checked against a set read
    # once: a permission subquery per row costs SQLite a fresh look at every grant, and a join first sorts them all.
    viewable = set(
        RegisteredModel.objects.filter(permissions.viewable_models_filter(user)).values_list("pk", flat=True)
    )
    durations: list[timedelta] = []
    # At most five samples' worth read: past that, someone who sees few of the models gets a smaller sample rather
    # than a home page that reads the whole window.
    for requested, resolved, model_id in decided[: LEAD_TIME_SAMPLE * 5]:
        if model_id in viewable and resolved is not None:
            durations.append(resolved - requested)
            if len(durations) == LEAD_TIME_SAMPLE:
                break
    return median_of(durations, days=days, sample=LEAD_TIME_SAMPLE)
