"""Registry-wide webhooks in the admin: superusers only, written through the services (logged), refusals as form
errors; such a webhook hears every model's events."""

from __future__ import annotations

from typing import Any

import pytest

from activity.models import ActivityEntry, Verb
from activity.services import comment_on_version
from tests.factories import UserFactory
from tests.helpers import client_for
from tests.tasks import run_tasks
from tests.webhooks.receiver import receiving
from webhooks.models import Webhook

pytestmark = pytest.mark.usefixtures("local")
ADD = "/admin/webhooks/webhook/add/"


@pytest.fixture
def superuser(db: None) -> Any:
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def form(url: str, **changes: Any) -> dict[str, Any]:
    return {
        "url": url,
        "description": "Audit",
        "payload_format": "standard",
        "state": "active",
        "headers": "{}",
    } | changes


def test_a_superuser_adds_a_registry_wide_webhook_that_hears_every_model(
    superuser: Any, version: Any, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    admin = client_for(superuser)
    with receiving() as receiver:
        response = admin.post(ADD, form(receiver.url, events=["comment.added"]), follow=True)
        assert response.status_code == 200
        webhook = Webhook.objects.get()
        assert webhook.model is None
        assert webhook.secret in response.content.decode()  # shown once, in the message after adding
        assert ActivityEntry.objects.filter(verb=Verb.WEBHOOK_CREATED, actor=superuser, model=None).count() == 1
        with django_capture_on_commit_callbacks(execute=True):
            comment_on_version(actor=owner, version=version, comment="Seen registry-wide")
        run_tasks()
    assert len(receiver.received) == 1

    change = f"/admin/webhooks/webhook/{webhook.pk}/change/"
    assert admin.post(change, form(receiver.url, state="disabled")).status_code == 302
    webhook.refresh_from_db()
    assert webhook.state == "disabled"
    assert admin.post(f"/admin/webhooks/webhook/{webhook.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Webhook.objects.exists()
    assert ActivityEntry.objects.filter(verb=Verb.WEBHOOK_DELETED, actor=superuser).count() == 1


def test_a_refused_url_is_the_forms_error(superuser: Any, settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response = client_for(superuser).post(ADD, form("https://169.254.169.254/"))
    assert response.status_code == 200
    assert "a link-local or cloud metadata address" in response.content.decode()
    assert not Webhook.objects.exists()


def test_staff_who_are_not_superusers_see_no_webhooks(db: None, owner: Any) -> None:
    staff = UserFactory(username="clerk", is_staff=True)
    assert client_for(staff).get("/admin/webhooks/webhook/").status_code == 403
    assert client_for(staff).post(ADD, form("https://93.184.215.14/")).status_code == 403
