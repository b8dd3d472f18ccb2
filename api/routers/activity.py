"""The activity log (with the activity page's filters), a version's stage timeline and comments, "stages as of"."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django.http import HttpRequest, QueryDict
from django.utils import timezone
from ninja import Field as F
from ninja import Query, Router, Schema, Status

from activity import selectors, services
from activity.filters import ActivityFilter
from activity.models import ActivityEntry, Verb
from activity.permissions import may_comment
from api.errors import ApiError
from api.pagination import DEFAULT_LIMIT, keyset
from api.present import entry_out
from api.schemas import ActivityEntryOut, ActivityPage, CommentIn, StageName, StagesAsOfOut, TimelineOut
from api.wiring import ERRORS, caller, created
from catalog import selectors as catalog_selectors

router = Router(tags=["activity"])


class ActivityFilters(Schema):
    model: str = F("", description="A model's slug or name.", max_length=200)
    version: str = F("", description="A version's name.", max_length=100)
    actor: str = F("", description="A username.", max_length=150)
    kind: str = F("", description="An event, e.g. stage_changed, stage_change_requested, commented.", max_length=40)
    stage: StageName | None = F(None, description="The stage a change moved to, or asked to.")
    since: date | None = F(None, description="From this day (whole days, in the site's time zone).")
    until: date | None = F(None, description="To this day, included.")
    q: str = F("", description="Words in the comment.", max_length=200)
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT


def _first_error(activity_filter: ActivityFilter) -> ApiError:
    field, messages = next(iter(activity_filter.errors.items()))
    return ApiError(400, "invalid", " ".join(str(m) for m in messages), field=None if field == "__all__" else field)


@router.get("/activity", response={200: ActivityPage, **ERRORS}, summary="The activity log you may see, newest first")
def list_activity(request: HttpRequest, filters: Query[ActivityFilters]) -> dict[str, Any]:
    params = QueryDict(mutable=True)
    for name, value in filters.model_dump(exclude={"cursor", "limit"}).items():
        if value:
            params[name] = value.isoformat() if isinstance(value, date) else value
    activity_filter = ActivityFilter(params or None, queryset=selectors.visible_entries(user=caller(request).user))
    if activity_filter.is_bound and not activity_filter.is_valid():
        raise _first_error(activity_filter)
    entries = activity_filter.qs.select_related("model")
    rows, following = keyset(entries, cursor=filters.cursor, limit=filters.limit)
    return {"items": [entry_out(entry) for entry in rows], "next": following}


@router.get(
    "/models/{slug}/versions/{version}/timeline",
    response={200: TimelineOut, **ERRORS},
    summary="Each stage a version was in, from when to when, and who moved and approved it",
)
def timeline(request: HttpRequest, slug: str, version: str) -> dict[str, Any]:
    found = catalog_selectors.get_version(who=caller(request).access, slug=slug, name=version)
    drawn = selectors.stage_timeline(version=found)
    periods = [
        {
            "stage": period.stage.value,
            "start": period.start,
            "end": period.end,
            "moved_by": period.moved_by,
            "approvers": period.approvers,
            "requested_by": period.requested_by,
            "note": period.note,
        }
        for period in drawn.periods
    ]
    return {"periods": periods, "truncated": drawn.truncated}


@router.get(
    "/models/{slug}/stages-as-of",
    response={200: StagesAsOfOut, **ERRORS},
    summary="Which versions were in each stage at a moment, from the log",
)
def stages_as_of(request: HttpRequest, slug: str, at: datetime) -> dict[str, Any]:
    model = catalog_selectors.get_model(who=caller(request).access, slug=slug)
    # In UTC: an offset PostgreSQL cannot store (beyond ±15:59) is still a valid moment.
    try:
        moment = (at if timezone.is_aware(at) else timezone.make_aware(at)).astimezone(UTC)
    except (OverflowError, ValueError) as error:
        raise ApiError(400, "invalid", "That moment is out of range.", field="at") from error
    if moment > timezone.now():
        raise ApiError(400, "invalid", "Pick a moment in the past: the log cannot tell the future.", field="at")
    stages = [
        {"stage": row.stage.value, "count": row.count, "versions": [v.name for v in row.versions]}
        for row in selectors.stages_as_of(model=model, at=moment)
    ]
    return {"at": moment, "stages": stages}


@router.get(
    "/models/{slug}/versions/{version}/comments",
    response={200: ActivityPage, **ERRORS},
    summary="Comments on a version, newest first",
)
def list_comments(
    request: HttpRequest, slug: str, version: str, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> dict[str, Any]:
    found = catalog_selectors.get_version(who=caller(request).access, slug=slug, name=version)
    comments = ActivityEntry.objects.filter(version=found, verb=Verb.COMMENTED).select_related("model")
    rows, following = keyset(comments.select_related("version"), cursor=cursor, limit=limit)
    return {"items": [entry_out(entry) for entry in rows], "next": following}


@router.post(
    "/models/{slug}/versions/{version}/comments",
    response={201: ActivityEntryOut, **ERRORS},
    summary="Comment on a version (Editors, Reviewers, Owners)",
)
def add_comment(request: HttpRequest, slug: str, version: str, payload: CommentIn) -> Status[dict[str, Any]]:
    who = caller(request)
    found = catalog_selectors.get_version(who=who.access, slug=slug, name=version)
    may_comment(who.access, found.model).check_role()
    entry = services.comment_on_version(actor=who.user, version=found, comment=payload.comment)
    return created(entry_out(entry))
