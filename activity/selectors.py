"""Reads of the activity log, always limited to the models the user may view, and the history derived from it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils import timezone

from activity.filters import ActivityFilter
from activity.models import ActivityEntry, Verb, Verification
from catalog import permissions
from catalog.models import STAGE_ORDER, ModelVersion, RegisteredModel, Stage
from catalog.permissions import AnyUser
from core.keyset import Cursor, KeysetPage, keyset_page, older_than, without_cursor

ACTIVITY_PAGE_SIZE = 25
FEED_PAGE_SIZE = 20
EXPORT_CHUNK = 2_000
TIMELINE_MAX_MOVES = 500
AS_OF_SHOWN_PER_STAGE = 50


def visible_entries(*, user: AnyUser, account_events: bool = True) -> QuerySet[ActivityEntry]:
    """Entries of the models user may view, and (unless account_events is False: a caller that reads only entries
    about models, such as stage changes) their own account events."""
    # PostgreSQL probes the grants' unique index per entry (a correlated check) far faster than it re-reads a list of
    # every viewable model per entry; SQLite plans the group half of that probe badly and keeps the list once.
    viewable = permissions.viewable_models_filter(user, correlated=permissions.probe_grants_per_row())
    if not viewable:  # a superuser: every entry
        return ActivityEntry.objects.all()
    # A correlated EXISTS, as for versions: the database walks a (…, time) index newest first and stops after a page,
    # checking each entry's model by primary key, instead of first collecting every viewable model.
    of_viewable_models = Q(Exists(RegisteredModel.objects.filter(viewable, pk=OuterRef("model_id"))))
    if not user.is_active or not account_events:
        # Without the OR, PostgreSQL checks each entry's model by its key; with it, it may read every viewable model
        # first (6 ms at 10,000 models for the home page's 20 Production moves, 0.1 ms without).
        return ActivityEntry.objects.filter(of_viewable_models)
    # Account events (no model) are the actor's own.
    return ActivityEntry.objects.filter(of_viewable_models | Q(model__isnull=True, actor_id=user.pk))


def latest_verification() -> Verification | None:
    """The last run of verify_activity_log, if any: when it checked the hash chain, how far, and what it found."""
    return Verification.objects.order_by("-checked_at", "-id").first()


def _for_display(entries: QuerySet[ActivityEntry]) -> QuerySet[ActivityEntry]:
    # Entries show the names they keep (actor_username, model_name, version_name), not the live ones: only the
    # model is joined, for its slug in links (a model is never renamed, and neither is a version, so a link made
    # of the slug and the kept version name leads to the version).
    return entries.select_related("model")


def _filters_only(params: QueryDict) -> QueryDict | None:
    """The filters of params without the page's cursor, or None when there are none (an unfiltered log)."""
    return without_cursor(params) or None


@dataclass
class ActivitySearch:
    filter: ActivityFilter
    page: KeysetPage[ActivityEntry]


def search_activity(
    *, user: AnyUser, params: QueryDict, model: RegisteredModel | None = None, size: int = ACTIVITY_PAGE_SIZE
) -> ActivitySearch:
    """A page of the entries user may view (of model, when given) that match params' filters, newest first."""
    entries = ActivityEntry.objects.filter(model=model) if model is not None else visible_entries(user=user)
    activity_filter = ActivityFilter(_filters_only(params), queryset=entries, fixed_model=model)
    if activity_filter.is_bound and not activity_filter.is_valid():  # the form shows why; nothing is listed
        return ActivitySearch(activity_filter, KeysetPage([], params=params))
    return ActivitySearch(activity_filter, keyset_page(_for_display(activity_filter.qs), params, size=size))


def activity_page(
    *, params: QueryDict, model: RegisteredModel, version: ModelVersion | None = None
) -> KeysetPage[ActivityEntry]:
    """The page of a model's (or one version's) activity that params' cursor asks for, newest first; the caller has
    checked view access."""
    entries = ActivityEntry.objects.filter(model=model)
    if version is not None:
        entries = entries.filter(version=version)
    return keyset_page(_for_display(entries), params, size=FEED_PAGE_SIZE)


def export_entries(*, user: AnyUser, params: QueryDict) -> Iterator[dict[str, Any]] | None:
    """Every entry user may view that matches params' filters, newest first, as rows read a chunk at a time.

    None when the filters are invalid. Each chunk is one keyset query, so memory stays flat and no cursor or
    transaction is held open while the client reads.
    """
    activity_filter = ActivityFilter(_filters_only(params), queryset=visible_entries(user=user))
    if activity_filter.is_bound and not activity_filter.is_valid():
        return None
    columns = (
        "pk",
        "created_at",
        "actor_username",
        "verb",
        "model__slug",
        "model_name",
        "version_name",
        "from_stage",
        "to_stage",
        "comment",
        "extra",
    )
    rows = activity_filter.qs.order_by("-created_at", "-pk").values(*columns)

    def chunks() -> Iterator[dict[str, Any]]:
        cursor: Cursor | None = None
        while True:
            page = rows
            if cursor is not None:
                page = page.filter(older_than(cursor))
            chunk = list(page[:EXPORT_CHUNK])
            yield from chunk
            if len(chunk) < EXPORT_CHUNK:
                return
            cursor = Cursor(created_at=chunk[-1]["created_at"], pk=chunk[-1]["pk"])

    return chunks()


# Stage timeline of a version -------------------------------------------------------------------------------------


@dataclass
class StagePeriod:
    stage: Stage
    start: datetime
    end: datetime | None  # None: the stage it is in now
    moved_by: str = ""  # who made the move into this stage (the deciding approver); empty for the first period
    approvers: list[str] = field(default_factory=list)
    requested_by: str = ""
    note: str = ""  # e.g. why it was archived
    offset: float = 0.0  # where its bar starts, in percent of the timeline
    width: float = 0.0

    def duration(self, now: datetime) -> timedelta:
        return (self.end or now) - self.start


@dataclass
class Timeline:
    periods: list[StagePeriod]
    start: datetime
    now: datetime
    truncated: bool  # the earliest moves are left out: more than TIMELINE_MAX_MOVES


def stage_timeline(*, version: ModelVersion, now: datetime | None = None) -> Timeline:
    """Each stage version was in, from when to when, and who moved and approved it, from the log (two queries)."""
    now = now or timezone.now()
    latest = list(
        ActivityEntry.objects.filter(version=version, verb=Verb.STAGE_CHANGED).order_by("-created_at", "-pk")[
            : TIMELINE_MAX_MOVES + 1
        ]
    )
    truncated = len(latest) > TIMELINE_MAX_MOVES
    # With more moves than are drawn, the oldest one fetched only opens the first period drawn.
    anchor = latest.pop() if truncated else None
    moves = latest[::-1]
    request_ids = {m.extra.get("change_request") for m in moves if m.extra.get("change_request")}
    approvers: dict[int, list[str]] = {}
    if request_ids:
        approvals = ActivityEntry.objects.filter(version=version, verb=Verb.STAGE_CHANGE_APPROVED).order_by(
            "created_at", "pk"
        )
        for approval in approvals:
            request_id = approval.extra.get("change_request")
            if request_id in request_ids:
                approvers.setdefault(request_id, []).append(approval.actor_username)
    if anchor is not None:
        first_stage, start = Stage(anchor.to_stage), anchor.created_at
    else:
        first_stage = Stage(moves[0].from_stage) if moves and moves[0].from_stage else Stage(version.stage)
        start = min(version.created_at, moves[0].created_at) if moves else version.created_at
    periods = [StagePeriod(stage=first_stage, start=start, end=None)]
    for move in moves:
        periods[-1].end = move.created_at
        caused = move.extra.get("caused_by")
        periods.append(
            StagePeriod(
                stage=Stage(move.to_stage),
                start=move.created_at,
                end=None,
                moved_by=move.actor_username,
                approvers=[] if caused else approvers.get(move.extra.get("change_request"), []),
                requested_by=move.extra.get("requested_by", ""),
                note=move.comment if caused else "",
            )
        )
    _lay_out(periods, start, now)
    return Timeline(periods=periods, start=start, now=now, truncated=truncated)


def _lay_out(periods: list[StagePeriod], start: datetime, now: datetime, minimum: float = 0.6) -> None:
    """Give each period a bar proportional to its length, at least minimum percent wide so every stage shows."""
    total = max((now - start).total_seconds(), 1.0)
    raw = [max(p.duration(now).total_seconds() / total * 100, minimum) for p in periods]
    scale = 100 / sum(raw)
    offset = 0.0
    for period, width in zip(periods, raw, strict=True):
        period.offset, period.width = offset, width * scale
        offset += period.width


# "What was in each stage at a given moment" ----------------------------------------------------------------------


@dataclass
class StageAsOf:
    stage: Stage
    count: int
    versions: list[ModelVersion]  # at most AS_OF_SHOWN_PER_STAGE, each with .since (None: since registration)


def stages_as_of(*, model: RegisteredModel, at: datetime) -> list[StageAsOf]:
    """Which of model's versions were in each stage at the moment at, derived from the log in one query."""
    moves = ActivityEntry.objects.filter(version=OuterRef("pk"), verb=Verb.STAGE_CHANGED)
    last_before = moves.filter(created_at__lte=at).order_by("-created_at", "-pk")
    first_after = moves.filter(created_at__gt=at).order_by("created_at", "pk")
    versions = (
        model.versions.filter(created_at__lte=at)
        .annotate(
            # The stage the last move before `at` led to; with none, the stage the first later move left, which is
            # the stage it was registered in; with no move at all, the stage it is in now.
            stage_then=Coalesce(
                Subquery(last_before.values("to_stage")[:1]), Subquery(first_after.values("from_stage")[:1]), F("stage")
            ),
            since=Subquery(last_before.values("created_at")[:1]),
        )
        .only("pk", "name", "created_at", "stage", "model_id")
        .order_by("-created_at", "-pk")
    )
    grouped: dict[str, list[ModelVersion]] = {stage.value: [] for stage in STAGE_ORDER}
    for version in versions:
        grouped[version.stage_then].append(version)
    return [
        StageAsOf(stage=stage, count=len(grouped[stage.value]), versions=grouped[stage.value][:AS_OF_SHOWN_PER_STAGE])
        for stage in STAGE_ORDER
    ]
