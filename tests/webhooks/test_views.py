"""The Webhooks tab: Owners only (404 for who cannot see the model, 403 for who sees it), each action through its
service, the secret shown once, the delivery log with bounded queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from activity.models import ActivityEntry, Verb
from activity.services import comment_on_version
from tests.helpers import client_for
from tests.tasks import run_tasks
from tests.webhooks.conftest import hook
from tests.webhooks.receiver import receiving
from webhooks.models import Delivery, DeliveryStatus, State, Webhook

pytestmark = pytest.mark.usefixtures("local")

LIST_URL = "/models/churn-predictor/webhooks/"


def detail_url(webhook: Webhook, action: str = "") -> str:
    return f"/models/churn-predictor/webhooks/{webhook.pk}/" + (f"{action}/" if action else "")


def test_the_tab_is_shown_to_owners_only(model: Any, owner: Any, editor: Any) -> None:
    card = reverse("catalog:model-detail", kwargs={"slug": model.slug})
    assert LIST_URL in client_for(owner).get(card).text
    assert LIST_URL not in client_for(editor).get(card).text


def test_who_may_not_see_the_model_gets_404_who_sees_it_but_does_not_own_it_403(
    model: Any, owner: Any, editor: Any, outsider: Any
) -> None:
    webhook, _ = hook(owner, model, "http://127.0.0.1:9/hook")
    for url in (LIST_URL, detail_url(webhook)):
        assert client_for(outsider).get(url).status_code == 404
        assert client_for(editor).get(url).status_code == 403
        assert client_for(None).get(url).status_code == 302
    for action in ("edit", "rotate", "test", "delete"):
        assert client_for(editor).post(detail_url(webhook, action)).status_code == 403
        assert client_for(outsider).post(detail_url(webhook, action)).status_code == 404
        assert client_for(owner).get(detail_url(webhook, action)).status_code == 405
    assert Webhook.objects.filter(pk=webhook.pk).exists()


def test_an_owner_creates_a_webhook_and_sees_its_secret_once(model: Any, owner: Any) -> None:
    client = client_for(owner)
    response = client.post(
        f"{LIST_URL}create/",
        {"url": "http://127.0.0.1:9/hook", "events": ["version.stage_changed", "comment.added"], "state": "active",
         "payload_format": "standard", "headers": "Authorization: Bearer abc", "description": "Deploys"},
    )  # fmt: skip
    webhook = Webhook.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(webhook)
    assert (webhook.events, webhook.headers) == (
        ["version.stage_changed", "comment.added"],
        {"Authorization": "Bearer abc"},
    )
    first = client.get(detail_url(webhook)).text
    assert webhook.secret in first
    assert webhook.secret not in client.get(detail_url(webhook)).text
    assert ActivityEntry.objects.filter(verb=Verb.WEBHOOK_CREATED, model=model).count() == 1


def test_a_refused_url_is_a_form_error_not_a_500(model: Any, owner: Any, settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response = client_for(owner).post(
        f"{LIST_URL}create/", {"url": "http://10.0.0.5/hook", "state": "active", "payload_format": "standard"}
    )
    assert response.status_code == 200
    assert "resolves to 10.0.0.5, a private address" in response.text
    assert not Webhook.objects.exists()


def test_edit_rotate_test_redeliver_and_delete_go_through_the_services(
    version: Any, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(owner)
    with receiving() as receiver:
        webhook, secret = hook(owner, version.model, receiver.url)
        response = client.post(
            detail_url(webhook, "edit"),
            {"url": receiver.url, "state": "test", "payload_format": "standard", "description": "Now quiet"},
        )
        assert response.status_code == 302
        webhook.refresh_from_db()
        assert (webhook.state, webhook.description) == (State.TEST, "Now quiet")

        assert client.post(detail_url(webhook, "rotate"), {"grace_hours": "2"}).status_code == 302
        webhook.refresh_from_db()
        assert webhook.previous_secret == secret
        assert webhook.secret in client.get(detail_url(webhook)).text

        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(detail_url(webhook, "test")).status_code == 302
        run_tasks()
        [delivery] = Delivery.objects.filter(webhook=webhook)
        assert delivery.status == DeliveryStatus.DELIVERED
        page = client.get(detail_url(webhook)).text
        assert "Test event" in page
        assert "HTTP 200" in page

        with django_capture_on_commit_callbacks(execute=True):
            redeliver = f"{detail_url(webhook)}deliveries/{delivery.pk}/redeliver/"
            assert client.post(redeliver).status_code == 302
        run_tasks()
    assert receiver.event_ids == [delivery.event.event_id] * 2

    assert client.post(detail_url(webhook, "delete")).status_code == 302
    assert not Webhook.objects.exists()
    assert list(
        ActivityEntry.objects.filter(verb__startswith="webhook_").order_by("id").values_list("verb", "extra__change")
    ) == [
        (Verb.WEBHOOK_CREATED, None),
        (Verb.WEBHOOK_CHANGED, "put in test mode"),
        (Verb.WEBHOOK_CHANGED, "rotated the secret of"),
        (Verb.WEBHOOK_DELETED, None),
    ]


def test_the_delivery_log_pages_with_bounded_queries(
    version: Any, owner: Any, django_assert_max_num_queries: Any
) -> None:
    webhook, _ = hook(owner, version.model, "http://127.0.0.1:9/hook")
    for n in range(60):
        comment_on_version(actor=owner, version=version, comment=f"Comment {n}")
    client = client_for(owner)
    client.get(detail_url(webhook))  # sessions, grants: what every page reads once
    with django_assert_max_num_queries(14):
        first = client.get(detail_url(webhook))
    with django_assert_max_num_queries(14):
        last = client.get(detail_url(webhook) + "?page=3", headers={"HX-Request": "true", "HX-Target": "delivery-log"})
    assert "Comment 59" in first.text
    assert "Page 1 of 3" in first.text
    assert "Comment 0" in last.text
    assert 'id="delivery-log"' in last.text
    assert "Rotate secret" not in last.text  # the fragment only


def test_the_list_counts_with_bounded_queries(model: Any, owner: Any, django_assert_max_num_queries: Any) -> None:
    for n in range(12):
        hook(owner, model, f"http://127.0.0.1:9/hook{n}")
    client = client_for(owner)
    client.get(LIST_URL)
    with django_assert_max_num_queries(12):
        response = client.get(LIST_URL)
    assert response.text.count("http://127.0.0.1:9/hook") == 12
