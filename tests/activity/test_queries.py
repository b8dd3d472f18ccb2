"""The activity log's pages run the same bounded number of SQL queries with 3 and with 30 rows."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest

from activity.services import comment_on_version
from approvals import services as workflow
from catalog.models import Stage
from catalog.permissions import Role
from catalog.services import add_collaborator
from tests.factories import ModelFactory, UserFactory, VersionFactory
from tests.helpers import (
    ACTIVITY_RESULTS,
    HTMX,
    QUERY_SIZES,
    as_of_lists,
    assert_get_within,
    client_for,
    feed_items,
    set_stage,
    timeline_items,
)


def build_busy_log(size: int, reader: Any) -> None:
    """A private model "Busy" that reader views: size versions, v0 moved size times through requests reviewed by
    two reviewers, size comments on v0, and size hidden models with their own entries. Times advance a minute a
    write, from 2024-01-01.
    """
    ticks = itertools.count()
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", side_effect=lambda: start + timedelta(minutes=next(ticks))):
        owner = UserFactory.create(username="busy-owner")
        model = ModelFactory.create(owner=owner, name="Busy", visibility="private")
        add_collaborator(actor=owner, model=model, user=reader, role=Role.VIEWER)
        editor = UserFactory.create(username="busy-editor")
        add_collaborator(actor=owner, model=model, user=editor, role=Role.EDITOR)
        reviewers = [UserFactory.create(username=f"busy-reviewer{n}") for n in range(2)]
        for reviewer in reviewers:
            add_collaborator(actor=owner, model=model, user=reviewer, role=Role.REVIEWER)
        workflow.set_approval_policy(actor=owner, model=model, required_approvals=2)
        versions = [VersionFactory.create(model=model, name=f"v{n}", created_by=editor) for n in range(size)]
        cycle = [Stage.DEVELOPMENT, Stage.STAGING, Stage.PRODUCTION, Stage.ARCHIVED]
        for n in range(size):
            change_request = workflow.request_stage_change(actor=editor, version=versions[0], to_stage=cycle[n % 4])
            for reviewer in reviewers:
                workflow.approve_change_request(actor=reviewer, change_request=change_request)
            comment_on_version(actor=editor, version=versions[0], comment=f"Note {n}")
        for n, version in enumerate(versions[1:], start=1):
            set_stage(version, cycle[n % 4])
        for n in range(size):
            hidden = ModelFactory.create(name=f"Hidden {n:02d}", visibility="private")
            comment_on_version(
                actor=hidden.owner, version=VersionFactory.create(model=hidden, name="h"), comment="hidden"
            )


# Bounds measured at size 3; the same bound must hold at size 30.
ACTIVITY_PAGES = [
    ("/activity/", {}, 5),  # session, user, one page of entries, the inbox badge, the last verification
    ("/activity/", ACTIVITY_RESULTS, 3),
    ("/activity/?actor=busy-editor&kind=commented&since=2024-01-01", {}, 5),
    ("/activity/?model=busy&stage=production", ACTIVITY_RESULTS, 3),
    ("/models/busy/activity/", {}, 10),
    ("/models/busy/activity/?actor=busy-reviewer1&kind=stage_change_approved", ACTIVITY_RESULTS, 9),
    ("/models/busy/versions/v0/", {}, 13),  # with the timeline (moves, approvals) and the decision banner
    ("/models/busy/versions/v0/", HTMX, 8),
    ("/models/busy/history/?at=2025-01-01T00:00", {}, 10),  # the stages as of: one query
    ("/models/busy/history/?at=2025-01-01T00:00", HTMX, 9),
]


@pytest.mark.parametrize("size", QUERY_SIZES)
@pytest.mark.parametrize(("url", "headers", "bound"), ACTIVITY_PAGES)
def test_activity_pages_run_a_bounded_number_of_queries(
    reader: Any, django_assert_max_num_queries: Any, size: int, url: str, headers: dict[str, str], bound: int
) -> None:
    build_busy_log(size, reader)

    assert_get_within(client_for(reader), url, headers, django_assert_max_num_queries, bound)


@pytest.mark.parametrize("size", QUERY_SIZES)
def test_the_pages_measured_show_size_rows(reader: Any, size: int) -> None:
    build_busy_log(size, reader)
    client = client_for(reader)

    assert len(feed_items(client.get("/activity/?actor=busy-editor&kind=commented").text)) == min(size, 25)
    assert "Hidden" not in client.get("/activity/").text
    assert len(timeline_items(client.get("/models/busy/versions/v0/").text)) == size + 1
    as_of = as_of_lists(client.get("/models/busy/history/?at=2025-01-01T00:00").text)
    assert sum(len(names) for names in as_of.values()) == size
