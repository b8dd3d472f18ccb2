"""Views of the activity log: the activity page and its exports, comments, the "as of" tab, the version timeline and
the home dashboard, for every persona, with their htmx fragments and a bounded number of queries.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from unittest import mock

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import has_vary_header

from activity.models import MAX_COMMENT, ActivityEntry, Verb
from activity.services import comment_on_version
from activity.views import EXPORT_COLUMNS
from approvals import services as workflow
from catalog.models import ModelVersion, RegisteredModel, Stage
from catalog.permissions import Role
from catalog.services import add_collaborator
from tests.factories import ModelFactory, UserFactory, VersionFactory
from tests.helpers import (
    ACTIVITY_RESULTS,
    HTMX,
    QUERY_SIZES,
    activity_url,
    as_of_lists,
    assert_fragment,
    assert_full_page,
    assert_get_within,
    client_for,
    comment_url,
    comments_written,
    element,
    element_ids,
    export_url,
    feed_items,
    frozen,
    history_url,
    messages_shown,
    select,
    set_stage,
    tab_url,
    table_rows,
    timeline_items,
    version_url,
    visible_text,
)

LOGIN = "/accounts/login/"


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


# --- Who may open what --------------------------------------------------------------------------------------------

GET_PAGES = ["activity", "export-csv", "export-jsonl", "history", "model-activity", "version", "home"]


def url_of(name: str, model: RegisteredModel, version: ModelVersion) -> str:
    return {
        "activity": activity_url(),
        "export-csv": export_url("csv"),
        "export-jsonl": export_url("jsonl"),
        "history": history_url(model),
        "model-activity": tab_url(model),
        "version": version_url(version),
        "home": reverse("catalog:home"),
        "comment": comment_url(version),
    }[name]


@pytest.mark.parametrize("name", GET_PAGES)
@pytest.mark.parametrize("headers", [{}, HTMX, ACTIVITY_RESULTS])
def test_anonymous_is_sent_to_login(
    model: RegisteredModel, version: ModelVersion, name: str, headers: dict[str, str]
) -> None:
    url = url_of(name, model, version)

    response = client_for(None).get(url, headers=headers)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?next=")


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_anonymous_comment_is_sent_to_login_and_writes_nothing(version: ModelVersion, headers: dict[str, str]) -> None:
    response = client_for(None).post(comment_url(version), {"comment": "Hello"}, headers=headers)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?next=")
    assert comments_written() == []


@pytest.mark.parametrize("name", ["history", "model-activity", "version"])
@pytest.mark.parametrize("headers", [{}, HTMX, ACTIVITY_RESULTS])
def test_outsider_gets_404_for_pages_of_a_private_model(
    model: RegisteredModel, version: ModelVersion, outsider: Any, name: str, headers: dict[str, str]
) -> None:
    response = client_for(outsider).get(url_of(name, model, version) + "?at=2024-01-01T10:00", headers=headers)

    assert response.status_code == 404


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_outsider_comment_on_a_private_model_is_404_and_writes_nothing(
    version: ModelVersion, outsider: Any, headers: dict[str, str]
) -> None:
    response = client_for(outsider).post(comment_url(version), {"comment": "Let me in"}, headers=headers)

    assert response.status_code == 404
    assert comments_written() == []


def test_unknown_model_or_version_is_404(version: ModelVersion, owner: Any) -> None:
    client = client_for(owner)
    slug = version.model.slug

    assert client.get(reverse("activity:model-history", kwargs={"slug": "nope"})).status_code == 404
    assert client.post(f"/models/{slug}/versions/nope/comments/", {"comment": "x"}).status_code == 404
    assert client.post(f"/models/{slug}/versions/v%00/comments/", {"comment": "x"}).status_code == 404
    assert comments_written() == []


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_viewer_cannot_comment_403_and_nothing_is_written(
    version: ModelVersion, viewer: Any, headers: dict[str, str]
) -> None:
    response = client_for(viewer).post(comment_url(version), {"comment": "Can I?"}, headers=headers)

    assert response.status_code == 403
    assert comments_written() == []


def test_viewer_sees_no_comment_box_and_collaborators_who_act_do(
    version: ModelVersion, viewer: Any, editor: Any, reviewer: Any, owner: Any
) -> None:
    assert 'class="comment-form"' not in client_for(viewer).get(version_url(version)).text
    for user in (editor, reviewer, owner):
        page = client_for(user).get(version_url(version)).text
        assert f'action="{comment_url(version)}"' in page, user.username


@pytest.mark.parametrize("name", GET_PAGES)
@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_pages_answer_405_to_other_methods(
    model: RegisteredModel, version: ModelVersion, owner: Any, name: str, method: str
) -> None:
    response = getattr(client_for(owner), method)(url_of(name, model, version))

    assert response.status_code == 405


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_comment_answers_405_to_anything_but_post(version: ModelVersion, editor: Any, method: str) -> None:
    response = getattr(client_for(editor), method)(comment_url(version))

    assert response.status_code == 405
    assert comments_written() == []


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
    link = [str(a.attrs["href"]) for a in select(page, "a", download=True, href=re.compile(rf"{export_url(fmt)}.*"))]
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


# --- Comments -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["editor", "reviewer", "owner"])
def test_comment_without_javascript_redirects_to_the_feed_with_a_message(
    version: ModelVersion, request: pytest.FixtureRequest, persona: str
) -> None:
    user = request.getfixturevalue(persona)
    client = client_for(user)

    response = client.post(comment_url(version), {"comment": "  Retrained on May data.  "})

    assert response.status_code == 302
    assert response["Location"] == version_url(version) + "#activity-heading"
    assert comments_written() == [(persona, "Retrained on May data.")]
    entry = ActivityEntry.objects.get(verb=Verb.COMMENTED)
    assert (entry.model, entry.version) == (version.model, version)
    page = client.get(response["Location"]).text
    assert messages_shown(page) == ["Comment added."]
    assert "Retrained on May data." in feed_items(page)[0]
    assert feed_items(page)[0].startswith(f"{persona} commented on v1.0.0")


def test_comment_with_htmx_returns_the_version_activity_with_the_new_entry(version: ModelVersion, editor: Any) -> None:
    response = client_for(editor).post(comment_url(version), {"comment": "Looks stable"}, headers=HTMX)

    assert_fragment(response, "version-activity")
    assert comments_written() == [("editor", "Looks stable")]
    assert "Looks stable" in feed_items(response.text)[0]
    assert [box.inner.strip() for box in select(response.text, "textarea")] == [""], "the box is emptied for the next"
    assert f'hx-post="{comment_url(version)}"' in response.text
    assert 'id="activity-feed"' in response.text
    assert messages_shown(response.text) == []


@pytest.mark.parametrize(
    ("comment", "error"),
    [
        ("", "Write a comment first."),
        ("   \n\t ", "Write a comment first."),
        (
            "x" * (MAX_COMMENT + 1),
            f"Ensure this value has at most {MAX_COMMENT} characters (it has {MAX_COMMENT + 1}).",
        ),
        ("bad\x00byte", "Null characters are not allowed."),
    ],
)
@pytest.mark.parametrize("headers", [{}, HTMX])
def test_invalid_comment_shows_the_error_and_writes_nothing(
    version: ModelVersion, editor: Any, comment: str, error: str, headers: dict[str, str]
) -> None:
    response = client_for(editor).post(comment_url(version), {"comment": comment}, headers=headers)

    assert response.status_code == 200
    if headers:
        assert_fragment(response, "version-activity")
    else:
        assert_full_page(response)
        assert 'id="timeline"' in response.text
    assert error in unescape(response.text)
    assert 'class="errorlist" id="id_comment_error" role="alert"' in response.text
    assert comments_written() == []
    assert messages_shown(response.text) == []


def test_a_too_long_comment_is_kept_for_editing(version: ModelVersion, editor: Any) -> None:
    text = "Long story. " * 500

    response = client_for(editor).post(comment_url(version), {"comment": text})

    assert text.strip() in unescape(response.text)
    assert comments_written() == []


def test_a_comment_of_exactly_the_limit_is_accepted(version: ModelVersion, editor: Any) -> None:
    response = client_for(editor).post(comment_url(version), {"comment": "y" * MAX_COMMENT}, headers=HTMX)

    assert_fragment(response, "version-activity")
    assert comments_written() == [("editor", "y" * MAX_COMMENT)]


def test_comment_html_is_shown_as_text(version: ModelVersion, editor: Any) -> None:
    client_for(editor).post(comment_url(version), {"comment": "<script>alert(1)</script>"})

    page = client_for(editor).get(version_url(version)).text

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- The version page: timeline and feed --------------------------------------------------------------------------


@pytest.fixture
def promoted(version: ModelVersion, owner: Any, editor: Any, reviewer: Any, reviewer2: Any) -> ModelVersion:
    """v1.0.0 moved to Staging through a request of editor that reviewer and reviewer2 approved."""
    workflow.set_approval_policy(actor=owner, model=version.model, required_approvals=2)
    change_request = workflow.request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)
    workflow.approve_change_request(actor=reviewer, change_request=change_request)
    workflow.approve_change_request(actor=reviewer2, change_request=change_request)
    return ModelVersion.objects.get(pk=version.pk)


def test_version_page_shows_the_stage_timeline(promoted: ModelVersion, viewer: Any) -> None:
    response = client_for(viewer).get(version_url(promoted))

    assert_full_page(response)
    items = timeline_items(response.text)
    assert len(items) == 2
    assert items[0].startswith("Unassigned")
    assert items[0].endswith("Registered without a stage.")
    assert items[1].startswith("Staging")
    assert "now" in items[1]
    assert items[1].endswith("Approved by reviewer and reviewer2; requested by editor.")
    assert element(response.text, "timeline-caption").text.startswith(
        "Stage timeline of version v1.0.0: Unassigned for "
    )
    assert response.text.count('<rect class="st-') == 2


def test_version_page_timeline_says_why_a_version_was_archived(
    promoted: ModelVersion, model: RegisteredModel, owner: Any, editor: Any, reviewer: Any, reviewer2: Any
) -> None:
    other = VersionFactory.create(model=model, name="v2.0.0")
    change_request = workflow.request_stage_change(
        actor=editor, version=other, to_stage=Stage.STAGING, archive_others=True
    )
    workflow.approve_change_request(actor=reviewer, change_request=change_request)
    workflow.approve_change_request(actor=owner, change_request=change_request)

    items = timeline_items(client_for(reviewer2).get(version_url(promoted)).text)

    assert items[-1].startswith("Archived")
    assert items[-1].endswith("Archived because v2.0.0 moved to Staging. Moved by owner.")


def test_version_page_fragment_is_a_page_of_its_feed(promoted: ModelVersion, viewer: Any) -> None:
    response = client_for(viewer).get(version_url(promoted), headers=HTMX)

    assert_fragment(response, "activity-feed")
    assert has_vary_header(response, "HX-Request")
    assert feed_items(response.text)[0].startswith("reviewer2 moved v1.0.0 from Unassigned to Staging")
    assert "timeline-list" not in response.text


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


# --- The "Stages as of" tab ---------------------------------------------------------------------------------------

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
        ("2024-02-01T10:00", {"Unassigned": ["v1 since it was registered, 2024-02-01 09:00"]}),
        ("2024-02-02T09:00", {"Staging": ["v1 since 2024-02-02 09:00"]}),  # the very minute of the move
        (
            "2024-03-01T00:00",
            {"Unassigned": ["v2 since it was registered, 2024-02-03 09:00"], "Staging": ["v1 since 2024-02-02 09:00"]},
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
    assert as_of_lists(response.text)["Staging"] == ["v1 since 2024-02-02 09:00"]


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


# --- Home: the Production chart and lead times --------------------------------------------------------------------


def test_home_shows_the_production_chart_as_text_and_the_lead_times(
    model: RegisteredModel, owner: Any, editor: Any, viewer: Any
) -> None:
    now = timezone.now()
    with frozen(now - timedelta(days=10)):
        version = VersionFactory.create(model=model, name="v1")
    with frozen(now - timedelta(days=3, hours=2)):
        change_request = workflow.request_stage_change(actor=editor, version=version, to_stage=Stage.PRODUCTION)
    with frozen(now - timedelta(days=3)):
        workflow.approve_change_request(actor=owner, change_request=change_request)
    today = timezone.localdate(now)

    response = client_for(viewer).get(reverse("catalog:home"))

    assert response.status_code == 200
    caption = element(response.text, "production-chart-summary")
    first = today - timedelta(days=89)
    assert caption.text == (
        f"1 today, 0 on {first:%b} {first.day}; highest 1 ({today:%b} {today.day}), lowest 0 ({first:%b} {first.day})."
    )
    assert 'aria-labelledby="production-chart-summary"' in response.text
    assert "Versions in Production, last 90 days" in response.text
    [figures] = select(response.text, "table", class_="compact")
    rows = [tuple(cell.text for cell in row.select("td")) for row in table_rows(figures.html)]
    assert len(rows) == 90
    assert rows[0] == (today.isoformat(), "1")
    assert rows[3] == ((today - timedelta(days=3)).isoformat(), "1")
    assert rows[4] == ((today - timedelta(days=4)).isoformat(), "0")
    lead = select(response.text, "dl", class_="lead-times")[0].text
    assert lead == (
        "Request to decision 2 hours median of 1 approval and rejection "
        "Unassigned to Production 7 days median from registration, over 1 version first reaching Production"
    )


def test_home_of_someone_who_sees_nothing_shows_flat_zeroes_and_no_lead_time(
    model: RegisteredModel, owner: Any, outsider: Any
) -> None:
    version = VersionFactory.create(model=model, name="v1")
    set_stage(version, Stage.PRODUCTION)

    response = client_for(outsider).get(reverse("catalog:home"))

    assert element(response.text, "production-chart-summary").text.startswith("0 today, 0 on ")
    lead = select(response.text, "dl", class_="lead-times")[0].text
    assert "Request to decision — no approval or rejection yet" in lead
    assert "Unassigned to Production — no version reached Production yet" in lead


# --- Query counts -------------------------------------------------------------------------------------------------


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
    ("/activity/", {}, 4),  # session, user, one page of entries, the inbox badge
    ("/activity/", ACTIVITY_RESULTS, 3),
    ("/activity/?actor=busy-editor&kind=commented&since=2024-01-01", {}, 4),
    ("/activity/?model=busy&stage=production", ACTIVITY_RESULTS, 3),
    ("/models/busy/activity/", {}, 10),
    ("/models/busy/activity/?actor=busy-reviewer1&kind=stage_change_approved", ACTIVITY_RESULTS, 9),
    ("/models/busy/versions/v0/", {}, 12),  # with the timeline: its moves and their approvals
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
