"""Mail leaves through the task queue: a service queues it with its change (core.followups), a worker sends it once the
change has committed, and a refusal by the mail server is retried with growing waits, then recorded as a failed task
(admin: Task results). A mail failure never undoes or hides the change that caused it."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django_tasks import task

from core import clock, followups

logger = logging.getLogger(__name__)


class MailNotSent(Exception):
    """The mail server refused a message on its last attempt."""


@task()
def send_mail_task(*, subject: str, body: str, to: list[str], attempt: int = 1) -> int:
    """Send one message; on a refusal queue the next attempt, or fail the task after the last one."""
    try:
        return send_mail(subject, body, None, to)
    except Exception as error:
        if attempt >= settings.MAIL_MAX_ATTEMPTS:
            logger.error("Gave up sending %r to %s after %d attempts: %s", subject, to, attempt, error)
            raise MailNotSent(f"{subject!r} to {', '.join(to)}: {error}") from error
        wait = timedelta(seconds=settings.MAIL_RETRY_SECONDS * 2 ** (attempt - 1))
        logger.warning("Could not send %r to %s (attempt %d, next in %s): %s", subject, to, attempt, wait, error)
        send_mail_task.using(run_after=clock.now() + wait).enqueue(
            subject=subject, body=body, to=to, attempt=attempt + 1
        )
        return 0


def queue_mail(subject: str, body: str, recipients: Iterable[str]) -> None:
    """Queue a message to recipients for when the surrounding transaction commits (at once outside one)."""
    to = sorted(set(recipients))
    if to:
        followups.queue(send_mail_task, subject=subject, body=body, to=to)
