"""A version's page in the activity log: commenting with and without JavaScript, the stage timeline and the feed."""

from __future__ import annotations

from html import unescape
from typing import Any

import pytest
from django.utils.cache import has_vary_header

from activity.models import MAX_COMMENT, ActivityEntry, Verb
from approvals import services as workflow
from catalog.models import ModelVersion, RegisteredModel, Stage
from tests.factories import VersionFactory
from tests.helpers import (
    HTMX,
    assert_fragment,
    assert_full_page,
    client_for,
    comment_url,
    comments_written,
    element,
    feed_items,
    messages_shown,
    select,
    timeline_items,
    version_url,
)

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
    boxes = select(response.text, "textarea")
    assert [box.inner.strip() for box in boxes] == [""], "the box is emptied for the next comment"
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
