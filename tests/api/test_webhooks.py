"""The webhooks of a model over the API: Owners only, the same services (and refusals) as the Webhooks tab."""

from __future__ import annotations

from typing import Any

import pytest

from activity.models import ActivityEntry, Verb
from api.services import create_api_token
from tests.tasks import run_tasks
from tests.webhooks.receiver import receiving
from webhooks.models import Webhook

pytestmark = pytest.mark.usefixtures("local")
BASE = "/api/v1/models/churn-predictor/webhooks"


@pytest.fixture
def local(settings: Any) -> None:
    settings.WEBHOOK_ALLOW_HTTP = settings.WEBHOOK_ALLOW_PRIVATE = True


def bearer(user: Any) -> dict[str, str]:
    _, secret = create_api_token(actor=user, name="test")
    return {"Authorization": f"Bearer {secret}"}


def test_an_owner_creates_tests_reads_the_log_of_rotates_and_deletes_a_webhook(
    client: Any, model: Any, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    auth = bearer(owner)
    with receiving() as receiver:
        made = client.post(
            BASE, {"url": receiver.url, "events": ["comment.added"]}, content_type="application/json", headers=auth
        )
        assert made.status_code == 201, made.content
        body = made.json()
        assert body["secret"].startswith("whsec_")
        assert body["events"] == ["comment.added"]
        webhook_url = f"{BASE}/{body['id']}"
        assert client.get(webhook_url, headers=auth).json()["secret"] is None

        with django_capture_on_commit_callbacks(execute=True):
            queued = client.post(f"{webhook_url}/test", headers=auth)
        assert queued.status_code == 201
        run_tasks()
        log = client.get(f"{webhook_url}/deliveries", headers=auth).json()
        assert [(d["event_type"], d["status"], d["status_code"]) for d in log["items"]] == [
            ("webhook.test", "delivered", 200)
        ]
        assert receiver.event_ids == [log["items"][0]["event_id"]]

    changed = client.patch(webhook_url, {"state": "test"}, content_type="application/json", headers=auth)
    assert changed.json()["state"] == "test"
    rotated = client.post(
        f"{webhook_url}/rotate-secret", {"grace_hours": 1}, content_type="application/json", headers=auth
    )
    assert rotated.json()["secret"] == Webhook.objects.get().secret != body["secret"]
    assert client.delete(webhook_url, headers=auth).json() == []
    assert (
        ActivityEntry.objects.filter(
            verb__in=[Verb.WEBHOOK_CREATED, Verb.WEBHOOK_CHANGED, Verb.WEBHOOK_DELETED]
        ).count()
        == 4
    )


def test_refusals_read_as_on_the_pages(
    client: Any, model: Any, owner: Any, editor: Any, outsider: Any, settings: Any
) -> None:
    assert client.get(BASE, headers=bearer(editor)).json() == {
        "error": {
            "code": "permission_denied",
            "message": "Only owners of this model can manage its webhooks.",
            "field": None,
        }
    }
    assert client.get(BASE, headers=bearer(outsider)).status_code == 404
    settings.WEBHOOK_ALLOW_PRIVATE = False
    refused = client.post(BASE, {"url": "https://[::1]/hook"}, content_type="application/json", headers=bearer(owner))
    assert refused.status_code == 400
    assert "::1, a loopback address" in refused.json()["error"]["message"]
    unknown = client.post(
        BASE,
        {"url": "https://93.184.215.14/", "events": ["nope"]},
        content_type="application/json",
        headers=bearer(owner),
    )
    assert unknown.json()["error"]["message"] == "Unknown event types: nope."
    assert not Webhook.objects.exists()
