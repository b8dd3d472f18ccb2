"""Events delivered to a real receiver on 127.0.0.1 by the task queue's worker: signed (standardwebhooks verifies),
in event order, retried with the same event id, failed and the webhook disabled after a threshold; nothing for a
change that rolled back."""

from __future__ import annotations

import contextlib
import json
import re
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from activity.models import ActivityEntry, Verb
from activity.services import comment_on_version
from approvals.services import (
    approve_change_request,
    cancel_change_request,
    reject_change_request,
    request_stage_change,
    set_lock_level,
)
from catalog.models import Stage
from catalog.services import set_alias
from tests.factories import VersionFactory
from tests.helpers import client_for
from tests.tasks import closed_port, queued, run_tasks
from tests.webhooks.conftest import hook
from tests.webhooks.receiver import Answer, receiving
from webhooks.models import Delivery, DeliveryStatus, Event, State, Webhook
from webhooks.services import rotate_secret, update_webhook

pytestmark = pytest.mark.usefixtures("local", "queue")


def activity_feed_text(user: Any, model: Any) -> str:
    """The model's Activity tab as user reads it: its text, tags left out."""
    html = client_for(user).get(f"{model.get_absolute_url()}activity/").content.decode()
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def deliveries(webhook: Webhook) -> list[Delivery]:
    return list(Delivery.objects.filter(webhook=webhook).select_related("event").order_by("id"))


def test_a_stage_change_goes_out_after_commit_signed_so_that_standardwebhooks_verifies_it(
    version: Any, owner: Any, editor: Any, reviewer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with receiving() as receiver:
        webhook, secret = hook(owner, version.model, receiver.url, events=["version.stage_changed"])
        assert secret.startswith("whsec_")
        with django_capture_on_commit_callbacks(execute=True):
            change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)
            approve_change_request(actor=reviewer, change_request=change_request, comment="Ship it.")
        assert receiver.received == [], "a delivery left before a worker ran the queue"
        assert len(queued("deliver_webhook")) == 1

        run_tasks()

    [received] = receiver.received
    assert received.path == "/hooks/catalog"
    payload = Verifier(secret).verify(received.body, received.headers)  # raises unless the signature is good
    assert payload["type"] == "version.stage_changed"
    assert payload["id"] == received.headers["webhook-id"] == Event.objects.get().event_id
    data = payload["data"]
    assert data["model"]["name"] == "Churn Predictor"
    assert data["version"]["name"] == "v1.0.0"
    assert data["version"]["url"].endswith("/models/churn-predictor/versions/v1.0.0/")
    assert (data["from_stage"], data["to_stage"], data["actor"]) == ("unassigned", "staging", "reviewer")
    assert data["text"] == "Churn Predictor v1.0.0 moved from Unassigned to Staging"
    with pytest.raises(WebhookVerificationError):
        Verifier("whsec_" + "QUJD" * 8).verify(received.body, received.headers)
    [delivery] = deliveries(webhook)
    assert (delivery.status, delivery.attempts, delivery.status_code) == (DeliveryStatus.DELIVERED, 1, 200)
    assert delivery.response_excerpt == "ok"


def test_every_event_the_issue_names_is_delivered_in_the_order_it_happened(
    version: Any, owner: Any, editor: Any, reviewer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with receiving() as receiver:
        webhook, secret = hook(owner, version.model, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            production = VersionFactory.create(model=version.model, created_by=owner, name="v0.9")
            first = request_stage_change(actor=owner, version=production, to_stage=Stage.PRODUCTION)
            approve_change_request(actor=reviewer, change_request=first)
            promote = request_stage_change(
                actor=editor, version=version, to_stage=Stage.PRODUCTION, archive_others=True
            )
            approve_change_request(actor=reviewer, change_request=promote, comment="Better on every metric.")
            rejected = request_stage_change(actor=editor, version=production, to_stage=Stage.STAGING)
            reject_change_request(actor=reviewer, change_request=rejected, comment="No.")
            cancelled = request_stage_change(actor=editor, version=production, to_stage=Stage.STAGING)
            cancel_change_request(actor=editor, change_request=cancelled)
            set_lock_level(actor=editor, version=version, lock_level="closed")
            set_alias(actor=editor, version=version, alias="champion")
            set_alias(actor=editor, version=production, alias="champion")
            comment_on_version(actor=reviewer, version=version, comment="Watching the latency.")
        run_tasks()

    bodies = [Verifier(secret).verify(r.body, r.headers) for r in receiver.received]
    assert [(b["type"], b["data"]["text"]) for b in bodies] == [
        ("version.registered", "owner registered Churn Predictor v0.9"),
        ("stage_change.requested", "owner requested moving Churn Predictor v0.9 from Unassigned to Production"),
        ("stage_change.approved", "reviewer approved moving Churn Predictor v0.9 from Unassigned to Production"),
        ("version.stage_changed", "Churn Predictor v0.9 moved from Unassigned to Production"),
        ("stage_change.requested", "editor requested moving Churn Predictor v1.0.0 from Unassigned to Production"),
        ("stage_change.approved", "reviewer approved moving Churn Predictor v1.0.0 from Unassigned to Production"),
        ("version.stage_changed", "Churn Predictor v1.0.0 moved from Unassigned to Production"),
        (
            "version.stage_changed",
            "Churn Predictor v0.9 moved from Production to Archived (Archived because v1.0.0 moved to Production.)",
        ),
        ("stage_change.requested", "editor requested moving Churn Predictor v0.9 from Archived to Staging"),
        ("stage_change.rejected", "reviewer rejected moving Churn Predictor v0.9 from Archived to Staging"),
        ("stage_change.requested", "editor requested moving Churn Predictor v0.9 from Archived to Staging"),
        (
            "stage_change.cancelled",
            "editor cancelled the request to move Churn Predictor v0.9 from Archived to Staging",
        ),
        ("version.lock_changed", "editor changed the lock level of Churn Predictor v1.0.0 from Open to Closed"),
        ("alias.set", "editor set the alias @champion on Churn Predictor v1.0.0"),
        ("alias.set", "editor moved the alias @champion of Churn Predictor from v1.0.0 to v0.9"),
        ("comment.added", "reviewer commented on Churn Predictor v1.0.0: Watching the latency."),
    ]
    archived = bodies[7]["data"]
    assert archived["cause"] == {
        "type": "promotion",
        "change_request": promote.pk,
        "text": "Archived because v1.0.0 moved to Production.",
    }
    assert bodies[5]["data"]["comment"] == "Better on every metric."
    assert all(d.status == DeliveryStatus.DELIVERED for d in deliveries(webhook))


def test_a_redacted_versions_artifact_uri_never_leaves(
    version: Any, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with receiving() as receiver:
        hook(owner, version.model, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            open_version = VersionFactory.create(model=version.model, created_by=owner, artifact_uri="s3://models/open")
            secret_version = VersionFactory.create(
                model=version.model, created_by=owner, artifact_uri="s3://models/secret"
            )
            set_lock_level(actor=owner, version=secret_version, lock_level="redact")
            comment_on_version(actor=owner, version=secret_version, comment="Redacted now.")
        run_tasks()
    bodies = [json.loads(r.body) for r in receiver.received]
    assert bodies[0]["data"]["version"]["artifact_uri"] == "s3://models/open"
    assert bodies[0]["data"]["version"]["name"] == open_version.name
    assert [b["type"] for b in bodies] == ["version.registered"] * 2 + ["version.lock_changed", "comment.added"]
    # Registered while open, the version's event said where it was; once Redacted, none does (even when the caller
    # holds a copy of the version read before the lock).
    assert json.loads(receiver.received[1].body)["data"]["version"]["artifact_uri"] == "s3://models/secret"
    assert all("s3://models/secret" not in r.body.decode() for r in receiver.received[2:])


def test_a_receiver_answering_500_is_retried_with_the_same_event_id_until_it_succeeds(
    version: Any, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with receiving(Answer(500, body=b"database down"), Answer(503)) as receiver:
        webhook, _ = hook(owner, version.model, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            comment_on_version(actor=owner, version=version, comment="Hello")
        run_tasks(wait_for_deferred=3)
    assert len(set(receiver.event_ids)) == 1
    assert len(receiver.event_ids) == 3
    # Each attempt is signed afresh (its own timestamp), always for the same event id.
    [delivery] = deliveries(webhook)
    assert (delivery.status, delivery.attempts, delivery.status_code) == (DeliveryStatus.DELIVERED, 3, 200)


def test_a_receiver_that_is_down_then_up_gets_the_event(
    version: Any, owner: Any, django_capture_on_commit_callbacks: Any, local: Any
) -> None:
    local.WEBHOOK_RETRY_SECONDS = 0.5
    port = closed_port()
    webhook, _ = hook(owner, version.model, f"http://127.0.0.1:{port}/hooks/catalog")
    with django_capture_on_commit_callbacks(execute=True):
        comment_on_version(actor=owner, version=version, comment="Anyone there?")
    run_tasks()
    [delivery] = deliveries(webhook)
    assert (delivery.status, delivery.attempts, delivery.status_code) == (DeliveryStatus.PENDING, 1, None)
    assert "ConnectError" in delivery.error
    assert delivery.next_attempt_at is not None

    with receiving(port=port) as receiver:
        run_tasks(wait_for_deferred=3)
    assert receiver.event_ids == [delivery.event.event_id]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)


def test_a_slow_receiver_times_out_and_the_retry_succeeds(
    version: Any, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with receiving(Answer(200, delay=1.5)) as receiver:
        webhook, _ = hook(owner, version.model, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            comment_on_version(actor=owner, version=version, comment="Slowly")
        run_tasks(wait_for_deferred=3)
    [delivery] = deliveries(webhook)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert len(set(receiver.event_ids)) == 1


def test_a_failing_receiver_fails_the_delivery_after_its_attempts_and_then_the_webhook_is_disabled(
    version: Any, owner: Any, django_capture_on_commit_callbacks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with receiving(*[Answer(500)] * 10) as receiver:
        webhook, _ = hook(owner, version.model, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            comment_on_version(actor=owner, version=version, comment="One")
            comment_on_version(actor=owner, version=version, comment="Two")
            comment_on_version(actor=owner, version=version, comment="Three")
        run_tasks(wait_for_deferred=5)
    first, second, third = deliveries(webhook)
    assert (first.status, first.attempts, first.status_code) == (DeliveryStatus.FAILED, 3, 500)
    assert (second.status, second.attempts) == (DeliveryStatus.FAILED, 3)
    # WEBHOOK_DISABLE_AFTER (2) failed deliveries in a row: the webhook is off, the third event waits for it.
    assert (third.status, third.attempts) == (DeliveryStatus.PENDING, 0)
    webhook.refresh_from_db()
    assert webhook.state == State.DISABLED
    assert webhook.disabled_reason == "Disabled automatically after 2 failed deliveries in a row."
    assert any("disabled automatically" in r.getMessage() for r in caplog.records)
    # Logged, under Model Catalog's own account, which nobody can sign in with.
    [disabled] = ActivityEntry.objects.filter(verb=Verb.WEBHOOK_CHANGED, extra__change="disabled")
    assert (disabled.actor_username, disabled.model_id) == ("Model Catalog", version.model_id)
    assert disabled.extra["reason"] == webhook.disabled_reason
    assert not disabled.actor.is_active
    assert not disabled.actor.has_usable_password()
    feed = activity_feed_text(owner, version.model)
    assert f"Model Catalog disabled the webhook to {receiver.url} (Disabled automatically after 2" in feed
    assert receiver.event_ids == [first.event.event_id] * 3 + [second.event.event_id] * 3

    # Enabled again by an Owner, the webhook gets what waited.
    with receiving(port=receiver.port) as back:
        with django_capture_on_commit_callbacks(execute=True):
            update_webhook(actor=owner, webhook=webhook, url=back.url, state=State.ACTIVE)
        run_tasks()
    assert back.event_ids == [third.event.event_id]


def test_deliveries_to_one_webhook_wait_behind_a_retried_one(
    version: Any, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with receiving(Answer(500)) as receiver:
        hook(owner, version.model, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            for n in range(4):
                comment_on_version(actor=owner, version=version, comment=f"Comment {n}")
        run_tasks(wait_for_deferred=3)
    comments = [json.loads(r.body)["data"]["comment"] for r in receiver.received]
    assert comments == ["Comment 0", "Comment 0", "Comment 1", "Comment 2", "Comment 3"]


def test_events_written_while_no_worker_runs_go_out_in_order_when_one_starts(
    version: Any, owner: Any, editor: Any, reviewer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with receiving() as receiver:
        hook(owner, version.model, receiver.url)
        hook(owner, version.model, receiver.url.replace("catalog", "second"))
        with django_capture_on_commit_callbacks(execute=True):
            for n in range(5):
                comment_on_version(actor=owner, version=version, comment=f"Comment {n}")
        assert receiver.received == []
        assert Delivery.objects.filter(status=DeliveryStatus.PENDING).count() == 10
        run_tasks()
    for path in ("/hooks/catalog", "/hooks/second"):
        comments = [json.loads(r.body)["data"]["comment"] for r in receiver.received if r.path == path]
        assert comments == [f"Comment {n}" for n in range(5)]


@pytest.mark.django_db(transaction=True)
def test_nothing_is_delivered_for_a_change_that_rolled_back(version: Any, owner: Any) -> None:
    with receiving() as receiver:
        hook(owner, version.model, receiver.url)

        def change_then_fail() -> None:
            with transaction.atomic():
                comment_on_version(actor=owner, version=version, comment="Never happened")
                raise RuntimeError("the request failed after the change")

        with pytest.raises(RuntimeError):
            change_then_fail()
        comment_on_version(actor=owner, version=version, comment="Happened")
        run_tasks()

    assert [json.loads(r.body)["data"]["comment"] for r in receiver.received] == ["Happened"]
    assert Event.objects.count() == 1
    assert ActivityEntry.objects.filter(verb=Verb.COMMENTED).count() == 1


def test_a_slack_webhook_posts_the_human_text(
    version: Any, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with receiving() as receiver:
        hook(owner, version.model, receiver.url, payload_format="slack")
        with django_capture_on_commit_callbacks(execute=True):
            set_lock_level(actor=owner, version=version, lock_level="closed", comment="Frozen for the audit.")
        run_tasks()
    assert [json.loads(r.body) for r in receiver.received] == [
        {"text": "owner changed the lock level of Churn Predictor v1.0.0 from Open to Closed"}
    ]


def test_after_a_rotation_both_secrets_verify_during_the_grace_period(
    version: Any, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with receiving() as receiver:
        webhook, old = hook(owner, version.model, receiver.url)
        new = rotate_secret(actor=owner, webhook=webhook, grace_hours=1)
        with django_capture_on_commit_callbacks(execute=True):
            comment_on_version(actor=owner, version=version, comment="Rotated")
        run_tasks()  # signed as it is sent: with both secrets while the old one is in its grace period
        rotate_secret(actor=owner, webhook=webhook, grace_hours=0)
        newest = Webhook.objects.get().secret
        with django_capture_on_commit_callbacks(execute=True):
            comment_on_version(actor=owner, version=version, comment="Rotated again, no grace")
        run_tasks()
    during, after = receiver.received
    assert old != new
    Verifier(old).verify(during.body, during.headers)
    Verifier(new).verify(during.body, during.headers)
    Verifier(newest).verify(after.body, after.headers)
    for stale in (old, new):
        with pytest.raises(WebhookVerificationError):
            Verifier(stale).verify(after.body, after.headers)


def test_in_test_mode_events_are_logged_not_sent(
    version: Any, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with receiving() as receiver:
        webhook, _ = hook(owner, version.model, receiver.url, state=State.TEST)
        with django_capture_on_commit_callbacks(execute=True):
            comment_on_version(actor=owner, version=version, comment="Quietly")
        run_tasks()
    assert receiver.received == []
    assert [d.status for d in deliveries(webhook)] == [DeliveryStatus.LOGGED]


def test_a_disabled_webhook_gets_no_events(version: Any, owner: Any, django_capture_on_commit_callbacks: Any) -> None:
    with receiving() as receiver:
        hook(owner, version.model, receiver.url, state=State.DISABLED)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            comment_on_version(actor=owner, version=version, comment="Nobody listens")
        run_tasks()
    assert callbacks == []
    assert receiver.received == []
    assert Event.objects.count() == 0


def test_the_delivery_log_is_pruned_after_its_days_but_pending_deliveries_stay(
    version: Any, owner: Any, settings: Any
) -> None:
    settings.WEBHOOK_LOG_DAYS = 30
    webhook, _ = hook(owner, version.model, "http://127.0.0.1:9/hook")
    comment_on_version(actor=owner, version=version, comment="Old and delivered")
    comment_on_version(actor=owner, version=version, comment="Old and still pending")
    comment_on_version(actor=owner, version=version, comment="Recent")
    old_done, old_pending, recent = deliveries(webhook)
    long_ago = old_done.created_at - timedelta(days=31)
    Delivery.objects.filter(pk__in=[old_done.pk, old_pending.pk]).update(created_at=long_ago)
    Event.objects.filter(pk__in=[old_done.event_id, old_pending.event_id]).update(created_at=long_ago)
    Delivery.objects.filter(pk=old_done.pk).update(status=DeliveryStatus.DELIVERED)

    out = StringIO()
    call_command("prune_webhook_deliveries", stdout=out)

    assert out.getvalue() == "Deleted 1 webhook deliveries.\n"
    assert [d.pk for d in deliveries(webhook)] == [old_pending.pk, recent.pk]
    assert Event.objects.count() == 2


def _webhook_runs() -> int:
    return len(queued("deliver_webhook")) + len(queued("fan_out"))


def test_an_approval_writes_its_events_together_and_queues_each_webhook_once(
    version: Any, owner: Any, editor: Any, reviewer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with receiving() as receiver:
        first, _ = hook(owner, version.model, receiver.url)
        second, _ = hook(owner, version.model, f"{receiver.url}/second")
        with django_capture_on_commit_callbacks(execute=True):
            production = VersionFactory.create(model=version.model, created_by=owner, name="v0.9")
            first_request = request_stage_change(actor=owner, version=production, to_stage=Stage.PRODUCTION)
            approve_change_request(actor=reviewer, change_request=first_request)
            promote = request_stage_change(
                actor=editor, version=version, to_stage=Stage.PRODUCTION, archive_others=True
            )
        run_tasks()
        runs_before, received_before = _webhook_runs(), len(receiver.received)

        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
            approve_change_request(actor=reviewer, change_request=promote)
        sql = [query["sql"] for query in queries]
        # The approval, the move and the archived version: three events, written together.
        assert sum('FROM "webhooks_webhook"' in s for s in sql) == 1
        assert sum('INSERT INTO "webhooks_event"' in s for s in sql) == 1
        assert sum('INSERT INTO "webhooks_delivery"' in s for s in sql) == 1
        assert _webhook_runs() - runs_before == 1, "one run queued for the two webhooks, once"
        run_tasks()

    texts = [json.loads(r.body)["data"]["text"] for r in receiver.received[received_before:]]
    expected = [
        "reviewer approved moving Churn Predictor v1.0.0 from Unassigned to Production",
        "Churn Predictor v1.0.0 moved from Unassigned to Production",
        "Churn Predictor v0.9 moved from Production to Archived (Archived because v1.0.0 moved to Production.)",
    ]
    assert sorted(texts) == sorted(expected * 2)
    for webhook in (first, second):
        sent = [d.event.payload["data"]["text"] for d in deliveries(webhook)][-3:]
        assert sent == expected, "each webhook gets them in the order they happened"
        assert all(d.status == DeliveryStatus.DELIVERED for d in deliveries(webhook))


def test_a_run_queued_in_a_savepoint_that_rolled_back_is_queued_again(
    version: Any, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with receiving() as receiver:
        hook(owner, version.model, receiver.url, events=["comment.added"])
        runs_before = _webhook_runs()
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            with contextlib.suppress(RuntimeError), transaction.atomic():  # a savepoint that rolls back
                comment_on_version(actor=owner, version=version, comment="Rolled back.")
                raise RuntimeError
            comment_on_version(actor=owner, version=version, comment="Kept.")
            comment_on_version(actor=owner, version=version, comment="Kept too.")
        assert _webhook_runs() - runs_before == 1
        run_tasks()

    assert [json.loads(r.body)["data"]["comment"] for r in receiver.received] == ["Kept.", "Kept too."]
