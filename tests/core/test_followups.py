"""core.followups: the tasks a change queues inside `together()` go out as one task (on the database queue, one row in
the change's transaction; on Redis, once it commits), which queues each of them from the worker; a task of a savepoint
that rolled back, or of a block that failed, is not queued."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from django.core.mail import EmailMessage
from django.db import transaction

from core import followups
from core.mail import queue_mail, send_mail_task
from tests.tasks import FOLLOW_UP, queued, run_tasks
from tests.webhooks.conftest import queue  # noqa: F401  (the database queue, then Redis)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queue")]
MAIL = send_mail_task.module_path


def test_tasks_queued_together_go_out_as_one_task_that_queues_each(
    mailoutbox: list[EmailMessage], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic(), followups.together():
        queue_mail("One", "The first.", ["ann@example.com"])
        queue_mail("Two", "The second.", ["bob@example.com"])

    assert queued(unpacked=False) == [FOLLOW_UP]
    assert queued() == [MAIL, MAIL]
    assert run_tasks() == 3  # the follow-up, then each mail
    assert sorted((m.subject, m.to) for m in mailoutbox) == [("One", ["ann@example.com"]), ("Two", ["bob@example.com"])]


def test_a_single_task_is_queued_as_itself(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic(), followups.together():
        queue_mail("Alone", "Just this one.", ["ann@example.com"])

    assert queued(unpacked=False) == [MAIL]


def test_a_task_of_a_savepoint_that_rolled_back_is_not_queued(
    mailoutbox: list[EmailMessage], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic(), followups.together():
        queue_mail("Kept", "Committed with its change.", ["ann@example.com"])
        with contextlib.suppress(RuntimeError), transaction.atomic():
            queue_mail("Dropped", "Its change rolled back.", ["bob@example.com"])
            raise RuntimeError

    assert queued(unpacked=False) == [MAIL]
    run_tasks()
    assert [m.subject for m in mailoutbox] == ["Kept"]


def test_nothing_is_queued_when_the_block_fails(django_capture_on_commit_callbacks: Any) -> None:
    with (
        contextlib.suppress(RuntimeError),
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
        followups.together(),
    ):
        queue_mail("Never", "The change failed.", ["ann@example.com"])
        raise RuntimeError

    assert queued() == []


def test_outside_a_block_each_task_is_queued_on_its_own(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        queue_mail("One", "The first.", ["ann@example.com"])
        queue_mail("Two", "The second.", ["bob@example.com"])

    assert queued(unpacked=False) == [MAIL, MAIL]
