"""Fixtures shared by the approval workflow's test modules."""

from __future__ import annotations

from typing import Any

import pytest

from approvals import services
from approvals.models import StageChangeRequest
from catalog.models import Stage
from tests.helpers import REQUEST_COMMENT


@pytest.fixture
def pending(version: Any, editor: Any, reviewer: Any, viewer: Any) -> StageChangeRequest:
    """editor asks to move v1.0.0 from Unassigned to Staging; reviewer and viewer are there to look at it."""
    return services.request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING, comment=REQUEST_COMMENT)
