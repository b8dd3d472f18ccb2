"""The model card's "Stages as of" tab: which versions were in which stage at a moment, and the moments it refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone
from django.utils.cache import has_vary_header

from approvals import services as workflow
from catalog.models import ModelVersion, RegisteredModel, Stage
from tests.factories import VersionFactory
from tests.helpers import (
    HTMX,
    as_of_lists,
    assert_fragment,
    assert_full_page,
    client_for,
    frozen,
    history_url,
    select,
    visible_text,
)

H0 = datetime(2024, 2, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def staged(model: RegisteredModel, owner: Any, editor: Any, reviewer: Any) -> dict[str, ModelVersion]:
    """v1 registered at H0 and moved to Staging a day later; v2 registered two days after H0 and never moved."""
    with frozen(H0):
        v1 = VersionFactory.create(model=model, name="v1")
    with frozen(H0 + timedelta(days=1)):
        change_request = workflow.request_stage_change(actor=editor, version=v1, to_stage=Stage.STAGING)
        workflow.approve_change_request(actor=reviewer, change_request=change_request)
    with frozen(H0 + timedelta(days=2)):
        v2 = VersionFactory.create(model=model, name="v2")
    return {"v1": v1, "v2": v2}


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2024-02-01T10:00", {"Unassigned": ["v1 since it was registered, 2024-02-01 09:00 UTC"]}),
        ("2024-02-02T09:00", {"Staging": ["v1 since 2024-02-02 09:00 UTC"]}),  # the very minute of the move
        (
            "2024-03-01T00:00",
            {
                "Unassigned": ["v2 since it was registered, 2024-02-03 09:00 UTC"],
                "Staging": ["v1 since 2024-02-02 09:00 UTC"],
            },
        ),
    ],
)
def test_history_tab_shows_the_stages_at_a_moment(
    staged: dict[str, ModelVersion], model: RegisteredModel, viewer: Any, at: str, expected: dict[str, list[str]]
) -> None:
    response = client_for(viewer).get(history_url(model) + f"?at={at}")

    assert_full_page(response)
    assert has_vary_header(response, "HX-Request")
    assert 'aria-current="page">Stages as of…</a>' in response.text
    assert as_of_lists(response.text) == expected
    assert f'value="{at}"' in response.text
    assert 'role="alert"' not in response.text


def test_history_tab_before_any_version_shows_every_stage_empty(
    staged: dict[str, ModelVersion], model: RegisteredModel, viewer: Any
) -> None:
    response = client_for(viewer).get(history_url(model) + "?at=2024-01-01T00:00")

    assert as_of_lists(response.text) == {}
    assert visible_text(response.text).count("0 versions") == 5


def test_history_tab_fragment_swaps_the_tabs(
    staged: dict[str, ModelVersion], model: RegisteredModel, viewer: Any
) -> None:
    response = client_for(viewer).get(history_url(model) + "?at=2024-03-01T00:00", headers=HTMX)

    assert_fragment(response, "model-tabs")
    assert has_vary_header(response, "HX-Request")
    assert as_of_lists(response.text)["Staging"] == ["v1 since 2024-02-02 09:00 UTC"]


def test_history_tab_without_a_moment_asks_for_one(model: RegisteredModel, viewer: Any) -> None:
    response = client_for(viewer).get(history_url(model))

    assert response.status_code == 200
    assert "Pick a date and time" in response.text
    assert 'role="alert"' not in response.text


@pytest.mark.parametrize(
    ("at", "error"),
    [
        ("2999-01-01T00:00", "That moment is in the future; pick one up to now."),
        ("yesterday", "Enter a valid date/time."),
        ("2024-13-01T10:00", "Enter a valid date/time."),
        ("99999-01-01T00:00", "Enter a valid date/time."),
        ("", "Enter a date and time."),
    ],
)
@pytest.mark.parametrize("headers", [{}, HTMX])
def test_history_tab_explains_a_bad_moment(
    staged: dict[str, ModelVersion], model: RegisteredModel, viewer: Any, at: str, error: str, headers: dict[str, str]
) -> None:
    response = client_for(viewer).get(history_url(model), {"at": at}, headers=headers)

    assert response.status_code == 200
    shown = select(response.text, "ul", class_="errorlist", id="id_at_error", role="alert")
    assert shown
    assert shown[0].select("li")[0].text == error
    assert as_of_lists(response.text) == {}
    assert "Pick a date and time" not in response.text


def test_history_tab_a_minute_ago_is_not_the_future(model: RegisteredModel, viewer: Any) -> None:
    at = timezone.localtime() - timedelta(minutes=1)

    response = client_for(viewer).get(history_url(model), {"at": at.strftime("%Y-%m-%dT%H:%M")})

    assert 'role="alert"' not in response.text
    assert "0 versions" in visible_text(response.text)


@pytest.mark.parametrize("at", ["0001-01-01T00:00", "0001-01-01T10:00", "1000-06-15T12:00", "1970-12-31T23:59"])
def test_history_tab_refuses_moments_before_the_log_in_any_time_zone(
    staged: dict[str, ModelVersion], model: RegisteredModel, viewer: Any, at: str
) -> None:
    # Year 1 in a time zone ahead of UTC is year 0 in UTC, which the database adapter cannot represent.
    with override_settings(TIME_ZONE="Europe/Berlin"):
        response = client_for(viewer).get(history_url(model), {"at": at})

    assert response.status_code == 200
    assert "The log starts after 1971; pick a later moment." in visible_text(response.text)
    assert as_of_lists(response.text) == {}
