"""Random sequences of requests, reviews, cancellations and locks by random personas keep the workflow's invariants."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from hypothesis import event, given, settings
from hypothesis import strategies as st

from activity.models import ActivityEntry, Verb
from approvals.models import Decision, StageChangeRequest, Status
from approvals.services import (
    WorkflowError,
    approve_change_request,
    cancel_change_request,
    reject_change_request,
    request_stage_change,
    set_approval_policy,
    set_lock_level,
)
from catalog.models import LOCK_ORDER, STAGE_ORDER, LockLevel, ModelVersion, RegisteredModel, Stage, stage_count_field
from catalog.permissions import Role
from catalog.services import add_collaborator
from tests.factories import ModelFactory, UserFactory, VersionFactory

PERSONAS: dict[str, Role | None] = {
    "owner": None,
    "editor": Role.EDITOR,
    "editor2": Role.EDITOR,
    "reviewer": Role.REVIEWER,
    "reviewer2": Role.REVIEWER,
    "viewer": Role.VIEWER,
}
REQUESTERS = {"owner", "editor", "editor2"}
REVIEWERS = {"owner", "reviewer", "reviewer2"}
LOCKERS = {"owner", "editor", "editor2"}


class Step(NamedTuple):
    action: str
    persona: str
    version: int
    stage: Stage
    lock_level: LockLevel


def _steps(action: str, usual: list[str], levels: tuple[LockLevel, ...] = LOCK_ORDER) -> st.SearchStrategy[Step]:
    """Steps of one action, mostly by personas who may take it, sometimes by anyone, so both paths are common."""
    return st.builds(
        Step,
        action=st.just(action),
        persona=st.one_of(st.sampled_from(usual), st.sampled_from(sorted(PERSONAS))),
        version=st.integers(min_value=0, max_value=2),
        stage=st.sampled_from(STAGE_ORDER),
        lock_level=st.sampled_from(levels),
    )


steps = st.one_of(
    _steps("request", ["editor", "editor2", "owner"]),
    _steps("approve", ["reviewer", "reviewer2", "owner"]),
    _steps("request", ["editor", "editor2", "owner"]),
    _steps("approve", ["reviewer", "reviewer2", "owner"]),
    _steps("approve", ["reviewer", "reviewer2", "owner"]),
    _steps("reject", ["reviewer", "reviewer2", "owner"]),
    _steps("cancel", ["editor", "editor2", "owner"]),
    _steps("lock", ["editor", "editor2", "owner"], (LockLevel.CLOSED, LockLevel.REDACT)),
    _steps("lock", ["owner"], (LockLevel.OPEN,)),
)


@dataclass
class World:
    model: RegisteredModel
    people: dict[str, Any]
    versions: list[ModelVersion]
    lock_changes: Counter[int] = field(default_factory=Counter)


def _build(version_count: int, required: int) -> World:
    owner = UserFactory.create(username="owner")
    model = ModelFactory.create(owner=owner, name="Property Model", visibility="private")
    people = {"owner": owner}
    for name, role in PERSONAS.items():
        if role is not None:
            people[name] = UserFactory.create(username=name)
            add_collaborator(actor=owner, model=model, user=people[name], role=role)
    if required != 1:
        set_approval_policy(actor=owner, model=model, required_approvals=required)
    versions = [VersionFactory.create(model=model, created_by=owner, name=f"v{i}") for i in range(version_count)]
    return World(model=model, people=people, versions=versions)


def _pick(world: World, step: Step) -> tuple[ModelVersion, StageChangeRequest | None]:
    """The version a step acts on and that version's latest request; reviews and cancellations go to a pending
    request when there is one, so that random scripts reach the interesting paths often."""
    pks = [v.pk for v in world.versions]
    if step.action in {"approve", "reject", "cancel"}:
        pending = list(
            StageChangeRequest.objects.filter(version_id__in=pks, status=Status.PENDING)
            .order_by("version_id")
            .values_list("version_id", flat=True)
        )
        pks = pending or pks
    version = ModelVersion.objects.select_related("model").get(pk=pks[step.version % len(pks)])
    latest = StageChangeRequest.objects.filter(version=version).select_related("requester").order_by("-pk").first()
    return version, latest


def _expected(world: World, step: Step, version: ModelVersion, target: StageChangeRequest | None) -> str:
    """What the rules say the step should do: "ok", "denied" (PermissionDenied) or "refused" (WorkflowError)."""
    who = step.persona
    if step.action == "request":
        if who not in REQUESTERS:
            return "denied"
        pending = target is not None and target.status == Status.PENDING
        return "refused" if version.is_locked or version.stage == step.stage or pending else "ok"
    if step.action == "lock":
        lowering = LOCK_ORDER.index(step.lock_level) < LOCK_ORDER.index(LockLevel(version.lock_level))
        if who not in LOCKERS or (lowering and who != "owner"):
            return "denied"
        return "refused" if step.lock_level == version.lock_level else "ok"
    assert target is not None
    requester = target.requester.username
    if step.action == "cancel":
        if who not in {requester, "owner"}:
            return "denied"
        return "ok" if target.status == Status.PENDING else "refused"
    if who not in REVIEWERS or who == requester:
        return "denied"
    if target.status != Status.PENDING or target.reviews.filter(reviewer=world.people[who]).exists():
        return "refused"
    if step.action == "approve" and (version.is_locked or version.stage != target.from_stage):
        return "refused"
    return "ok"


def _perform(world: World, step: Step, version: ModelVersion, target: StageChangeRequest | None) -> str:
    actor = world.people[step.persona]
    try:
        if step.action == "request":
            request_stage_change(actor=actor, version=version, to_stage=step.stage)
        elif step.action == "lock":
            set_lock_level(actor=actor, version=version, lock_level=step.lock_level)
            world.lock_changes[version.pk] += 1
        else:
            assert target is not None
            action = {
                "approve": approve_change_request,
                "reject": reject_change_request,
                "cancel": cancel_change_request,
            }[step.action]
            action(actor=actor, change_request=target)
    except PermissionDenied:
        return "denied"
    except WorkflowError:
        return "refused"
    return "ok"


def _check_invariants(world: World) -> None:
    model = RegisteredModel.objects.get(pk=world.model.pk)
    entries = Counter(ActivityEntry.objects.filter(model=model).values_list("version_id", "verb"))
    for version in ModelVersion.objects.filter(model=model):
        requests = list(
            StageChangeRequest.objects.filter(version=version).order_by("pk").prefetch_related("reviews__reviewer")
        )
        by_status = Counter(r.status for r in requests)
        assert by_status[Status.PENDING] <= 1
        approved = [r for r in requests if r.status == Status.APPROVED]
        assert version.stage == (approved[-1].to_stage if approved else Stage.UNASSIGNED)
        for change_request in requests:
            reviews = list(change_request.reviews.all())
            approvers = {r.reviewer_id for r in reviews if r.decision == Decision.APPROVE}
            rejecters = {r.reviewer_id for r in reviews if r.decision == Decision.REJECT}
            assert change_request.requester_id not in approvers | rejecters
            assert len(reviews) == len(approvers | rejecters)
            if change_request.status == Status.APPROVED:
                assert len(approvers) == change_request.required_approvals
                assert not rejecters
                assert change_request.resolved_by_id in approvers
            elif change_request.status == Status.REJECTED:
                assert len(rejecters) == 1
                assert len(approvers) < change_request.required_approvals
                assert change_request.resolved_by_id in rejecters
            else:
                assert not rejecters
                assert len(approvers) < change_request.required_approvals
            if change_request.status == Status.PENDING:
                assert change_request.from_stage == version.stage
                assert change_request.resolved_by_id is None
        # No archiving here, so each stage change is the application of exactly one approved request.
        assert entries[version.pk, Verb.STAGE_CHANGED] == by_status[Status.APPROVED]
        assert entries[version.pk, Verb.STAGE_CHANGE_REQUESTED] == len(requests)
        assert entries[version.pk, Verb.STAGE_CHANGE_APPROVED] == sum(
            1 for r in requests for review in r.reviews.all() if review.decision == Decision.APPROVE
        )
        assert entries[version.pk, Verb.STAGE_CHANGE_REJECTED] == by_status[Status.REJECTED]
        assert entries[version.pk, Verb.STAGE_CHANGE_CANCELLED] == by_status[Status.CANCELLED]
        assert entries[version.pk, Verb.LOCK_CHANGED] == world.lock_changes[version.pk]
    for stage in STAGE_ORDER:
        actual = ModelVersion.objects.filter(model=model, stage=stage).count()
        assert getattr(model, stage_count_field(stage)) == actual, stage


@pytest.mark.django_db
@settings(max_examples=60, deadline=None)
@given(
    version_count=st.integers(min_value=2, max_value=3),
    required=st.sampled_from([1, 2]),
    script=st.lists(steps, min_size=8, max_size=30),
)
def test_random_workflows_keep_the_invariants(version_count: int, required: int, script: list[Step]) -> None:
    with transaction.atomic():
        world = _build(version_count, required)
        for step in script:
            version, target = _pick(world, step)
            if target is None and step.action in {"approve", "reject", "cancel"}:
                continue
            expected = _expected(world, step, version, target)
            event(f"{step.action} {expected}")

            assert _perform(world, step, version, target) == expected, step
            _check_invariants(world)
        transaction.set_rollback(True)
