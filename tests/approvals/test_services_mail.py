"""The mail the approval services send after commit: to the reviewers on a new request, to the requester on a
decision, and never a change undone by a failing mail server."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django_tasks_db.models import DBTaskResult

from activity.models import ActivityEntry, Verb
from approvals.models import Status
from approvals.services import (
    approve_change_request,
    cancel_change_request,
    reject_change_request,
    request_stage_change,
    set_approval_policy,
)
from catalog.models import ModelVersion, Stage
from catalog.permissions import Role
from catalog.services import add_collaborator
from tests.factories import GroupFactory, UserFactory
from tests.helpers import refetch, stage_of
from tests.tasks import closed_port, queued, run_tasks

# Mail on a new request


def test_request_mails_the_reviewers_directly_and_via_groups_on_commit(
    version: ModelVersion,
    owner: Any,
    editor: Any,
    reviewer: Any,
    viewer: Any,
    editor2: Any,
    mailoutbox: list[EmailMessage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    group = GroupFactory.create(name="ml-reviewers")
    gina = UserFactory.create(username="gina")
    gina.groups.add(group)
    add_collaborator(actor=owner, model=version.model, group=group, role=Role.REVIEWER)
    retired = UserFactory.create(username="retired", is_active=False)
    add_collaborator(actor=owner, model=version.model, user=retired, role=Role.REVIEWER)
    mute = UserFactory.create(username="mute", email="")
    add_collaborator(actor=owner, model=version.model, user=mute, role=Role.REVIEWER)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING, comment="Passed the suite.")
    assert mailoutbox == []
    for callback in callbacks:
        callback()
    assert mailoutbox == [], "the mail went out before a worker ran the queue"
    assert len(queued("send_mail_task")) == 1
    run_tasks()

    [message] = mailoutbox
    assert message.to == ["gina@example.com", "owner@example.com", "reviewer@example.com"]
    assert message.subject == "[Model Catalog] editor requests Staging for Churn Predictor v1.0.0"
    assert "from Unassigned to Staging" in message.body
    assert "Passed the suite." in message.body
    assert "/models/churn-predictor/" in message.body


def test_request_by_the_owner_does_not_mail_the_owner(
    version: ModelVersion,
    owner: Any,
    reviewer: Any,
    mailoutbox: list[EmailMessage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        request_stage_change(actor=owner, version=version, to_stage=Stage.DEVELOPMENT)
    run_tasks()

    assert [m.to for m in mailoutbox] == [["reviewer@example.com"]]


def test_request_without_any_reviewer_to_mail_sends_nothing(
    version: ModelVersion, owner: Any, mailoutbox: list[EmailMessage], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        request_stage_change(actor=owner, version=version, to_stage=Stage.DEVELOPMENT)
    run_tasks()

    assert mailoutbox == []


# Mail on a decision


def requested(mailoutbox: list[EmailMessage], **kwargs: Any) -> Any:
    """A request whose mail to the reviewers has gone out, and is set aside."""
    change_request = request_stage_change(**kwargs)
    run_tasks()
    mailoutbox.clear()
    return change_request


def test_approval_that_applies_the_change_mails_the_requester(
    version: ModelVersion,
    editor: Any,
    reviewer: Any,
    mailoutbox: list[EmailMessage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    change_request = requested(
        mailoutbox, actor=editor, version=version, to_stage=Stage.DEVELOPMENT, comment="Please promote."
    )

    with django_capture_on_commit_callbacks(execute=True):
        approve_change_request(actor=reviewer, change_request=change_request, comment="Fine, ship it.")
    run_tasks()

    [message] = mailoutbox
    assert message.to == ["editor@example.com"]
    assert message.subject == "[Model Catalog] Your request for Churn Predictor v1.0.0 was approved"
    assert "reviewer approved your request to move Churn Predictor v1.0.0 from Unassigned to Development" in (
        message.body
    )
    # The comment under the decision is the reviewer's, as on a rejection, not the requester's own echoed back.
    assert "Fine, ship it." in message.body
    assert "Please promote." not in message.body


def test_a_first_of_two_approvals_mails_nobody(
    version: ModelVersion,
    owner: Any,
    editor: Any,
    reviewer: Any,
    mailoutbox: list[EmailMessage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    set_approval_policy(actor=owner, model=version.model, required_approvals=2)
    change_request = requested(mailoutbox, actor=editor, version=version, to_stage=Stage.DEVELOPMENT)

    with django_capture_on_commit_callbacks(execute=True):
        approve_change_request(actor=reviewer, change_request=change_request)
    run_tasks()

    assert mailoutbox == []


def test_rejection_mails_the_requester_with_the_reviewers_comment(
    version: ModelVersion,
    editor: Any,
    reviewer: Any,
    mailoutbox: list[EmailMessage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    change_request = requested(mailoutbox, actor=editor, version=version, to_stage=Stage.DEVELOPMENT)

    with django_capture_on_commit_callbacks(execute=True):
        reject_change_request(actor=reviewer, change_request=change_request, comment="Metrics regressed.")
    run_tasks()

    [message] = mailoutbox
    assert message.to == ["editor@example.com"]
    assert message.subject == "[Model Catalog] Your request for Churn Predictor v1.0.0 was rejected"
    assert "Metrics regressed." in message.body


def test_cancelling_mails_nobody(
    version: ModelVersion,
    editor: Any,
    reviewer: Any,
    mailoutbox: list[EmailMessage],
    django_capture_on_commit_callbacks: Any,
) -> None:
    change_request = requested(mailoutbox, actor=editor, version=version, to_stage=Stage.DEVELOPMENT)

    with django_capture_on_commit_callbacks(execute=True):
        cancel_change_request(actor=editor, change_request=change_request)
    run_tasks()

    assert mailoutbox == []


@pytest.fixture
def mail_server_down(settings: Any) -> None:
    """SMTP to a port on this machine where nothing listens: every attempt is refused; retries come at once."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    settings.MAIL_RETRY_SECONDS = 0.01
    settings.MAIL_MAX_ATTEMPTS = 3


@pytest.mark.usefixtures("mail_server_down")
def test_a_failing_mail_server_does_not_undo_a_request_or_an_approval(
    version: ModelVersion,
    editor: Any,
    reviewer: Any,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)
    with django_capture_on_commit_callbacks(execute=True) as more:
        approve_change_request(actor=reviewer, change_request=change_request)
    assert len(callbacks) == len(more) == 1
    assert refetch(change_request).status == Status.APPROVED
    assert stage_of(version) == Stage.DEVELOPMENT

    with caplog.at_level(logging.WARNING, logger="core.mail"):
        assert run_tasks(wait_for_deferred=5) == 6  # two messages, three attempts each

    assert sorted((r.levelname, r.getMessage().split(" to ")[0]) for r in caplog.records if r.name == "core.mail") == [
        ("ERROR", "Gave up sending '[Model Catalog] Your request for Churn Predictor v1.0.0 was approved'"),
        ("ERROR", "Gave up sending '[Model Catalog] editor requests Development for Churn Predictor v1.0.0'"),
        ("WARNING", "Could not send '[Model Catalog] Your request for Churn Predictor v1.0.0 was approved'"),
        ("WARNING", "Could not send '[Model Catalog] Your request for Churn Predictor v1.0.0 was approved'"),
        ("WARNING", "Could not send '[Model Catalog] editor requests Development for Churn Predictor v1.0.0'"),
        ("WARNING", "Could not send '[Model Catalog] editor requests Development for Churn Predictor v1.0.0'"),
    ]
    # The failures stay visible as failed tasks (the admin's Task results), with the reason.
    failed = DBTaskResult.objects.filter(status="FAILED")
    assert failed.count() == 2
    assert {result.exception_class_path for result in failed} == {"core.mail.MailNotSent"}
    assert mail.outbox == []
    assert refetch(change_request).status == Status.APPROVED


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("mail_server_down")
def test_a_failing_mail_server_after_a_real_commit_leaves_the_change_in_place(
    version: ModelVersion, editor: Any, reviewer: Any
) -> None:
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)
    reject_change_request(actor=reviewer, change_request=change_request)
    run_tasks(wait_for_deferred=5)

    assert DBTaskResult.objects.filter(status="FAILED").count() == 2
    assert refetch(change_request).status == Status.REJECTED
    assert ActivityEntry.objects.filter(verb=Verb.STAGE_CHANGE_REJECTED).count() == 1
