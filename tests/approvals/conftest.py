"""Fixtures shared by the approval workflow's test modules."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.mail import EmailMessage

from approvals import services
from approvals.models import StageChangeRequest
from catalog.models import Stage
from tests.helpers import REQUEST_COMMENT, ChangesNothing, database_state


@pytest.fixture
def pending(version: Any, editor: Any, reviewer: Any, viewer: Any) -> StageChangeRequest:
    """editor asks to move v1.0.0 from Unassigned to Staging; reviewer and viewer are there to look at it."""
    return services.request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING, comment=REQUEST_COMMENT)


@pytest.fixture
def changes_nothing(django_capture_on_commit_callbacks: Any, mailoutbox: list[EmailMessage]) -> ChangesNothing:
    """A context manager asserting that the code inside wrote nothing and scheduled no mail."""

    @contextlib.contextmanager
    def check() -> Iterator[None]:
        before, sent = database_state(), len(mailoutbox)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            yield
        assert callbacks == []
        assert len(mailoutbox) == sent
        assert database_state() == before

    return check
