"""The home page's reads: Production over time and lead times, from the log and the requests."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone

from approvals.models import StageChangeRequest, Status
from catalog.dashboard import LEAD_TIME_SAMPLE, DayCount, production_history, time_to_decision, time_to_production
from catalog.models import ModelVersion, RegisteredModel, Stage
from core.stats import Median
from tests.factories import UserFactory
from tests.helpers import move_at, version_at

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


# --- Home: Production over time -----------------------------------------------------------------------------------

P_NOW = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)


def on(day: int, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2024, 6, day, hour, minute, second, tzinfo=UTC)


@pytest.fixture
def production_moves(model: RegisteredModel, org_model: RegisteredModel, viewer: Any) -> None:
    """Moves into and out of Production in the week up to 15 June 2024, on `model` (private) and `org_model`."""
    v1, v2, v3 = (version_at(on(1), model=model, name=name) for name in ("v1", "v2", "v3"))
    open_v1 = version_at(on(1), model=org_model, name="ov1")
    move_at(on(10, 10), version=v1, from_stage=Stage.STAGING, to_stage=Stage.PRODUCTION)
    move_at(on(11, 9), version=v2, from_stage=Stage.DEVELOPMENT, to_stage=Stage.STAGING)  # not about Production
    move_at(on(12, 8), version=v2, from_stage=Stage.STAGING, to_stage=Stage.PRODUCTION)
    move_at(on(12, 9), version=v1, from_stage=Stage.PRODUCTION, to_stage=Stage.ARCHIVED)
    move_at(on(13, 23, 59, 59), version=open_v1, from_stage=Stage.DEVELOPMENT, to_stage=Stage.PRODUCTION)
    move_at(on(15, 11), version=v3, from_stage=Stage.STAGING, to_stage=Stage.PRODUCTION)
    move_at(on(15, 13), version=v3, from_stage=Stage.PRODUCTION, to_stage=Stage.ARCHIVED)  # after "now"


def counts(history: list[DayCount]) -> list[tuple[date, int]]:
    return [(d.day, d.count) for d in history]


def test_production_history_counts_each_day_from_the_log(production_moves: None, viewer: Any) -> None:
    history = production_history(user=viewer, current=3, days=7, now=P_NOW)

    assert counts(history) == [
        (date(2024, 6, 9), 0),
        (date(2024, 6, 10), 1),
        (date(2024, 6, 11), 1),
        (date(2024, 6, 12), 1),  # one in, one out
        (date(2024, 6, 13), 2),  # in at 23:59:59
        (date(2024, 6, 14), 2),
        (date(2024, 6, 15), 3),
    ]


def test_production_history_leaves_out_models_the_user_cannot_view(production_moves: None, outsider: Any) -> None:
    history = production_history(user=outsider, current=1, days=7, now=P_NOW)

    assert [d.count for d in history] == [0, 0, 0, 0, 1, 1, 1]


def test_production_history_has_one_point_per_day_ending_today(production_moves: None, viewer: Any) -> None:
    history = production_history(user=viewer, current=3, days=90, now=P_NOW)

    assert len(history) == 90
    assert history[-1] == DayCount(day=date(2024, 6, 15), count=3)
    assert history[0].day == date(2024, 3, 18)
    assert all(later.day - earlier.day == DAY for earlier, later in itertools.pairwise(history))


def test_production_history_days_are_days_of_the_current_time_zone(model: RegisteredModel, viewer: Any) -> None:
    version = version_at(on(1), model=model, name="v1")
    move_at(
        datetime(2024, 6, 14, 2, 0, tzinfo=UTC), version=version, from_stage=Stage.STAGING, to_stage=Stage.PRODUCTION
    )

    assert [d.count for d in production_history(user=viewer, current=1, days=3, now=P_NOW)] == [0, 1, 1]
    with timezone.override("America/New_York"):  # 14 June 02:00 UTC is 13 June 22:00 there
        assert [d.count for d in production_history(user=viewer, current=1, days=3, now=P_NOW)] == [1, 1, 1]


# --- Home: lead times ---------------------------------------------------------------------------------------------

L_NOW = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)


def decided(
    version: ModelVersion, requested: datetime, decision: datetime | None, *, status: Status = Status.APPROVED
) -> StageChangeRequest:
    """A request made at requested and decided (or cancelled) at decision; None leaves it pending."""
    return StageChangeRequest.objects.create(
        version=version,
        from_stage=Stage.DEVELOPMENT,
        to_stage=Stage.STAGING,
        requester=version.model.owner,
        created_at=requested,
        required_approvals=1,
        status=status if decision else Status.PENDING,
        resolved_by=version.model.owner if decision else None,
        resolved_at=decision,
    )


@pytest.fixture
def decisions(model: RegisteredModel, org_model: RegisteredModel) -> dict[str, ModelVersion]:
    """Three decisions in the window (1, 2 and 10 hours after their requests), and some that must not count."""
    v1 = version_at(datetime(2024, 5, 1, tzinfo=UTC), model=model, name="v1")
    other = version_at(datetime(2024, 5, 1, tzinfo=UTC), model=org_model, name="ov1")
    decided(v1, datetime(2024, 6, 1, 10, tzinfo=UTC), datetime(2024, 6, 1, 11, tzinfo=UTC))
    decided(v1, datetime(2024, 6, 2, 10, tzinfo=UTC), datetime(2024, 6, 2, 12, tzinfo=UTC), status=Status.REJECTED)
    decided(other, datetime(2024, 6, 3, 10, tzinfo=UTC), datetime(2024, 6, 3, 20, tzinfo=UTC))
    # Decided before the window (90 days before 30 June is 1 April, noon), cancelled, still pending, and decided
    # after the moment asked about.
    decided(v1, datetime(2024, 3, 30, tzinfo=UTC), datetime(2024, 4, 1, 11, tzinfo=UTC))
    decided(v1, datetime(2024, 6, 5, 9, tzinfo=UTC), datetime(2024, 6, 5, 11, tzinfo=UTC), status=Status.CANCELLED)
    decided(v1, datetime(2024, 6, 6, 9, tzinfo=UTC), None)
    decided(v1, datetime(2024, 6, 30, 9, tzinfo=UTC), datetime(2024, 7, 1, tzinfo=UTC))
    return {"v1": v1, "other": other}


def test_lead_time_to_decision_is_the_median_of_an_odd_count(decisions: dict[str, ModelVersion], owner: Any) -> None:
    lead = time_to_decision(user=owner, now=L_NOW)

    assert (lead.value, lead.count, lead.days, lead.sampled) == (2 * HOUR, 3, 90, False)


def test_lead_time_to_decision_is_the_mean_of_the_middle_two_of_an_even_count(
    decisions: dict[str, ModelVersion], owner: Any
) -> None:
    decided(decisions["v1"], datetime(2024, 6, 10, 10, tzinfo=UTC), datetime(2024, 6, 10, 13, tzinfo=UTC))

    lead = time_to_decision(user=owner, now=L_NOW)

    assert (lead.value, lead.count) == (2 * HOUR + 30 * timedelta(minutes=1), 4)  # between 2 and 3 hours


def test_lead_time_to_decision_leaves_out_models_the_user_cannot_view(
    decisions: dict[str, ModelVersion], outsider: Any, superuser: Any
) -> None:
    assert (time_to_decision(user=outsider, now=L_NOW).value, time_to_decision(user=outsider, now=L_NOW).count) == (
        10 * HOUR,  # the Open Model's
        1,
    )
    assert time_to_decision(user=superuser, now=L_NOW).count == 3


def test_lead_time_to_decision_over_a_shorter_window(decisions: dict[str, ModelVersion], owner: Any) -> None:
    # From 2 June, noon: the rejection at that very moment (2 hours) and the 10-hour decision.
    lead = time_to_decision(user=owner, days=28, now=L_NOW)

    assert (lead.days, lead.value, lead.count) == (28, 6 * HOUR, 2)
    assert time_to_decision(user=owner, days=27, now=L_NOW).count == 1


def test_lead_time_to_decision_is_the_median_of_the_most_recent_sample(
    decisions: dict[str, ModelVersion], owner: Any
) -> None:
    with mock.patch("catalog.dashboard.LEAD_TIME_SAMPLE", 2):
        lead = time_to_decision(user=owner, now=L_NOW)

    assert (lead.value, lead.count, lead.sampled) == (6 * HOUR, 2, True)  # 2 and 10 hours; 1 hour is older
    assert Median(value=None, count=LEAD_TIME_SAMPLE, days=90, sample=LEAD_TIME_SAMPLE).sampled


def test_lead_times_without_any_decision_or_arrival(model: RegisteredModel, owner: Any) -> None:
    decision, arrival = time_to_decision(user=owner, now=L_NOW), time_to_production(user=owner, now=L_NOW)

    assert (decision.value, decision.count, arrival.value, arrival.count) == (None, 0, None, 0)


@pytest.fixture
def arrivals(model: RegisteredModel, org_model: RegisteredModel) -> dict[str, ModelVersion]:
    """Three versions first reaching Production in the window, 1, 2 and 7 days after registration, and two that
    reach it again (already there once, inside or before the window), which do not count again.
    """
    registered = datetime(2024, 6, 1, tzinfo=UTC)
    versions = {name: version_at(registered, model=model, name=name) for name in ("v1", "v2", "v3")}
    versions["old"] = version_at(datetime(2024, 1, 1, tzinfo=UTC), model=model, name="old")
    versions["open"] = version_at(registered, model=org_model, name="open")
    for name, days in [("v1", 2), ("v2", 1), ("v3", 7)]:
        move_at(registered + days * DAY, version=versions[name], from_stage=Stage.STAGING, to_stage=Stage.PRODUCTION)
    move_at(datetime(2024, 6, 3, tzinfo=UTC), version=versions["v2"], from_stage=Stage.PRODUCTION,
            to_stage=Stage.ARCHIVED)  # fmt: skip
    move_at(datetime(2024, 6, 20, tzinfo=UTC), version=versions["v2"], from_stage=Stage.ARCHIVED,
            to_stage=Stage.PRODUCTION)  # fmt: skip
    move_at(datetime(2024, 2, 1, tzinfo=UTC), version=versions["old"], from_stage=Stage.STAGING,
            to_stage=Stage.PRODUCTION)  # fmt: skip
    move_at(datetime(2024, 2, 2, tzinfo=UTC), version=versions["old"], from_stage=Stage.PRODUCTION,
            to_stage=Stage.ARCHIVED)  # fmt: skip
    move_at(datetime(2024, 6, 10, tzinfo=UTC), version=versions["old"], from_stage=Stage.ARCHIVED,
            to_stage=Stage.PRODUCTION)  # fmt: skip
    return versions


def test_lead_time_to_production_is_the_median_first_arrival(arrivals: dict[str, ModelVersion], owner: Any) -> None:
    lead = time_to_production(user=owner, now=L_NOW)

    assert (lead.value, lead.count) == (2 * DAY, 3)


def test_lead_time_to_production_of_an_even_count(arrivals: dict[str, ModelVersion], owner: Any) -> None:
    move_at(
        datetime(2024, 6, 5, tzinfo=UTC), version=arrivals["open"], from_stage=Stage.STAGING,
        to_stage=Stage.PRODUCTION,
    )  # fmt: skip

    lead = time_to_production(user=owner, now=L_NOW)

    assert (lead.value, lead.count) == (3 * DAY, 4)  # 1, 2, 4 and 7 days
    outsider_view = time_to_production(user=UserFactory.create(username="someone"), now=L_NOW)
    assert (outsider_view.value, outsider_view.count) == (4 * DAY, 1)
