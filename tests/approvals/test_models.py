"""Fields, defaults and database constraints of stage-change requests and reviews."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from approvals.models import Decision, Review, StageChangeRequest, Status
from catalog.models import ModelVersion, Stage
from tests.helpers import raw_request


def _raw_review(change_request: StageChangeRequest, reviewer: Any, **fields: Any) -> Review:
    fields.setdefault("decision", Decision.APPROVE)
    fields.setdefault("created_at", timezone.now())
    return Review.objects.create(change_request=change_request, reviewer=reviewer, **fields)


def test_a_new_request_is_pending_with_nothing_resolved(version: ModelVersion, editor: Any) -> None:
    change_request = raw_request(version, editor)

    change_request.refresh_from_db()
    assert change_request.status == Status.PENDING
    assert change_request.archive_others is False
    assert change_request.skips_stages is False
    assert change_request.comment == ""
    assert change_request.resolved_by is None
    assert change_request.resolved_at is None


def test_request_str_names_the_version_the_move_and_the_status(version: ModelVersion, editor: Any) -> None:
    change_request = raw_request(version, editor, to_stage=Stage.STAGING)

    assert str(change_request) == "Churn Predictor v1.0.0 unassigned → staging (pending)"


def test_two_pending_requests_for_one_version_are_refused_by_the_database(
    version: ModelVersion, editor: Any, owner: Any
) -> None:
    raw_request(version, editor)

    with pytest.raises(IntegrityError), transaction.atomic():
        raw_request(version, owner, to_stage=Stage.STAGING)

    assert StageChangeRequest.objects.filter(version=version).count() == 1


@pytest.mark.parametrize("status", [Status.APPROVED, Status.REJECTED, Status.CANCELLED])
def test_a_resolved_request_cannot_be_reopened_beside_a_pending_one(
    version: ModelVersion, editor: Any, status: Status
) -> None:
    resolved = raw_request(version, editor, status=status)
    raw_request(version, editor)

    resolved.status = Status.PENDING
    with pytest.raises(IntegrityError), transaction.atomic():
        resolved.save(update_fields=["status"])


def test_a_pending_request_may_sit_beside_resolved_ones(version: ModelVersion, editor: Any) -> None:
    for status in (Status.APPROVED, Status.REJECTED, Status.CANCELLED, Status.CANCELLED, Status.APPROVED):
        raw_request(version, editor, status=status)

    raw_request(version, editor)

    assert StageChangeRequest.objects.filter(version=version).count() == 6
    assert StageChangeRequest.objects.filter(version=version, status=Status.PENDING).count() == 1


def test_pending_requests_of_different_versions_coexist(version: ModelVersion, editor: Any, owner: Any) -> None:
    other = ModelVersion.objects.create(model=version.model, name="v2.0.0", number=2, created_by=owner)

    raw_request(version, editor)
    raw_request(other, editor)

    assert StageChangeRequest.objects.filter(status=Status.PENDING).count() == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "open"},
        {"status": ""},
        {"from_stage": "beta"},
        {"to_stage": "beta"},
        {"from_stage": Stage.STAGING, "to_stage": Stage.STAGING},
        {"from_stage": Stage.UNASSIGNED, "to_stage": Stage.UNASSIGNED},
        {"required_approvals": 0},
        {"required_approvals": 6},
    ],
    ids=[
        "unknown_status",
        "empty_status",
        "unknown_from",
        "unknown_to",
        "no_move",
        "no_move_unassigned",
        "zero",
        "six",
    ],
)
def test_the_database_refuses_an_invalid_request(version: ModelVersion, editor: Any, fields: dict[str, Any]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        raw_request(version, editor, **fields)

    assert not StageChangeRequest.objects.exists()


@pytest.mark.parametrize("required", [1, 2, 3, 4, 5])
def test_the_database_accepts_one_to_five_required_approvals(version: ModelVersion, editor: Any, required: int) -> None:
    assert raw_request(version, editor, required_approvals=required).required_approvals == required


def test_one_review_per_reviewer_per_request(version: ModelVersion, editor: Any, reviewer: Any) -> None:
    change_request = raw_request(version, editor)
    _raw_review(change_request, reviewer)

    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_review(change_request, reviewer, decision=Decision.REJECT)

    assert list(change_request.reviews.values_list("decision", flat=True)) == [Decision.APPROVE]


def test_several_reviewers_may_review_one_request_and_one_reviewer_several_requests(
    version: ModelVersion, editor: Any, reviewer: Any, owner: Any
) -> None:
    first = raw_request(version, editor, status=Status.APPROVED)
    second = raw_request(version, editor)

    _raw_review(first, reviewer)
    _raw_review(first, owner)
    _raw_review(second, reviewer, decision=Decision.REJECT)

    assert first.reviews.count() == 2
    assert second.reviews.count() == 1


def test_the_database_refuses_an_unknown_decision(version: ModelVersion, editor: Any, reviewer: Any) -> None:
    change_request = raw_request(version, editor)

    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_review(change_request, reviewer, decision="maybe")

    assert not Review.objects.exists()


def test_requests_list_newest_first_and_reviews_oldest_first(
    version: ModelVersion, editor: Any, reviewer: Any, owner: Any
) -> None:
    earlier = timezone.now() - datetime.timedelta(hours=1)
    old = raw_request(version, editor, status=Status.CANCELLED, created_at=earlier)
    new = raw_request(version, editor)
    second = _raw_review(new, owner)
    first = _raw_review(new, reviewer, created_at=earlier)

    assert list(StageChangeRequest.objects.all()) == [new, old]
    assert list(new.reviews.all()) == [first, second]
