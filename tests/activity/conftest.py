"""Fixtures of the activity log's tests."""

from __future__ import annotations

from typing import Any

import pytest

from activity.models import ActivityEntry, Verb
from activity.services import record_activity
from catalog.models import RegisteredModel


@pytest.fixture
def entry(model: RegisteredModel, owner: Any) -> ActivityEntry:
    """One entry of the log, written by the service, for the tests that try to change or delete it."""
    return record_activity(actor=owner, verb=Verb.MODEL_EDITED, model=model, comment="original comment")
