"""Every feed, timeline and export writes its times in the viewer's time zone, with no query more for it."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.services import set_time_zone
from approvals import services as workflow
from catalog.models import ModelVersion, Stage
from tests.helpers import client_for, export_url, frozen, visible_text

REQUESTED = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)  # 15:30 in India (IST, +05:30)
APPROVED = datetime(2026, 3, 1, 10, 30, tzinfo=UTC)  # 16:00 IST
PENDING = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 13:30 IST


@pytest.fixture
def history(version: ModelVersion, editor: Any, reviewer: Any) -> None:
    """v1.0.0, registered in February, moved to Development on 1 March (requested, approved), and a Staging request
    pending since 2 March."""
    ModelVersion.objects.filter(pk=version.pk).update(created_at=datetime(2026, 2, 1, tzinfo=UTC))
    with frozen(REQUESTED):
        change_request = workflow.request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)
    with frozen(APPROVED):
        workflow.approve_change_request(actor=reviewer, change_request=change_request)
    with frozen(PENDING):
        workflow.request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)


PAGES = {
    "activity page": ("/activity/", ["2026-03-01 16:00 IST", "2026-03-02 13:30 IST"]),
    "activity tab": ("/models/churn-predictor/activity/", ["2026-03-01 15:30 IST"]),
    "home feed": ("/", ["2026-03-01 16:00 IST"]),
    "version page": ("/models/churn-predictor/versions/v1.0.0/", ["stage changed 2026-03-01 16:00 IST"]),
    "inbox": ("/approvals/", ["Requested by editor 2026-03-02 13:30 IST"]),
    "pending tab": ("/models/churn-predictor/pending/", ["Requested by editor 2026-03-02 13:30 IST"]),
    # The moment typed in is read in the viewer's zone too: 20:00 IST is 14:30 UTC.
    "stages as of": (
        "/models/churn-predictor/history/?at=2026-03-01T20:00",
        ["At 2026-03-01 20:00 IST", "since 2026-03-01 16:00 IST"],
    ),
}


@pytest.mark.parametrize("page", PAGES)
def test_pages_show_the_date_and_time_in_the_viewers_zone(history: None, reviewer: Any, page: str) -> None:
    url, texts = PAGES[page]
    set_time_zone(actor=reviewer, time_zone="Asia/Kolkata")
    html = client_for(reviewer).get(url).text
    for text in texts:
        assert text in _visible(html), f"{page} lacks {text!r}"
    assert re.search(r'<time datetime="2026-03-0[12]T\d\d:\d\d:00\+05:30">', html)


def test_the_timeline_lists_each_stage_from_when_to_when_in_the_viewers_zone(history: None, reviewer: Any) -> None:
    set_time_zone(actor=reviewer, time_zone="America/New_York")
    text = _visible(client_for(reviewer).get("/models/churn-predictor/versions/v1.0.0/").text)
    assert "2026-03-01 05:30 EST – now" in text  # Development since the approval, 10:30 UTC


def test_without_a_choice_times_are_utc(history: None, reviewer: Any) -> None:
    text = _visible(client_for(reviewer).get("/activity/").text)
    assert "2026-03-01 10:30 UTC" in text


def test_exports_carry_iso_8601_times_with_the_viewers_offset(history: None, owner: Any) -> None:
    set_time_zone(actor=owner, time_zone="Asia/Kolkata")
    client = client_for(owner)
    rows = list(csv.DictReader(io.StringIO(client.get(export_url("csv")).getvalue().decode())))
    records = [json.loads(line) for line in client.get(export_url("jsonl")).getvalue().decode().split("\n") if line]
    for times in ([row["time"] for row in rows], [record["time"] for record in records]):
        assert "2026-03-02T13:30:00+05:30" in times
        assert all(
            datetime.fromisoformat(t).utcoffset() == datetime.fromisoformat("2026-01-01T00:00+05:30").utcoffset()
            for t in times
        )


@pytest.mark.parametrize("page", PAGES)
def test_a_chosen_zone_costs_no_query(history: None, reviewer: Any, page: str) -> None:
    url = PAGES[page][0]
    default = _queries(client_for(reviewer), url)
    set_time_zone(actor=reviewer, time_zone="Asia/Kolkata")
    assert _queries(client_for(reviewer), url) == default


def _queries(client: Any, url: str) -> int:
    client.get(url)  # warm: the first request of a session may differ for reasons of its own
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def _visible(html: str) -> str:
    return visible_text(html)
