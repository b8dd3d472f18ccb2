"""request_stage_change: success, each guard, the activity entry written and nothing changed on refusal."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from activity.models import Verb
from approvals.models import StageChangeRequest, Status
from approvals.services import (
    WorkflowError,
    cancel_change_request,
    reject_change_request,
    request_stage_change,
    set_approval_policy,
    set_lock_level,
)
from catalog.models import LockLevel, ModelVersion, Stage
from tests.helpers import ChangesNothing, entries_since, entry_mark, refetch, set_stage, stage_of


def test_request_stage_change_opens_a_pending_request(version: ModelVersion, editor: Any) -> None:
    mark = entry_mark()

    change_request = request_stage_change(
        actor=editor, version=version, to_stage=Stage.DEVELOPMENT, comment="  Ready for tests.  "
    )

    change_request = refetch(change_request)
    assert change_request.version == version
    assert change_request.requester == editor
    assert (change_request.from_stage, change_request.to_stage) == (Stage.UNASSIGNED, Stage.DEVELOPMENT)
    assert change_request.comment == "Ready for tests."
    assert change_request.status == Status.PENDING
    assert change_request.required_approvals == 1
    assert (change_request.skips_stages, change_request.archive_others) == (False, False)
    assert (change_request.resolved_by, change_request.resolved_at) == (None, None)
    assert stage_of(version) == Stage.UNASSIGNED
    assert entries_since(mark) == [
        (
            Verb.STAGE_CHANGE_REQUESTED,
            "editor",
            "v1.0.0",
            Stage.UNASSIGNED,
            Stage.DEVELOPMENT,
            "Ready for tests.",
            {"change_request": change_request.pk, "skipped": []},
        )
    ]


def test_an_owner_may_request_a_stage_change(version: ModelVersion, owner: Any) -> None:
    change_request = request_stage_change(actor=owner, version=version, to_stage=Stage.STAGING)

    assert change_request.requester == owner
    assert change_request.status == Status.PENDING


def test_request_copies_the_model_approval_policy(version: ModelVersion, owner: Any, editor: Any) -> None:
    set_approval_policy(actor=owner, model=version.model, required_approvals=3)

    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)

    assert refetch(change_request).required_approvals == 3


@pytest.mark.parametrize("persona", ["reviewer", "viewer", "outsider"])
def test_request_is_refused_to_non_editors(
    version: ModelVersion, changes_nothing: ChangesNothing, persona: str, request: pytest.FixtureRequest
) -> None:
    actor = request.getfixturevalue(persona)

    with changes_nothing(), pytest.raises(PermissionDenied, match="Only editors and owners of this model can request"):
        request_stage_change(actor=actor, version=version, to_stage=Stage.DEVELOPMENT)


@pytest.mark.parametrize(("level", "label"), [(LockLevel.CLOSED, "Closed"), (LockLevel.REDACT, "Redact")])
def test_request_is_refused_for_a_locked_version(
    version: ModelVersion, owner: Any, editor: Any, changes_nothing: ChangesNothing, level: LockLevel, label: str
) -> None:
    set_lock_level(actor=owner, version=version, lock_level=level)

    with (
        changes_nothing(),
        pytest.raises(WorkflowError, match=rf"^Version v1\.0\.0 is locked \({label}\); its stage cannot change\.$"),
    ):
        request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)


def test_request_is_refused_for_the_current_stage(
    version: ModelVersion, editor: Any, changes_nothing: ChangesNothing
) -> None:
    set_stage(version, Stage.STAGING)

    with changes_nothing(), pytest.raises(WorkflowError, match=r"^Version v1\.0\.0 is already in Staging\.$"):
        request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)


@pytest.mark.parametrize("second", ["editor", "editor2", "owner"])
def test_request_is_refused_while_another_is_pending_and_names_it(
    version: ModelVersion,
    editor: Any,
    editor2: Any,
    changes_nothing: ChangesNothing,
    second: str,
    request: pytest.FixtureRequest,
) -> None:
    request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)

    with (
        changes_nothing(),
        pytest.raises(
            WorkflowError,
            match=r"^Version v1\.0\.0 already has a pending request \(Unassigned → Staging, by editor\)\. "
            r"It must be approved, rejected or cancelled first\.$",
        ),
    ):
        request_stage_change(actor=request.getfixturevalue(second), version=version, to_stage=Stage.DEVELOPMENT)


def test_a_new_request_is_allowed_once_the_last_is_resolved(version: ModelVersion, editor: Any, reviewer: Any) -> None:
    first = request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)
    cancel_change_request(actor=editor, change_request=first)
    second = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)
    reject_change_request(actor=reviewer, change_request=second)

    third = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)

    assert third.status == Status.PENDING
    assert StageChangeRequest.objects.filter(version=version).count() == 3


def test_request_accepts_a_comment_of_5000_characters(version: ModelVersion, editor: Any) -> None:
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT, comment="c" * 5000)

    assert len(refetch(change_request).comment) == 5000


def test_request_refuses_a_comment_over_5000_characters(
    version: ModelVersion, editor: Any, changes_nothing: ChangesNothing
) -> None:
    with (
        changes_nothing(),
        pytest.raises(WorkflowError, match=r"^The comment has 5,001 characters; at most 5,000 are allowed\.$"),
    ):
        request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT, comment="c" * 5001)


@pytest.mark.parametrize("to_stage", ["beta", "", "Staging", "STAGING"])
def test_request_refuses_an_unknown_stage(
    version: ModelVersion, editor: Any, changes_nothing: ChangesNothing, to_stage: str
) -> None:
    with changes_nothing(), pytest.raises(WorkflowError, match=r"^Choose one of the stages\.$"):
        request_stage_change(actor=editor, version=version, to_stage=to_stage)


@pytest.mark.parametrize(
    ("from_stage", "to_stage", "skipped"),
    [
        (Stage.UNASSIGNED, Stage.PRODUCTION, ["Development", "Staging"]),
        (Stage.UNASSIGNED, Stage.STAGING, ["Development"]),
        (Stage.DEVELOPMENT, Stage.PRODUCTION, ["Staging"]),
        (Stage.UNASSIGNED, Stage.DEVELOPMENT, []),
        (Stage.STAGING, Stage.PRODUCTION, []),
        (Stage.UNASSIGNED, Stage.ARCHIVED, []),
        (Stage.DEVELOPMENT, Stage.ARCHIVED, []),
        (Stage.PRODUCTION, Stage.DEVELOPMENT, []),
        (Stage.STAGING, Stage.UNASSIGNED, []),
        (Stage.ARCHIVED, Stage.UNASSIGNED, []),
        (Stage.ARCHIVED, Stage.PRODUCTION, []),
    ],
)
def test_request_flags_a_forward_move_that_skips_stages(
    version: ModelVersion, editor: Any, from_stage: Stage, to_stage: Stage, skipped: list[str]
) -> None:
    if from_stage != Stage.UNASSIGNED:
        set_stage(version, from_stage)
    mark = entry_mark()

    change_request = request_stage_change(actor=editor, version=version, to_stage=to_stage)

    assert refetch(change_request).skips_stages is bool(skipped)
    [entry] = entries_since(mark)
    assert entry[-1] == {"change_request": change_request.pk, "skipped": skipped}


@pytest.mark.parametrize(
    ("to_stage", "kept"),
    [
        (Stage.STAGING, True),
        (Stage.PRODUCTION, True),
        (Stage.DEVELOPMENT, False),
        (Stage.ARCHIVED, False),
    ],
)
def test_request_keeps_archive_others_only_for_staging_and_production(
    version: ModelVersion, editor: Any, to_stage: Stage, kept: bool
) -> None:
    change_request = request_stage_change(actor=editor, version=version, to_stage=to_stage, archive_others=True)

    assert refetch(change_request).archive_others is kept
