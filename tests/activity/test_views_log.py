"""The activity page, its CSV and JSON-lines exports and a model's Activity tab: filters, pages, htmx fragments, and
only what the user may view."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from typing import Any

import pytest
from django.utils.cache import has_vary_header

from activity.services import comment_on_version
from activity.views import EXPORT_COLUMNS
from approvals import services as workflow
from catalog.models import ModelVersion, RegisteredModel, Stage
from tests.factories import VersionFactory
from tests.helpers import (
    ACTIVITY_RESULTS,
    HTMX,
    activity_url,
    assert_fragment,
    assert_full_page,
    client_for,
    element_ids,
    export_url,
    feed_items,
    select,
    tab_url,
    visible_text,
)


def body_of(response: Any) -> str:
    assert response.streaming, "an export streams"
    return b"".join(response.streaming_content).decode()


def csv_rows(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body_of(response))))


def json_lines(response: Any) -> list[dict[str, Any]]:
    # JSON lines end at "\n" alone (str.splitlines would also split inside a comment at U+2028).
    return [json.loads(line) for line in body_of(response).split("\n") if line]


@pytest.fixture
def org_version(org_model: RegisteredModel, owner: Any) -> ModelVersion:
    return VersionFactory.create(model=org_model, created_by=owner, name="ov1")


@pytest.fixture
def talk(version: ModelVersion, org_version: ModelVersion, editor: Any, reviewer: Any, owner: Any) -> None:
    """Comments on the private model's version and on the organization model's version."""
    comment_on_version(actor=editor, version=version, comment='Private note, with a comma and "quotes"\nand a line')
    comment_on_version(actor=reviewer, version=version, comment="Reviewed the metrics")
    comment_on_version(actor=owner, version=org_version, comment="Open remark")


# --- The activity page --------------------------------------------------------------------------------------------


def test_activity_page_lists_the_entries_newest_first(talk: None, owner: Any) -> None:
    response = client_for(owner).get(activity_url())

    assert_full_page(response)
    assert has_vary_header(response, "HX-Request")
    items = feed_items(response.text)
    assert items[0].startswith("owner on Open Model: commented on ov1")
    assert "Open remark" in items[0]
    assert items[1].startswith("reviewer on Churn Predictor: commented on v1.0.0")
    assert 'aria-current="page">Activity</a>' in response.text


def test_activity_page_fragment_is_only_the_results(talk: None, owner: Any) -> None:
    response = client_for(owner).get(activity_url() + "?actor=reviewer", headers=ACTIVITY_RESULTS)

    assert_fragment(response, "activity-results")
    assert response.text.rstrip().endswith("</div>")
    assert element_ids(response.text) == ["activity-results"]
    assert has_vary_header(response, "HX-Request")
    assert 'aria-label="Filter activity"' not in response.text
    assert [item.split(":")[0] for item in feed_items(response.text)] == ["reviewer on Churn Predictor"]


def test_activity_page_applies_the_filters_and_keeps_them_in_the_form_and_links(talk: None, owner: Any) -> None:
    response = client_for(owner).get(activity_url() + "?model=churn-predictor&kind=commented&q=metrics")

    assert response.status_code == 200
    items = feed_items(response.text)
    assert len(items) == 1
    assert "Reviewed the metrics" in items[0]
    assert 'name="q" value="metrics"' in response.text
    assert "Newest first, filtered." in visible_text(response.text)
    assert f'href="{export_url("csv")}?model=churn-predictor&amp;kind=commented&amp;q=metrics"' in response.text


def test_activity_page_shows_an_empty_filter_result_plainly(talk: None, owner: Any) -> None:
    response = client_for(owner).get(activity_url() + "?actor=nobody")

    assert "No activity matches these filters." in visible_text(response.text)
    assert feed_items(response.text) == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("since=2024-03-05&until=2024-03-01", "The “from” date is after the “to” date."),
        ("since=2024-02-30", "Since: Enter a valid date."),
        ("kind=deleted", "Kind: Select a valid choice. deleted is not one of the available choices."),
    ],
)
@pytest.mark.parametrize("headers", [{}, ACTIVITY_RESULTS])
def test_activity_page_explains_invalid_filters_and_lists_nothing(
    talk: None, owner: Any, query: str, message: str, headers: dict[str, str]
) -> None:
    response = client_for(owner).get(f"{activity_url()}?{query}", headers=headers)

    assert response.status_code == 200
    assert message in visible_text(response.text)
    assert 'role="alert"' in response.text
    assert feed_items(response.text) == []
    assert "Export" not in visible_text(response.text)


def test_outsider_sees_the_activity_of_organization_models_only(talk: None, outsider: Any) -> None:
    response = client_for(outsider).get(activity_url())

    assert response.status_code == 200
    assert "Open remark" in response.text
    assert "Churn Predictor" not in response.text
    assert "Private note" not in response.text
    # A filter naming the private model finds nothing, as if it did not exist.
    assert feed_items(client_for(outsider).get(activity_url() + "?model=churn-predictor").text) == []


def test_activity_page_pages_older_and_newer(version: ModelVersion, editor: Any) -> None:
    for n in range(30):
        comment_on_version(actor=editor, version=version, comment=f"note {n:02d}")
    client = client_for(editor)

    first = client.get(activity_url() + "?kind=commented")
    older = select(first.text, "a", rel="next")
    assert older
    second = client.get(activity_url() + str(older[0].attrs["href"]), headers=ACTIVITY_RESULTS)

    assert len(feed_items(first.text)) == 25
    assert_fragment(second, "activity-results")
    assert [item.rsplit(" ", 1)[-1] for item in feed_items(second.text)] == ["04", "03", "02", "01", "00"]
    assert "« Newest" in second.text
    assert "kind=commented" in str(older[0].attrs["href"])


def test_a_later_page_of_the_unfiltered_log_does_not_call_itself_filtered(version: ModelVersion, editor: Any) -> None:
    for n in range(30):
        comment_on_version(actor=editor, version=version, comment=f"note {n:02d}")
    client = client_for(editor)
    older = select(client.get(activity_url()).text, "a", rel="next")
    assert older

    text = visible_text(client.get(activity_url() + str(older[0].attrs["href"])).text)

    assert "filtered" not in text
    assert "Export everything you can see" in text
    assert "Clear filters" not in text


# --- Exports ------------------------------------------------------------------------------------------------------


def test_csv_export_has_a_header_and_the_filtered_rows(talk: None, owner: Any) -> None:
    response = client_for(owner).get(export_url("csv") + "?kind=commented&model=churn-predictor")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="activity-\d{8}-\d{4}\.csv"', response["Content-Disposition"])
    assert response["Cache-Control"] == "no-store"
    header, *rows = csv_rows(response)
    assert header == EXPORT_COLUMNS
    records = [dict(zip(header, row, strict=True)) for row in rows]
    assert [(r["actor"], r["event"], r["model"], r["version"], r["comment"]) for r in records] == [
        ("reviewer", "commented", "churn-predictor", "v1.0.0", "Reviewed the metrics"),
        ("editor", "commented", "churn-predictor", "v1.0.0", 'Private note, with a comma and "quotes"\nand a line'),
    ]
    assert all(datetime.fromisoformat(r["time"]).tzinfo is not None for r in records)
    assert all(r["details"] == "" for r in records)


def test_csv_export_writes_details_as_json(version: ModelVersion, owner: Any, editor: Any) -> None:
    workflow.request_stage_change(actor=editor, version=version, to_stage=Stage.PRODUCTION, comment="Go")

    header, *rows = csv_rows(client_for(owner).get(export_url("csv") + "?kind=stage_change_requested"))

    record = dict(zip(header, rows[0], strict=True))
    assert (record["from_stage"], record["to_stage"], record["comment"]) == ("unassigned", "production", "Go")
    details = json.loads(record["details"])
    assert details["skipped"] == ["Development", "Staging"]
    assert isinstance(details["change_request"], int)


@pytest.mark.parametrize("text", ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2", "@SUM(A1:A9)"])
def test_csv_export_keeps_formula_like_comments_as_text(version: ModelVersion, editor: Any, text: str) -> None:
    comment_on_version(actor=editor, version=version, comment=text)
    client = client_for(editor)

    header, *rows = csv_rows(client.get(export_url("csv") + "?kind=commented"))
    records = json_lines(client.get(export_url("jsonl") + "?kind=commented"))

    assert dict(zip(header, rows[0], strict=True))["comment"] == f"'{text}"  # a spreadsheet shows it, runs nothing
    assert records[0]["comment"] == text  # JSON is data, not a spreadsheet: kept as written


def test_jsonl_export_is_one_json_object_per_line(talk: None, owner: Any) -> None:
    response = client_for(owner).get(export_url("jsonl") + "?actor=owner")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="activity-\d{8}-\d{4}\.jsonl"', response["Content-Disposition"])
    records = json_lines(response)
    assert records
    assert all(list(r) == EXPORT_COLUMNS for r in records)
    assert {r["actor"] for r in records} == {"owner"}
    assert records[0]["comment"] == "Open remark"
    assert records[0]["model"] == "open-model"
    registered = next(r for r in records if r["event"] == "model_registered" and r["model"] == "churn-predictor")
    assert registered["details"] == {"name": "Churn Predictor"}
    assert registered["version"] == ""
    times = [datetime.fromisoformat(r["time"]) for r in records]
    assert times == sorted(times, reverse=True)


def test_jsonl_export_keeps_unicode_and_newlines_intact(version: ModelVersion, editor: Any) -> None:
    comment_on_version(actor=editor, version=version, comment="Ünïcode ✓\nsecond\u2028line\r\nthird")

    records = json_lines(client_for(editor).get(export_url("jsonl") + "?kind=commented"))

    assert [r["comment"] for r in records] == ["Ünïcode ✓\nsecond\u2028line\r\nthird"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_exports_hold_only_models_the_user_may_view(talk: None, outsider: Any, fmt: str) -> None:
    response = client_for(outsider).get(export_url(fmt))
    text = body_of(response)

    assert response.status_code == 200
    assert "Open remark" in text
    assert "churn-predictor" not in text
    assert "Private note" not in text


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_exports_of_the_page_links_match_the_page(talk: None, owner: Any, fmt: str) -> None:
    client = client_for(owner)
    page = client.get(activity_url() + "?actor=reviewer&kind=commented").text
    link = [
        str(a.attrs["href"])
        for a in select(page, "a", download=True, href=re.compile(rf"{re.escape(export_url(fmt))}.*"))
    ]
    assert link

    text = body_of(client.get(link[0]))

    assert "Reviewed the metrics" in text
    assert "Private note" not in text
    assert "Open remark" not in text


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_of_no_match_is_empty_but_valid(talk: None, owner: Any, fmt: str) -> None:
    response = client_for(owner).get(export_url(fmt) + "?actor=nobody")

    assert response.status_code == 200
    assert body_of(response).splitlines() == ([",".join(EXPORT_COLUMNS)] if fmt == "csv" else [])


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("since=2024-03-05&until=2024-03-01", "The “from” date is after the “to” date."),
        ("until=2024-13-01", "Until: Enter a valid date."),
        ("stage=limbo", "Stage: Select a valid choice."),
    ],
)
def test_export_with_invalid_filters_is_400_showing_the_error(
    talk: None, owner: Any, fmt: str, query: str, message: str
) -> None:
    response = client_for(owner).get(f"{export_url(fmt)}?{query}")

    assert response.status_code == 400
    assert not response.streaming
    assert "Content-Disposition" not in response
    assert message in visible_text(response.text)
    assert feed_items(response.text) == []


# --- The model's Activity tab -------------------------------------------------------------------------------------


def test_model_activity_tab_lists_this_model_only_with_filters(talk: None, model: RegisteredModel, viewer: Any) -> None:
    client = client_for(viewer)

    page = client.get(tab_url(model))
    filtered = client.get(tab_url(model) + "?actor=reviewer", headers=ACTIVITY_RESULTS)

    assert_full_page(page)
    assert has_vary_header(page, "HX-Request")
    assert 'aria-current="page">Activity</a>' in page.text
    assert "Open remark" not in page.text
    assert any("Private note" in item for item in feed_items(page.text))
    assert 'name="model"' not in page.text  # the tab's model is fixed
    assert_fragment(filtered, "activity-results")
    assert element_ids(filtered.text) == ["activity-results"]
    assert has_vary_header(filtered, "HX-Request")
    assert [i.split(" ", 1)[0] for i in feed_items(filtered.text)] == ["reviewer"]


def test_model_activity_tab_without_a_target_swaps_the_whole_tabs(
    talk: None, model: RegisteredModel, viewer: Any
) -> None:
    response = client_for(viewer).get(tab_url(model), headers=HTMX)

    assert_fragment(response, "model-tabs")
    assert has_vary_header(response, "HX-Request")
    assert 'aria-label="Filter activity"' in response.text


def test_model_activity_tab_explains_invalid_filters(talk: None, model: RegisteredModel, viewer: Any) -> None:
    response = client_for(viewer).get(tab_url(model) + "?since=2024-05-02&until=2024-05-01", headers=ACTIVITY_RESULTS)

    assert_fragment(response, "activity-results")
    assert "The “from” date is after the “to” date." in visible_text(response.text)
    assert feed_items(response.text) == []
