"""Notifications per persona, the navigation's count, marking them read, the decision banner and its dismissal, mail
links, and a bounded number of queries whatever the size of the log."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.mail import EmailMessage
from django.db import connection

from activity.services import comment_on_version
from approvals import services
from catalog.models import Stage
from catalog.permissions import Role
from catalog.services import add_collaborator
from tests.factories import ModelFactory, UserFactory, VersionFactory
from tests.helpers import HTMX, QUERY_SIZES, VERSION_URL, client_for, count_badge, element, select
from tests.tasks import run_tasks


def items(client: Any) -> list[str]:
    page = client.get("/notifications/")
    assert page.status_code == 200
    return [
        i.text.replace(" just now", "").replace("New ", "")
        for i in select(page.text, "li", **{"class": True})
        if "notification" in i.classes
    ]


@pytest.fixture
def decided(version: Any, editor: Any, reviewer: Any, viewer: Any) -> Any:
    """editor asked for Staging; reviewer approved; owner asked for Production on another version."""
    change_request = services.request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)
    services.approve_change_request(actor=reviewer, change_request=change_request, comment="Soak passed.")
    return change_request


def test_each_persona_sees_what_concerns_them(
    decided: Any, version: Any, owner: Any, editor: Any, reviewer: Any, viewer: Any, outsider: Any
) -> None:
    comment_on_version(actor=owner, version=version, comment="Nice numbers.")
    comment_on_version(actor=editor, version=version, comment="My own comment: no notification.")
    assert items(client_for(editor)) == [
        "owner commented on Churn Predictor v1.0.0, which you asked to move Nice numbers.",
        "reviewer approved your request to move Churn Predictor v1.0.0 to Staging Soak passed.",
    ]
    # Reviewers and owners hear of the request they may review; the requester does not hear of their own.
    assert items(client_for(reviewer)) == [
        "editor requests Staging for Churn Predictor v1.0.0 — decided since",
    ]
    assert items(client_for(owner)) == items(client_for(reviewer))
    assert items(client_for(viewer)) == []
    assert items(client_for(outsider)) == []


def test_a_cancellation_by_an_owner_notifies_the_requester_but_their_own_does_not(
    version: Any, editor: Any, owner: Any
) -> None:
    first = services.request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)
    services.cancel_change_request(actor=editor, change_request=first)
    second = services.request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)
    services.cancel_change_request(actor=owner, change_request=second, comment="Not now.")
    assert items(client_for(editor)) == [
        "owner cancelled your request to move Churn Predictor v1.0.0 to Development Not now.",
    ]


def test_losing_access_hides_the_notifications(decided: Any, model: Any, owner: Any, editor: Any) -> None:
    from catalog.services import remove_collaborator

    remove_collaborator(actor=owner, model=model, user=editor)
    assert items(client_for(editor)) == []


def test_the_count_in_the_navigation_and_mark_all_read(decided: Any, version: Any, editor: Any, owner: Any) -> None:
    client = client_for(editor)
    assert count_badge(client.get("/models/").text, "notification-count") == 1
    comment_on_version(actor=owner, version=version, comment="Looks good.")
    assert count_badge(client.get("/").text, "notification-count") == 2
    response = client.post("/notifications/read/", headers=HTMX)
    assert response.status_code == 200
    assert count_badge(response.text, "notification-count") == 0  # out of band
    assert 'hx-swap-oob="true"' in element(response.text, "notification-count").html
    assert "notification unread" not in element(response.text, "notifications").html
    assert count_badge(client.get("/").text, "notification-count") == 0
    comment_on_version(actor=owner, version=version, comment="One more thing.")
    assert count_badge(client.get("/").text, "notification-count") == 1
    # Without JavaScript: a plain POST that redirects.
    response = client.post("/notifications/read/")
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    assert count_badge(client.get("/").text, "notification-count") == 0


def test_the_count_holds_requests_only_while_they_wait_for_the_reader(
    version: Any, editor: Any, reviewer: Any, owner: Any
) -> None:
    change_request = services.request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)
    assert count_badge(client_for(reviewer).get("/models/").text, "notification-count") == 1
    assert count_badge(client_for(owner).get("/models/").text, "notification-count") == 1

    services.approve_change_request(actor=owner, change_request=change_request)

    # Decided by someone else, it waits for nobody: no longer counted, still listed with the rest of the history.
    assert count_badge(client_for(reviewer).get("/models/").text, "notification-count") == 0
    assert items(client_for(reviewer)) == ["editor requests Staging for Churn Predictor v1.0.0 — decided since"]


def test_the_pages_need_a_signed_in_user_and_the_right_method(client: Any, editor: Any) -> None:
    assert client.get("/notifications/")["Location"].startswith("/accounts/login/")
    assert client.post("/notifications/read/")["Location"].startswith("/accounts/login/")
    assert client_for(editor).get("/notifications/read/").status_code == 405
    assert client_for(editor).post("/notifications/").status_code == 405


def test_the_version_page_shows_the_decision_until_dismissed_with_htmx(
    decided: Any, editor: Any, reviewer: Any
) -> None:
    client = client_for(editor)
    banner = element(client.get(VERSION_URL).text, "decision-banner")
    assert "Your request to move this version from Unassigned to Staging was approved by reviewer" in banner.text
    assert "decision-banner" not in client_for(reviewer).get(VERSION_URL).text  # only the requester's
    response = client.post(f"/notifications/decisions/{decided.pk}/dismiss/", headers=HTMX)
    assert response.status_code == 200
    assert response.text == ""
    assert "decision-banner" not in client.get(VERSION_URL).text


def test_dismissing_without_javascript_redirects_back_and_others_cannot(
    decided: Any, editor: Any, reviewer: Any, outsider: Any
) -> None:
    url = f"/notifications/decisions/{decided.pk}/dismiss/"
    assert client_for(reviewer).post(url).status_code == 403
    assert client_for(outsider).post(url).status_code == 404
    assert "decision-banner" in client_for(editor).get(VERSION_URL).text
    response = client_for(editor).post(url, {"next": VERSION_URL})
    assert response.status_code == 302
    assert response["Location"] == VERSION_URL
    assert "decision-banner" not in client_for(editor).get(VERSION_URL).text


def test_a_new_decision_shows_again_after_a_dismissal(decided: Any, version: Any, editor: Any, owner: Any) -> None:
    client_for(editor).post(f"/notifications/decisions/{decided.pk}/dismiss/")
    second = services.request_stage_change(actor=editor, version=version, to_stage=Stage.PRODUCTION)
    services.reject_change_request(actor=owner, change_request=second)
    banner = element(client_for(editor).get(VERSION_URL).text, "decision-banner")
    assert "from Staging to Production was rejected by owner" in banner.text


def test_mail_links_use_site_url(
    version: Any,
    editor: Any,
    reviewer: Any,
    settings: Any,
    mailoutbox: list[EmailMessage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.SITE_URL = "http://127.0.0.1:8143"
    with django_capture_on_commit_callbacks(execute=True):
        change_request = services.request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)
        services.approve_change_request(actor=reviewer, change_request=change_request)
    run_tasks()
    assert [m.body.strip().splitlines()[-1].split(": ")[-1] for m in mailoutbox] == [
        "http://127.0.0.1:8143/models/churn-predictor/versions/v1.0.0/"
    ] * 2


def build(size: int, reader: Any) -> None:
    """size models where reader requested a change that was decided, commented on, and size requests reader may
    review; plus entries reader must not see."""
    for n in range(size):
        owner = UserFactory.create(username=f"owner{n}")
        model = ModelFactory.create(owner=owner, name=f"Model {n:02d}", visibility="private")
        add_collaborator(actor=owner, model=model, user=reader, role=Role.EDITOR if n % 2 else Role.OWNER)
        mine = VersionFactory.create(model=model, name="mine")
        request = services.request_stage_change(actor=reader, version=mine, to_stage=Stage.STAGING)
        services.reject_change_request(actor=owner, change_request=request, comment=f"No {n}")
        comment_on_version(actor=owner, version=mine, comment=f"Comment {n}")
        theirs = VersionFactory.create(model=model, name="theirs")
        services.request_stage_change(actor=owner, version=theirs, to_stage=Stage.DEVELOPMENT)
        hidden = ModelFactory.create(name=f"Hidden {n:02d}", visibility="private")
        services.request_stage_change(
            actor=hidden.owner, version=VersionFactory.create(model=hidden, name="h"), to_stage=Stage.STAGING
        )


@pytest.mark.parametrize("size", QUERY_SIZES)
@pytest.mark.parametrize(
    ("url", "headers", "bound"),
    [("/notifications/", {}, 5), ("/notifications/", HTMX, 4), ("/notifications/?before=1800000000000000_1", HTMX, 4)],
)
def test_notifications_run_a_bounded_number_of_queries(
    reader: Any, django_assert_max_num_queries: Any, size: int, url: str, headers: dict[str, str], bound: int
) -> None:
    build(size, reader)
    client = client_for(reader)
    with django_assert_max_num_queries(bound):
        response = client.get(url, headers=headers)
    assert response.status_code == 200


@pytest.mark.parametrize("size", QUERY_SIZES)
def test_the_count_adds_no_query_to_a_page(reader: Any, django_assert_num_queries: Any, size: int) -> None:
    build(size, reader)
    client = client_for(reader)
    client.get("/")
    # As before the notification badge: it shares the inbox badge's query. (PostgreSQL checks the home page's sample of
    # decisions in the query that reads them; elsewhere the viewable models are read once, a query more.)
    with django_assert_num_queries(9 if connection.vendor == "postgresql" else 10):
        page = client.get("/")
    assert (
        count_badge(page.text, "notification-count") == 2 * size + (size + 1) // 2
    )  # decisions, comments; requests where reader owns


def test_the_count_stops_at_99_plus(reader: Any) -> None:
    build(40, reader)  # 100 notifications
    page = client_for(reader).get("/").text
    assert element(page, "notification-count").text == "99+"
