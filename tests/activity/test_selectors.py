"""Reads of the activity log: filters, what each user may see, exports, and the history derived from the log."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.http import QueryDict
from django.utils import timezone

from activity import selectors
from activity.models import ActivityEntry, Verb
from activity.selectors import StagePeriod
from approvals import services as workflow
from catalog.models import STAGE_ORDER, ModelVersion, RegisteredModel, Stage
from catalog.permissions import Role
from catalog.services import add_collaborator, remove_collaborator
from tests.factories import ModelFactory, UserFactory, VersionFactory
from tests.helpers import entry_at, frozen, move_at, set_stage, version_at

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def labels(entries: Any) -> set[str]:
    """The labels of the hand-made entries among entries (rows or dicts); entries the fixtures wrote have none."""
    return {label for e in entries if (label := (e["extra"] if isinstance(e, dict) else e.extra).get("label"))}


# --- Filters ------------------------------------------------------------------------------------------------------


@pytest.fixture
def log(
    model: RegisteredModel, org_model: RegisteredModel, owner: Any, editor: Any, reviewer: Any
) -> dict[str, ActivityEntry]:
    """Seven labelled entries on the private `model` (versions v1, v2) and `org_model` (its own v1), in March 2024."""
    v1 = VersionFactory.create(model=model, name="v1")
    v2 = VersionFactory.create(model=model, name="v2")
    open_v1 = VersionFactory.create(model=org_model, name="v1")
    rows = [
        ("a", datetime(2024, 3, 1, 9, 0, tzinfo=UTC), editor, Verb.STAGE_CHANGE_REQUESTED, v1, "", Stage.STAGING,
         "Please ship it"),
        ("b", datetime(2024, 3, 1, 23, 59, 59, 999999, tzinfo=UTC), reviewer, Verb.STAGE_CHANGE_APPROVED, v1, "",
         Stage.STAGING, "LGTM"),
        ("c", datetime(2024, 3, 2, 0, 0, tzinfo=UTC), reviewer, Verb.STAGE_CHANGED, v1, Stage.UNASSIGNED,
         Stage.STAGING, ""),
        ("d", datetime(2024, 3, 5, 12, 0, tzinfo=UTC), editor, Verb.COMMENTED, v2, "", "", "needs more DATA"),
        ("e", datetime(2024, 3, 5, 13, 0, tzinfo=UTC), owner, Verb.STAGE_CHANGED, open_v1, Stage.STAGING,
         Stage.PRODUCTION, ""),
        ("f", datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC), reviewer, Verb.STAGE_CHANGE_REJECTED, open_v1, "",
         Stage.PRODUCTION, "ship it later"),
        ("g", datetime(2024, 3, 3, 10, 0, tzinfo=UTC), editor, Verb.STAGE_CHANGE_REQUESTED, v2, "",
         Stage.PRODUCTION, ""),
    ]  # fmt: skip
    return {
        label: entry_at(
            when,
            actor=actor,
            verb=verb,
            model=version.model,
            version=version,
            label=label,
            from_stage=from_stage,
            to_stage=to_stage,
            comment=comment,
        )
        for label, when, actor, verb, version, from_stage, to_stage, comment in rows
    }


def search(user: Any, query: str, model: RegisteredModel | None = None) -> selectors.ActivitySearch:
    return selectors.search_activity(user=user, params=QueryDict(query), model=model, size=100)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", set("abcdefg")),
        ("model=churn-predictor", set("abcdg")),
        ("model=Churn Predictor", set("abcdg")),  # by name, as typed
        ("model=  open model ", {"e", "f"}),  # by name, any case, spaces around
        ("model=Open-Model", {"e", "f"}),  # a slug typed with capitals
        ("model=churn", set()),  # no partial names
        ("version=v2", {"d", "g"}),
        ("version=v1", {"a", "b", "c", "e", "f"}),  # the name, in every model
        ("actor=editor", {"a", "d", "g"}),
        ("actor=reviewer", {"b", "c", "f"}),
        ("actor=nobody", set()),
        ("kind=stage_change_requested", {"a", "g"}),
        ("kind=stage_changed", {"c", "e"}),
        ("kind=commented", {"d"}),
        ("stage=production", {"e", "f", "g"}),
        ("stage=staging", {"a", "b", "c"}),
        ("q=ship it", {"a", "f"}),
        ("q=data", {"d"}),  # any case
        ("actor=reviewer&stage=staging", {"b", "c"}),
        ("actor=editor&stage=production", {"g"}),
        ("actor=reviewer&stage=production&kind=stage_change_rejected", {"f"}),
        ("model=churn-predictor&version=v1", {"a", "b", "c"}),
        ("model=open-model&q=ship", {"f"}),
    ],
)
def test_each_filter_alone_and_combined(
    log: dict[str, ActivityEntry], owner: Any, query: str, expected: set[str]
) -> None:
    result = search(owner, query)

    assert result.filter.errors == {}
    assert labels(result.page.object_list) == expected


@pytest.mark.parametrize(
    ("query", "check"),
    [
        ("model=churn-predictor", lambda e: e.model.slug == "churn-predictor"),
        ("version=v1", lambda e: e.version is not None and e.version.name == "v1"),
        ("actor=owner", lambda e: e.actor.username == "owner"),
        ("kind=model_registered", lambda e: e.verb == Verb.MODEL_REGISTERED),
    ],
)
def test_a_filter_shows_only_entries_that_match_it(
    log: dict[str, ActivityEntry], owner: Any, query: str, check: Any
) -> None:
    shown = search(owner, query).page.object_list

    assert shown
    assert all(check(e) for e in shown)


def test_the_activity_tab_of_a_model_filters_within_that_model_only(
    log: dict[str, ActivityEntry], model: RegisteredModel, owner: Any
) -> None:
    result = search(owner, "version=v1&model=open-model", model=model)

    assert "model" not in result.filter.filters  # the tab's model is fixed; a model parameter is ignored
    assert labels(result.page.object_list) == {"a", "b", "c"}
    assert {e.model for e in search(owner, "", model=model).page.object_list} == {model}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("since=2024-03-01&until=2024-03-01", {"a", "b"}),  # the whole day, to its last microsecond
        ("since=2024-03-02&until=2024-03-02", {"c"}),
        ("since=2024-03-01&until=2024-03-02", {"a", "b", "c"}),
        ("until=2024-03-01", {"a", "b", "f"}),
        ("until=2024-02-29", {"f"}),
        ("since=2024-03-03", {"d", "e", "g"}),
        ("since=2024-03-06", set()),
        ("since=2024-03-04&until=2024-03-04", set()),
        ("since=0001-01-01&until=9999-12-31", set("abcdefg")),  # the extremes a date field accepts
        ("since=1970-01-01&until=9998-12-31", set("abcdefg")),
    ],
)
def test_date_range_includes_whole_days(
    log: dict[str, ActivityEntry], owner: Any, query: str, expected: set[str]
) -> None:
    result = search(owner, query)

    assert result.filter.errors == {}
    assert labels(result.page.object_list) == expected


def test_dates_are_days_of_the_current_time_zone(log: dict[str, ActivityEntry], owner: Any) -> None:
    # In Tokyo (UTC+9) 2 March runs from 1 March 15:00 to 2 March 15:00 UTC.
    with timezone.override("Asia/Tokyo"):
        assert labels(search(owner, "since=2024-03-02&until=2024-03-02").page.object_list) == {"b", "c"}
        assert labels(search(owner, "until=2024-03-01").page.object_list) == {"a", "f"}


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("since=2024-03-05&until=2024-03-01", "__all__", "The “from” date is after the “to” date."),
        ("since=2024-02-30", "since", "Enter a valid date."),
        ("until=yesterday", "until", "Enter a valid date."),
        ("since=99999-01-01", "since", "Enter a valid date."),
        ("kind=deleted", "kind", "Select a valid choice."),
        ("stage=limbo", "stage", "Select a valid choice."),
        ("actor=" + "x" * 151, "actor", "at most 150 characters"),
        ("q=" + "x" * 201, "q", "at most 200 characters"),
    ],
)
def test_invalid_filters_explain_why_and_list_nothing(
    log: dict[str, ActivityEntry], owner: Any, query: str, field: str, message: str
) -> None:
    result = search(owner, query)

    assert message in " ".join(result.filter.errors[field])
    assert result.page.object_list == []
    assert (result.page.older, result.page.newer) == (None, None)
    assert selectors.export_entries(user=owner, params=QueryDict(query)) is None


def test_the_same_day_twice_is_a_valid_range(log: dict[str, ActivityEntry], owner: Any) -> None:
    assert search(owner, "since=2024-03-05&until=2024-03-05").filter.errors == {}


def test_search_pages_newest_first(log: dict[str, ActivityEntry], owner: Any) -> None:
    first = selectors.search_activity(user=owner, params=QueryDict("until=2024-12-31"), size=4)
    second = selectors.search_activity(user=owner, params=QueryDict(first.page.older_query), size=4)

    assert [e.extra["label"] for e in first.page.object_list] == ["e", "d", "g", "c"]
    assert [e.extra["label"] for e in second.page.object_list] == ["b", "a", "f"]
    assert second.page.older is None


# --- Who sees which entries ---------------------------------------------------------------------------------------


@pytest.fixture
def secret_log(db: None) -> tuple[RegisteredModel, Any]:
    """A stranger's private model with one labelled entry, and a user who is a viewer of it alone."""
    stranger = UserFactory.create(username="stranger")
    secret = ModelFactory.create(owner=stranger, name="Stranger Secret", visibility="private")
    insider = UserFactory.create(username="insider")
    add_collaborator(actor=stranger, model=secret, user=insider, role=Role.VIEWER)
    version = VersionFactory.create(model=secret, name="v1")
    entry_at(
        datetime(2024, 3, 4, tzinfo=UTC), actor=stranger, verb=Verb.COMMENTED, model=secret, version=version, label="s"
    )
    return secret, insider


def visible_models_in(entries: Any) -> set[str]:
    return {e["model__slug"] if isinstance(e, dict) else e.model.slug for e in entries}


@pytest.mark.parametrize(
    ("persona", "expected_labels", "expected_models"),
    [
        ("owner", set("abcdefg"), {"churn-predictor", "open-model"}),
        ("viewer", set("abcdefg"), {"churn-predictor", "open-model"}),
        ("outsider", {"e", "f"}, {"open-model"}),
        ("insider", {"e", "f", "s"}, {"open-model", "stranger-secret"}),
        ("superuser", set("abcdefgs"), {"churn-predictor", "open-model", "stranger-secret"}),
    ],
)
def test_search_and_export_list_only_entries_of_models_the_user_may_view(
    log: dict[str, ActivityEntry],
    secret_log: tuple[RegisteredModel, Any],
    request: pytest.FixtureRequest,
    persona: str,
    expected_labels: set[str],
    expected_models: set[str],
) -> None:
    user = secret_log[1] if persona == "insider" else request.getfixturevalue(persona)

    shown = search(user, "").page.object_list
    exported = list(selectors.export_entries(user=user, params=QueryDict()) or [])

    assert labels(shown) == expected_labels
    assert visible_models_in(shown) == expected_models
    assert labels(exported) == expected_labels
    assert visible_models_in(exported) == expected_models


@pytest.mark.parametrize("query", ["model=churn-predictor", "version=v2", "actor=editor", "q=data", "kind=commented"])
def test_filters_never_reach_into_a_model_the_user_cannot_view(
    log: dict[str, ActivityEntry], outsider: Any, query: str
) -> None:
    assert labels(search(outsider, query).page.object_list) <= {"e", "f"}
    assert not labels(search(outsider, query).page.object_list) & set("abcdg")
    exported = selectors.export_entries(user=outsider, params=QueryDict(query))
    assert exported is not None
    assert "churn-predictor" not in visible_models_in(exported)


def test_an_inactive_user_sees_no_entry(log: dict[str, ActivityEntry], viewer: Any) -> None:
    viewer.is_active = False
    viewer.save(update_fields=["is_active"])

    assert search(viewer, "").page.object_list == []
    assert list(selectors.export_entries(user=viewer, params=QueryDict()) or []) == []


def test_a_user_who_loses_the_role_stops_seeing_the_entries(
    log: dict[str, ActivityEntry], owner: Any, model: RegisteredModel, viewer: Any
) -> None:
    remove_collaborator(actor=owner, model=model, user=viewer)

    assert labels(search(viewer, "").page.object_list) == {"e", "f"}


# --- Exports ------------------------------------------------------------------------------------------------------


def test_export_rows_carry_every_column_of_the_entry(log: dict[str, ActivityEntry], owner: Any) -> None:
    rows = list(selectors.export_entries(user=owner, params=QueryDict("actor=editor&kind=commented")) or [])

    assert len(rows) == 1
    row = rows[0]
    assert row["created_at"] == datetime(2024, 3, 5, 12, 0, tzinfo=UTC)
    assert (row["actor_username"], row["verb"], row["model__slug"], row["model_name"]) == (
        "editor",
        "commented",
        "churn-predictor",
        "Churn Predictor",
    )
    assert (row["version_name"], row["from_stage"], row["to_stage"]) == ("v2", "", "")
    assert row["comment"] == "needs more DATA"
    assert row["extra"] == {"label": "d"}


def test_export_reads_in_chunks_and_gives_each_entry_once_newest_first(
    version: ModelVersion, owner: Any, monkeypatch: pytest.MonkeyPatch, django_assert_num_queries: Any
) -> None:
    monkeypatch.setattr(selectors, "EXPORT_CHUNK", 3)
    moment = datetime(2024, 3, 1, tzinfo=UTC)
    # Ties across chunk boundaries: only the (created_at, id) cursor keeps them apart.
    for n, offset in enumerate([0, 0, 1, 1, 1, 0, 2, 2, 0, 1, 0]):
        entry_at(
            moment + offset * HOUR,
            actor=owner,
            verb=Verb.COMMENTED,
            model=version.model,
            version=version,
            label=str(n),
        )
    expected = list(
        ActivityEntry.objects.filter(verb=Verb.COMMENTED).order_by("-created_at", "-pk").values_list("pk", flat=True)
    )

    rows = selectors.export_entries(user=owner, params=QueryDict("kind=commented"))
    assert rows is not None
    with django_assert_num_queries(4):  # 11 rows in chunks of 3: 3 full chunks and a last, short one
        exported = [row["pk"] for row in rows]

    assert exported == expected


def test_export_of_a_chunk_size_multiple_ends_with_one_empty_read(
    version: ModelVersion, owner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "EXPORT_CHUNK", 2)
    for _ in range(4):
        entry_at(
            datetime(2024, 3, 1, tzinfo=UTC), actor=owner, verb=Verb.COMMENTED, model=version.model, version=version
        )

    rows = selectors.export_entries(user=owner, params=QueryDict("kind=commented"))

    assert rows is not None
    assert len([row["pk"] for row in rows]) == 4


# --- Stage timeline of a version ----------------------------------------------------------------------------------

T0 = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)
T1, T2, T3, T4, NOW = T0 + 2 * DAY, T0 + 5 * DAY, T0 + 9 * DAY, T0 + 20 * DAY, T0 + 30 * DAY


@pytest.fixture
def history(
    model: RegisteredModel, owner: Any, editor: Any, editor2: Any, reviewer: Any, reviewer2: Any
) -> dict[str, ModelVersion]:
    """v1 climbs Unassigned → Development (T1) → Staging (T2) → Production (T3) through two-approval requests,
    and is archived at T4 when v2 is promoted to Production; the moves are made by the approval workflow itself.
    """
    with frozen(T0):
        workflow.set_approval_policy(actor=owner, model=model, required_approvals=2)
    v1 = version_at(T0, model=model, name="v1", created_by=editor)
    v2 = version_at(T0 + DAY, model=model, name="v2", created_by=editor)

    def request(when: datetime, actor: Any, version: ModelVersion, to_stage: Stage, **options: Any) -> Any:
        with frozen(when):
            return workflow.request_stage_change(actor=actor, version=version, to_stage=to_stage, **options)

    def approve(when: datetime, actor: Any, change_request: Any) -> None:
        with frozen(when):
            workflow.approve_change_request(actor=actor, change_request=change_request)

    development = request(T1 - 2 * HOUR, editor, v1, Stage.DEVELOPMENT)
    approve(T1 - HOUR, reviewer, development)
    approve(T1, reviewer2, development)

    staging = request(T2 - HOUR, editor2, v1, Stage.STAGING)
    approve(T2 - 30 * timedelta(minutes=1), reviewer, staging)
    approve(T2, owner, staging)

    # A first request for Production gets one approval and is then rejected: its approval belongs to no move.
    refused = request(T3 - 2 * DAY, editor, v1, Stage.PRODUCTION)
    approve(T3 - 2 * DAY + HOUR, reviewer2, refused)
    with frozen(T3 - 2 * DAY + 2 * HOUR):
        workflow.reject_change_request(actor=reviewer, change_request=refused, comment="Not yet.")
    production = request(T3 - DAY, editor, v1, Stage.PRODUCTION)
    approve(T3 - HOUR, reviewer2, production)
    approve(T3, reviewer, production)

    promotion = request(T4 - HOUR, editor2, v2, Stage.PRODUCTION, archive_others=True)
    approve(T4 - 30 * timedelta(minutes=1), owner, promotion)
    approve(T4, reviewer, promotion)
    return {"v1": ModelVersion.objects.get(pk=v1.pk), "v2": ModelVersion.objects.get(pk=v2.pk)}


def summary(period: StagePeriod) -> tuple[Any, ...]:
    return (period.stage, period.start, period.end, period.moved_by, period.approvers, period.requested_by, period.note)


def test_timeline_of_a_version_through_every_stage(history: dict[str, ModelVersion]) -> None:
    timeline = selectors.stage_timeline(version=history["v1"], now=NOW)

    assert [summary(p) for p in timeline.periods] == [
        (Stage.UNASSIGNED, T0, T1, "", [], "", ""),
        (Stage.DEVELOPMENT, T1, T2, "reviewer2", ["reviewer", "reviewer2"], "editor", ""),
        (Stage.STAGING, T2, T3, "owner", ["reviewer", "owner"], "editor2", ""),
        (Stage.PRODUCTION, T3, T4, "reviewer", ["reviewer2", "reviewer"], "editor", ""),
        (Stage.ARCHIVED, T4, None, "reviewer", [], "", "Archived because v2 moved to Production."),
    ]
    assert (timeline.start, timeline.now, timeline.truncated) == (T0, NOW, False)
    assert [p.duration(NOW) for p in timeline.periods] == [T1 - T0, T2 - T1, T3 - T2, T4 - T3, NOW - T4]


def test_timeline_bars_are_proportional_and_fill_the_width(history: dict[str, ModelVersion]) -> None:
    periods = selectors.stage_timeline(version=history["v1"], now=NOW).periods

    assert sum(p.width for p in periods) == pytest.approx(100)
    assert [p.offset for p in periods] == pytest.approx([sum(q.width for q in periods[:i]) for i in range(5)])
    total = (NOW - T0).total_seconds()
    for period in periods:
        assert period.width == pytest.approx(period.duration(NOW).total_seconds() / total * 100, rel=0.05)


def test_timeline_of_the_promoted_version(history: dict[str, ModelVersion]) -> None:
    timeline = selectors.stage_timeline(version=history["v2"], now=NOW)

    assert [summary(p) for p in timeline.periods] == [
        (Stage.UNASSIGNED, T0 + DAY, T4, "", [], "", ""),
        (Stage.PRODUCTION, T4, None, "reviewer", ["owner", "reviewer"], "editor2", ""),
    ]
    assert timeline.start == T0 + DAY


def test_timeline_of_a_version_never_moved_is_one_period_since_registration(model: RegisteredModel) -> None:
    version = version_at(T0, model=model, name="still")

    timeline = selectors.stage_timeline(version=version, now=NOW)

    assert [summary(p) for p in timeline.periods] == [(Stage.UNASSIGNED, T0, None, "", [], "", "")]
    assert timeline.start == T0
    assert timeline.periods[0].width == pytest.approx(100)
    assert timeline.periods[0].offset == 0


def test_a_short_stay_still_gets_a_visible_bar(model: RegisteredModel) -> None:
    version = version_at(T0, model=model, name="blink")
    move_at(T0 + DAY, version=version, from_stage=Stage.UNASSIGNED, to_stage=Stage.DEVELOPMENT)
    move_at(T0 + DAY + timedelta(seconds=1), version=version, from_stage=Stage.DEVELOPMENT, to_stage=Stage.STAGING)

    periods = selectors.stage_timeline(version=version, now=T0 + 100 * DAY).periods

    assert [p.stage for p in periods] == [Stage.UNASSIGNED, Stage.DEVELOPMENT, Stage.STAGING]
    assert periods[1].width >= 0.5
    assert sum(p.width for p in periods) == pytest.approx(100)


def test_timeline_of_a_long_history_keeps_the_latest_moves(
    model: RegisteredModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "TIMELINE_MAX_MOVES", 3)
    version = version_at(T0, model=model, name="busy")
    stages = [Stage.UNASSIGNED, Stage.DEVELOPMENT, Stage.STAGING, Stage.DEVELOPMENT, Stage.STAGING, Stage.PRODUCTION]
    for n, (left, entered) in enumerate(itertools.pairwise(stages)):
        move_at(T0 + (n + 1) * DAY, version=version, from_stage=left, to_stage=entered)

    timeline = selectors.stage_timeline(version=version, now=NOW)

    assert timeline.truncated
    # The three latest moves are drawn; the one just before them only opens the first period.
    assert [(p.stage, p.start, p.end) for p in timeline.periods] == [
        (Stage.STAGING, T0 + 2 * DAY, T0 + 3 * DAY),
        (Stage.DEVELOPMENT, T0 + 3 * DAY, T0 + 4 * DAY),
        (Stage.STAGING, T0 + 4 * DAY, T0 + 5 * DAY),
        (Stage.PRODUCTION, T0 + 5 * DAY, None),
    ]
    assert timeline.start == T0 + 2 * DAY


def test_timeline_reads_the_log_in_two_queries(
    history: dict[str, ModelVersion], django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(2):
        selectors.stage_timeline(version=history["v1"], now=NOW)


# --- Stages as of a moment ----------------------------------------------------------------------------------------

A0 = datetime(2024, 4, 1, 8, 0, tzinfo=UTC)
A = {n: A0 + n * DAY for n in range(8)}


@pytest.fixture
def as_of_history(model: RegisteredModel, org_model: RegisteredModel) -> dict[str, ModelVersion]:
    """va: registered A0, Development A1, Staging A3, Production A5. vb: registered A2, Development A3 (the same
    moment as va's move), Archived A6. vc: registered A4, never moved. vd: registered A1, in Staging with no move
    logged (as versions older than the log are). And a version of another model, which must never show.
    """
    versions = {
        "va": version_at(A[0], model=model, name="va"),
        "vd": version_at(A[1], model=model, name="vd"),
        "vb": version_at(A[2], model=model, name="vb"),
        "vc": version_at(A[4], model=model, name="vc"),
        "other": version_at(A[0], model=org_model, name="other"),
    }
    for name, moves in {
        "va": [(A[1], Stage.DEVELOPMENT), (A[3], Stage.STAGING), (A[5], Stage.PRODUCTION)],
        "vb": [(A[3], Stage.DEVELOPMENT), (A[6], Stage.ARCHIVED)],
        "other": [(A[1], Stage.PRODUCTION)],
    }.items():
        left = Stage.UNASSIGNED
        for when, stage in moves:
            move_at(when, version=versions[name], from_stage=left, to_stage=stage)
            set_stage(versions[name], stage)
            left = stage
    set_stage(versions["vd"], Stage.STAGING)
    return versions


def as_of(model: RegisteredModel, at: datetime) -> dict[str, list[str]]:
    rows = selectors.stages_as_of(model=model, at=at)
    assert [row.stage for row in rows] == list(STAGE_ORDER)
    assert all(row.count == len(row.versions) for row in rows)
    return {row.stage.value: [v.name for v in row.versions] for row in rows if row.versions}


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (A[0] - timedelta(seconds=1), {}),  # before any version existed
        (A[0], {"unassigned": ["va"]}),  # the moment va was registered
        (A[0] + HOUR, {"unassigned": ["va"]}),
        (A[1], {"development": ["va"], "staging": ["vd"]}),  # exactly at va's first move, and vd's registration
        (A[2] + HOUR, {"unassigned": ["vb"], "development": ["va"], "staging": ["vd"]}),
        (A[3] - timedelta(microseconds=1), {"unassigned": ["vb"], "development": ["va"], "staging": ["vd"]}),
        (A[3], {"development": ["vb"], "staging": ["vd", "va"]}),  # two moves at the same moment
        (A[4] + HOUR, {"unassigned": ["vc"], "development": ["vb"], "staging": ["vd", "va"]}),
        (A[5], {"unassigned": ["vc"], "development": ["vb"], "staging": ["vd"], "production": ["va"]}),
        (A[7], {"unassigned": ["vc"], "staging": ["vd"], "production": ["va"], "archived": ["vb"]}),
    ],
)
def test_stages_as_of_a_moment(
    as_of_history: dict[str, ModelVersion], model: RegisteredModel, at: datetime, expected: dict[str, list[str]]
) -> None:
    assert as_of(model, at) == expected


def since(version: ModelVersion) -> datetime | None:
    """The annotation stages_as_of puts on each version: when it entered the stage (None: since registration)."""
    value: datetime | None = version.since  # type: ignore[attr-defined]
    return value


def test_stages_as_of_say_since_when(as_of_history: dict[str, ModelVersion], model: RegisteredModel) -> None:
    rows = {row.stage: row.versions for row in selectors.stages_as_of(model=model, at=A[4] + HOUR)}

    assert [(v.name, since(v)) for v in rows[Stage.STAGING]] == [("vd", None), ("va", A[3])]
    assert [(v.name, since(v)) for v in rows[Stage.UNASSIGNED]] == [("vc", None)]
    assert rows[Stage.UNASSIGNED][0].created_at == A[4]


def test_stages_as_of_counts_all_and_lists_the_newest(
    as_of_history: dict[str, ModelVersion], model: RegisteredModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "AS_OF_SHOWN_PER_STAGE", 1)

    rows = {row.stage: row for row in selectors.stages_as_of(model=model, at=A[4] + HOUR)}

    assert rows[Stage.STAGING].count == 2
    assert [v.name for v in rows[Stage.STAGING].versions] == ["vd"]


def test_stages_as_of_is_one_query(
    as_of_history: dict[str, ModelVersion], model: RegisteredModel, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        selectors.stages_as_of(model=model, at=A[7])
