"""Every kind of event writes exactly one activity entry, through the real service, in the same transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction

from accounts.services import rename_user
from activity.models import MAX_COMMENT, ActivityEntry, Verb
from activity.services import ActivityError, comment_on_version
from api.services import create_api_token, revoke_api_token
from approvals import services as approval_services
from approvals.models import StageChangeRequest, Status
from approvals.services import (
    WorkflowError,
    approve_change_request,
    cancel_change_request,
    reject_change_request,
    request_stage_change,
    set_approval_policy,
    set_lock_level,
)
from catalog.models import LockLevel, ModelVersion, RegisteredModel, Stage
from catalog.permissions import Role
from catalog.services import (
    add_collaborator,
    delete_alias,
    edit_model,
    edit_version,
    register_model,
    register_version,
    remove_collaborator,
    set_alias,
)
from tests.factories import UserFactory
from tests.helpers import database_state, entries_since, entry_mark, set_stage, stage_of, version_in
from webhooks.services import create_webhook, delete_webhook, update_webhook


@dataclass
class World:
    """The personas of tests/conftest.py around one private model and its version v1.0.0 (in Unassigned)."""

    owner: Any
    editor: Any
    reviewer: Any
    viewer: Any
    outsider: Any
    model: RegisteredModel
    version: ModelVersion


@pytest.fixture
def world(
    owner: Any, editor: Any, reviewer: Any, viewer: Any, outsider: Any, model: RegisteredModel, version: ModelVersion
) -> World:
    return World(owner, editor, reviewer, viewer, outsider, model, version)


def _no_extra(result: object) -> dict[str, Any]:
    return {}


@dataclass
class Event:
    """One user action, and the entry it must write (names, not objects: what the activity page shows)."""

    act: Callable[[], Any]
    actor: str
    model: str | None  # None: an account event
    version: str | None
    from_stage: str = ""
    to_stage: str = ""
    comment: str = ""
    extra: Callable[[Any], dict[str, Any]] = _no_extra  # from what act returned
    also: tuple[Verb, ...] = ()  # entries of other kinds the same action writes


def _model_registered(w: World) -> Event:
    return Event(
        act=lambda: register_model(actor=w.editor, name="Fraud Detector"),
        actor="editor",
        model="Fraud Detector",
        version=None,
        extra=lambda _: {"name": "Fraud Detector"},
    )


def _model_edited(w: World) -> Event:
    return Event(
        act=lambda: edit_model(
            actor=w.editor,
            model=w.model,
            description="Predicts churn for the next quarter.",
            labels=[],
            task_type=w.model.task_type,
            data_type=w.model.data_type,
        ),
        actor="editor",
        model="Churn Predictor",
        version=None,
        extra=lambda _: {"fields": ["description"]},
    )


def _version_registered(w: World) -> Event:
    return Event(
        act=lambda: register_version(actor=w.editor, model=w.model, name="v2.0.0"),
        actor="editor",
        model="Churn Predictor",
        version="v2.0.0",
    )


def _version_edited(w: World) -> Event:
    return Event(
        act=lambda: edit_version(
            actor=w.editor,
            version=w.version,
            description="A version for tests.",
            labels=["gbm"],
            attributes={},
            artifact_uri="",
            source_run_url="",
        ),
        actor="editor",
        model="Churn Predictor",
        version="v1.0.0",
        extra=lambda _: {"fields": ["labels"]},
    )


def _collaborator_added(w: World) -> Event:
    dana = UserFactory.create(username="dana")
    return Event(
        act=lambda: add_collaborator(actor=w.owner, model=w.model, user=dana, role=Role.REVIEWER),
        actor="owner",
        model="Churn Predictor",
        version=None,
        extra=lambda _: {"principal": "user dana", "role": "Reviewer"},
    )


def _collaborator_removed(w: World) -> Event:
    return Event(
        act=lambda: remove_collaborator(actor=w.owner, model=w.model, user=w.viewer),
        actor="owner",
        model="Churn Predictor",
        version=None,
        extra=lambda _: {"principal": "user viewer"},
    )


def _stage_change_requested(w: World) -> Event:
    return Event(
        act=lambda: request_stage_change(
            actor=w.editor, version=w.version, to_stage=Stage.STAGING, comment="Ready for shadow traffic."
        ),
        actor="editor",
        model="Churn Predictor",
        version="v1.0.0",
        from_stage=Stage.UNASSIGNED,
        to_stage=Stage.STAGING,
        comment="Ready for shadow traffic.",
        extra=lambda change_request: {"change_request": change_request.pk, "skipped": ["Development"]},
    )


def _pending_request(w: World) -> StageChangeRequest:
    return request_stage_change(actor=w.editor, version=w.version, to_stage=Stage.DEVELOPMENT, comment="Please.")


def _stage_change_approved(w: World) -> Event:
    change_request = _pending_request(w)
    return Event(
        act=lambda: approve_change_request(actor=w.reviewer, change_request=change_request, comment="Tests pass."),
        actor="reviewer",
        model="Churn Predictor",
        version="v1.0.0",
        from_stage=Stage.UNASSIGNED,
        to_stage=Stage.DEVELOPMENT,
        comment="Tests pass.",
        extra=lambda _: {"change_request": change_request.pk},
        also=(Verb.STAGE_CHANGED,),
    )


def _stage_change_rejected(w: World) -> Event:
    change_request = _pending_request(w)
    return Event(
        act=lambda: reject_change_request(actor=w.reviewer, change_request=change_request, comment="No metrics."),
        actor="reviewer",
        model="Churn Predictor",
        version="v1.0.0",
        from_stage=Stage.UNASSIGNED,
        to_stage=Stage.DEVELOPMENT,
        comment="No metrics.",
        extra=lambda _: {"change_request": change_request.pk},
    )


def _stage_change_cancelled(w: World) -> Event:
    change_request = _pending_request(w)
    return Event(
        act=lambda: cancel_change_request(actor=w.editor, change_request=change_request, comment="Wrong version."),
        actor="editor",
        model="Churn Predictor",
        version="v1.0.0",
        from_stage=Stage.UNASSIGNED,
        to_stage=Stage.DEVELOPMENT,
        comment="Wrong version.",
        extra=lambda _: {"change_request": change_request.pk},
    )


def _stage_changed(w: World) -> Event:
    change_request = _pending_request(w)
    return Event(
        act=lambda: approve_change_request(actor=w.reviewer, change_request=change_request, comment="Tests pass."),
        actor="reviewer",
        model="Churn Predictor",
        version="v1.0.0",
        from_stage=Stage.UNASSIGNED,
        to_stage=Stage.DEVELOPMENT,
        comment="",  # the request's and the approval's comments stay on their own entries
        extra=lambda _: {"change_request": change_request.pk, "requested_by": "editor"},
        also=(Verb.STAGE_CHANGE_APPROVED,),
    )


def _lock_changed(w: World) -> Event:
    return Event(
        act=lambda: set_lock_level(
            actor=w.editor, version=w.version, lock_level=LockLevel.CLOSED, comment="Frozen for the audit."
        ),
        actor="editor",
        model="Churn Predictor",
        version="v1.0.0",
        comment="Frozen for the audit.",
        extra=lambda _: {"from": "Open", "to": "Closed"},
    )


def _policy_changed(w: World) -> Event:
    return Event(
        act=lambda: set_approval_policy(actor=w.owner, model=w.model, required_approvals=2),
        actor="owner",
        model="Churn Predictor",
        version=None,
        extra=lambda _: {"from": 1, "to": 2},
    )


def _commented(w: World) -> Event:
    return Event(
        act=lambda: comment_on_version(actor=w.reviewer, version=w.version, comment="  AUC dropped in May.\n"),
        actor="reviewer",
        model="Churn Predictor",
        version="v1.0.0",
        comment="AUC dropped in May.",
    )


def _alias_set(w: World) -> Event:
    return Event(
        act=lambda: set_alias(actor=w.editor, version=w.version, alias="champion"),
        actor="editor",
        model="Churn Predictor",
        version="v1.0.0",
        extra=lambda _: {"alias": "champion"},
    )


def _alias_deleted(w: World) -> Event:
    set_alias(actor=w.owner, version=w.version, alias="champion")
    return Event(
        act=lambda: delete_alias(actor=w.editor, model=w.model, alias="champion"),
        actor="editor",
        model="Churn Predictor",
        version="v1.0.0",
        extra=lambda _: {"alias": "champion"},
    )


def _token_created(w: World) -> Event:
    return Event(
        act=lambda: create_api_token(actor=w.editor, name="release pipeline", expires_in_days=30),
        actor="editor",
        model=None,
        version=None,
        extra=lambda made: {
            "name": "release pipeline",
            "token": made[0].prefix,
            "expires": f"{made[0].expires_at:%Y-%m-%d}",
        },
    )


def _token_revoked(w: World) -> Event:
    token, _ = create_api_token(actor=w.editor, name="laptop")
    return Event(
        act=lambda: revoke_api_token(actor=w.editor, token=token),
        actor="editor",
        model=None,
        version=None,
        extra=lambda _: {"name": "laptop", "token": token.prefix},
    )


def _user_renamed(w: World) -> Event:
    admin = UserFactory.create(username="admin", is_superuser=True, is_staff=True)
    return Event(
        act=lambda: rename_user(actor=admin, user=w.outsider, username="mallory"),
        actor="admin",
        model=None,
        version=None,
        extra=lambda _: {"from": "outsider", "to": "mallory"},
    )


HOOK_URL = "https://93.184.215.14/hooks/catalog"


def _webhook_created(w: World) -> Event:
    return Event(
        act=lambda: create_webhook(actor=w.owner, model=w.model, url=HOOK_URL),
        actor="owner",
        model="Churn Predictor",
        version=None,
        extra=lambda made: {"webhook": made[0].pk, "url": HOOK_URL},
    )


def _webhook_changed(w: World) -> Event:
    webhook, _ = create_webhook(actor=w.owner, model=w.model, url=HOOK_URL)
    return Event(
        act=lambda: update_webhook(actor=w.owner, webhook=webhook, state="disabled"),
        actor="owner",
        model="Churn Predictor",
        version=None,
        extra=lambda _: {"webhook": webhook.pk, "url": HOOK_URL, "change": "disabled", "fields": ["state"]},
    )


def _webhook_deleted(w: World) -> Event:
    webhook, _ = create_webhook(actor=w.owner, model=w.model, url=HOOK_URL)
    pk = webhook.pk
    return Event(
        act=lambda: delete_webhook(actor=w.owner, webhook=webhook),
        actor="owner",
        model="Churn Predictor",
        version=None,
        extra=lambda _: {"webhook": pk, "url": HOOK_URL},
    )


CASES: dict[Verb, Callable[[World], Event]] = {
    Verb.MODEL_REGISTERED: _model_registered,
    Verb.MODEL_EDITED: _model_edited,
    Verb.VERSION_REGISTERED: _version_registered,
    Verb.VERSION_EDITED: _version_edited,
    Verb.COLLABORATOR_ADDED: _collaborator_added,
    Verb.COLLABORATOR_REMOVED: _collaborator_removed,
    Verb.STAGE_CHANGE_REQUESTED: _stage_change_requested,
    Verb.STAGE_CHANGE_APPROVED: _stage_change_approved,
    Verb.STAGE_CHANGE_REJECTED: _stage_change_rejected,
    Verb.STAGE_CHANGE_CANCELLED: _stage_change_cancelled,
    Verb.STAGE_CHANGED: _stage_changed,
    Verb.LOCK_CHANGED: _lock_changed,
    Verb.POLICY_CHANGED: _policy_changed,
    Verb.COMMENTED: _commented,
    Verb.ALIAS_SET: _alias_set,
    Verb.ALIAS_DELETED: _alias_deleted,
    Verb.TOKEN_CREATED: _token_created,
    Verb.TOKEN_REVOKED: _token_revoked,
    Verb.USER_RENAMED: _user_renamed,
    Verb.WEBHOOK_CREATED: _webhook_created,
    Verb.WEBHOOK_CHANGED: _webhook_changed,
    Verb.WEBHOOK_DELETED: _webhook_deleted,
}


def test_every_verb_has_a_case() -> None:
    assert set(CASES) == set(Verb)


@pytest.mark.parametrize("verb", list(CASES))
def test_each_event_writes_exactly_one_entry_of_its_kind(verb: Verb, world: World) -> None:
    event = CASES[verb](world)
    mark = entry_mark()
    before = ActivityEntry.objects.filter(verb=verb).count()

    result = event.act()

    assert ActivityEntry.objects.filter(verb=verb).count() == before + 1
    written = ActivityEntry.objects.filter(pk__gt=mark)
    assert Counter(written.values_list("verb", flat=True)) == Counter([verb, *event.also])
    assert written.filter(verb=verb).values_list(
        "actor__username", "model__name", "version__name", "from_stage", "to_stage", "comment", "extra"
    ).get() == (
        event.actor,
        event.model,
        event.version,
        event.from_stage,
        event.to_stage,
        event.comment,
        event.extra(result),
    )


def test_a_promotion_that_archives_others_writes_one_stage_change_per_archived_version(world: World) -> None:
    current = version_in(world.model, "v0.9.0", Stage.STAGING)
    hotfix = version_in(world.model, "v0.9.1", Stage.STAGING)
    pinned = version_in(world.model, "v0.8.0", Stage.STAGING)
    set_lock_level(actor=world.owner, version=pinned, lock_level=LockLevel.CLOSED)
    older = version_in(world.model, "v0.7.0", Stage.DEVELOPMENT)
    set_stage(world.version, Stage.DEVELOPMENT)
    change_request = request_stage_change(
        actor=world.editor, version=world.version, to_stage=Stage.STAGING, comment="Replaces v0.9.", archive_others=True
    )
    mark = entry_mark()

    approve_change_request(actor=world.reviewer, change_request=change_request, comment="Go.")

    archived_because = "Archived because v1.0.0 moved to Staging."
    by_request = {"change_request": change_request.pk}
    caused = {"change_request": change_request.pk, "caused_by": change_request.pk}
    assert entries_since(mark) == [
        (Verb.STAGE_CHANGE_APPROVED, "reviewer", "v1.0.0", Stage.DEVELOPMENT, Stage.STAGING, "Go.", by_request),
        (
            Verb.STAGE_CHANGED,
            "reviewer",
            "v1.0.0",
            Stage.DEVELOPMENT,
            Stage.STAGING,
            "",
            {**by_request, "requested_by": "editor"},
        ),
        (Verb.STAGE_CHANGED, "reviewer", "v0.9.0", Stage.STAGING, Stage.ARCHIVED, archived_because, caused),
        (Verb.STAGE_CHANGED, "reviewer", "v0.9.1", Stage.STAGING, Stage.ARCHIVED, archived_because, caused),
    ]
    assert [stage_of(v) for v in (world.version, current, hotfix, pinned, older)] == [
        Stage.STAGING,
        Stage.ARCHIVED,
        Stage.ARCHIVED,
        Stage.STAGING,  # locked: keeps its stage, and gets no entry
        Stage.DEVELOPMENT,  # not in the target stage
    ]


def test_an_approval_short_of_the_policy_writes_only_the_approval(world: World, reviewer2: Any) -> None:
    set_approval_policy(actor=world.owner, model=world.model, required_approvals=2)
    change_request = _pending_request(world)
    mark = entry_mark()

    approve_change_request(actor=world.reviewer, change_request=change_request)

    assert entries_since(mark) == [
        (
            Verb.STAGE_CHANGE_APPROVED,
            "reviewer",
            "v1.0.0",
            Stage.UNASSIGNED,
            Stage.DEVELOPMENT,
            "",
            {"change_request": change_request.pk},
        )
    ]
    assert stage_of(world.version) == Stage.UNASSIGNED

    approve_change_request(actor=reviewer2, change_request=change_request)

    assert [entry[:2] for entry in entries_since(mark)] == [
        (Verb.STAGE_CHANGE_APPROVED, "reviewer"),
        (Verb.STAGE_CHANGE_APPROVED, "reviewer2"),
        (Verb.STAGE_CHANGED, "reviewer2"),
    ]


# Refusals write nothing


def _editor_approves(w: World) -> Callable[[], Any]:
    change_request = _pending_request(w)
    return partial(approve_change_request, actor=w.editor, change_request=change_request)


# Each case prepares what it needs and returns the action to refuse.
REFUSALS = [
    pytest.param(
        lambda w: partial(request_stage_change, actor=w.viewer, version=w.version, to_stage=Stage.DEVELOPMENT),
        PermissionDenied,
        "Only editors and owners of this model can request stage changes.",
        id="viewer-requests-a-stage-change",
    ),
    pytest.param(
        lambda w: partial(
            request_stage_change,
            actor=w.editor,
            version=w.version,
            to_stage=Stage.DEVELOPMENT,
            comment="x" * (MAX_COMMENT + 1),
        ),
        WorkflowError,
        "The comment has 5,001 characters; at most 5,000 are allowed.",
        id="request-with-a-comment-over-5000-characters",
    ),
    pytest.param(
        _editor_approves,  # their own request: the refusal says so, on the page as from the service
        PermissionDenied,
        "You made this request, so someone else has to review it.",
        id="editor-approves",
    ),
    pytest.param(
        lambda w: partial(set_lock_level, actor=w.viewer, version=w.version, lock_level=LockLevel.CLOSED),
        PermissionDenied,
        "Only editors and owners of this model can lock its versions.",
        id="viewer-locks-a-version",
    ),
    pytest.param(
        lambda w: partial(set_approval_policy, actor=w.editor, model=w.model, required_approvals=2),
        PermissionDenied,
        "Only owners of this model can change its approval policy.",
        id="editor-changes-the-policy",
    ),
    pytest.param(
        lambda w: partial(comment_on_version, actor=w.viewer, version=w.version, comment="Looks fine."),
        PermissionDenied,
        "Only editors, reviewers and owners of this model can comment on its versions.",
        id="viewer-comments",
    ),
    pytest.param(
        lambda w: partial(comment_on_version, actor=w.outsider, version=w.version, comment="Looks fine."),
        PermissionDenied,
        "Only editors, reviewers and owners of this model can comment on its versions.",
        id="outsider-comments",
    ),
    pytest.param(
        lambda w: partial(comment_on_version, actor=w.reviewer, version=w.version, comment=""),
        ActivityError,
        "Write a comment first.",
        id="empty-comment",
    ),
    pytest.param(
        lambda w: partial(comment_on_version, actor=w.reviewer, version=w.version, comment=" \n\t "),
        ActivityError,
        "Write a comment first.",
        id="blank-comment",
    ),
    pytest.param(
        lambda w: partial(comment_on_version, actor=w.reviewer, version=w.version, comment="x" * (MAX_COMMENT + 1)),
        ActivityError,
        "The comment has 5,001 characters; at most 5,000 are allowed.",
        id="comment-over-5000-characters",
    ),
    pytest.param(
        lambda w: partial(comment_on_version, actor=w.reviewer, version=w.version, comment="bad\x00byte"),
        ActivityError,
        "The comment contains a character that cannot be stored (NUL).",
        id="comment-with-nul",
    ),
]


@pytest.mark.parametrize(("prepare", "error", "message"), REFUSALS)
def test_a_refused_action_writes_no_entry_and_changes_nothing(
    world: World, prepare: Callable[[World], Callable[[], Any]], error: type[Exception], message: str
) -> None:
    action = prepare(world)
    before = database_state()

    with pytest.raises(error) as refused:
        action()

    assert str(refused.value) == message
    assert database_state() == before


@pytest.mark.parametrize("persona", ["owner", "editor", "reviewer"])
def test_those_who_act_on_a_model_may_comment(world: World, persona: str) -> None:
    mark = entry_mark()

    comment_on_version(actor=getattr(world, persona), version=world.version, comment="Drift alert in May.")

    assert entries_since(mark) == [(Verb.COMMENTED, persona, "v1.0.0", "", "", "Drift alert in May.", {})]


def test_a_comment_of_exactly_5000_characters_is_kept_whole(world: World) -> None:
    text = "y" * MAX_COMMENT
    mark = entry_mark()

    comment_on_version(actor=world.reviewer, version=world.version, comment=f"\n {text} \n")

    assert [entry[5] for entry in entries_since(mark)] == [text]


# In the same transaction


@pytest.mark.parametrize("verb", list(CASES))
def test_rolling_back_the_surrounding_transaction_leaves_neither_the_change_nor_its_entry(
    verb: Verb, world: World
) -> None:
    event = CASES[verb](world)
    before = database_state()
    inside: dict[str, Any] = {}

    def act_then_fail() -> None:
        with transaction.atomic():
            event.act()
            inside.update(database_state())
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"):
        act_then_fail()

    written = [e["verb"] for e in inside["activity"][len(before["activity"]) :]]
    assert written.count(verb) == 1
    assert database_state() == before


def test_a_stage_change_whose_entry_cannot_be_written_does_not_happen(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    change_request = _pending_request(world)
    real_record_activity = approval_services.record_activity

    def record_all_but_the_stage_change(**kwargs: Any) -> ActivityEntry:
        if kwargs["verb"] == Verb.STAGE_CHANGED:
            raise DatabaseError("could not write the activity entry")
        return real_record_activity(**kwargs)

    monkeypatch.setattr(approval_services, "record_activity", record_all_but_the_stage_change)
    before = database_state()

    with pytest.raises(DatabaseError, match="could not write the activity entry"):
        approve_change_request(actor=world.reviewer, change_request=change_request)

    assert database_state() == before
    assert stage_of(world.version) == Stage.UNASSIGNED
    assert StageChangeRequest.objects.get(pk=change_request.pk).status == Status.PENDING
