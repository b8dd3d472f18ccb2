"""Every catalog service: success, each guard, the activity entry written and nothing changed on refusal."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from activity.models import ActivityEntry, Verb
from catalog import permissions
from catalog.models import (
    STAGE_ORDER,
    Label,
    LockLevel,
    ModelVersion,
    RegisteredModel,
    RegisteredModelGroupObjectPermission,
    RegisteredModelUserObjectPermission,
    Stage,
    Visibility,
    stage_count_field,
)
from catalog.permissions import ROLE_PERMISSIONS, Role
from catalog.services import (
    CatalogError,
    add_collaborator,
    apply_stage_change,
    edit_model,
    edit_version,
    recount_stage_counts,
    register_model,
    register_version,
    remove_collaborator,
)
from tests.factories import GroupFactory, ModelFactory, UserFactory
from tests.helpers import database_state, race

LONG_AGO = timezone.make_aware(datetime.datetime(2020, 1, 1))


def _user_perms(model: RegisteredModel, user: Any) -> set[str]:
    return set(
        RegisteredModelUserObjectPermission.objects.filter(content_object=model, user=user).values_list(
            "permission__codename", flat=True
        )
    )


def _group_perms(model: RegisteredModel, group: Group) -> set[str]:
    return set(
        RegisteredModelGroupObjectPermission.objects.filter(content_object=model, group=group).values_list(
            "permission__codename", flat=True
        )
    )


def _last_entry() -> ActivityEntry:
    entry = ActivityEntry.objects.order_by("-id").first()
    assert entry is not None
    return entry


def _age(model: RegisteredModel) -> None:
    """Move the model's updated_at into the past so a later bump is visible whatever the clock resolution."""
    RegisteredModel.objects.filter(pk=model.pk).update(updated_at=LONG_AGO)


def _updated_at(model: RegisteredModel) -> datetime.datetime:
    return RegisteredModel.objects.values_list("updated_at", flat=True).get(pk=model.pk)


# register_model


def test_register_model_gives_the_actor_exactly_the_owner_role(owner: Any) -> None:
    model = register_model(actor=owner, name="Fraud Detector", description="  Flags fraud.  ", labels=["risk", "nlp"])

    model.refresh_from_db()
    assert model.owner == owner
    assert model.name == "Fraud Detector"
    assert model.description == "Flags fraud."
    assert sorted(model.labels.values_list("name", flat=True)) == ["nlp", "risk"]
    assert _user_perms(model, owner) == set(ROLE_PERMISSIONS[Role.OWNER])
    assert RegisteredModelUserObjectPermission.objects.filter(content_object=model).count() == len(
        ROLE_PERMISSIONS[Role.OWNER]
    )
    assert not RegisteredModelGroupObjectPermission.objects.filter(content_object=model).exists()


def test_register_model_writes_a_model_registered_entry(owner: Any) -> None:
    model = register_model(actor=owner, name="Fraud Detector")

    entries = list(ActivityEntry.objects.filter(model=model))
    assert len(entries) == 1
    assert entries[0].verb == Verb.MODEL_REGISTERED
    assert entries[0].actor == owner
    assert entries[0].version is None
    assert entries[0].extra == {"name": "Fraud Detector"}


def test_register_model_keeps_the_given_choices(owner: Any) -> None:
    model = register_model(
        actor=owner, name="Speech", task_type="transcription", data_type="audio", visibility=Visibility.PRIVATE
    )

    model.refresh_from_db()
    assert (model.task_type, model.data_type, model.visibility) == ("transcription", "audio", "private")


def test_register_model_strips_the_name(owner: Any) -> None:
    model = register_model(actor=owner, name="   Churn   ")

    assert model.name == "Churn"
    assert model.slug == "churn"


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Churn Predictor", "churn-predictor"),
        ("Café Modèle", "cafe-modele"),
        ("日本語モデル", "model"),
        ("New", "new-2"),
        ("edit", "edit-2"),
        ("  --Weird__Name--  ", "weird__name"),
    ],
)
def test_register_model_derives_a_url_slug(owner: Any, name: str, slug: str) -> None:
    assert register_model(actor=owner, name=name).slug == slug


def test_register_model_gives_colliding_names_distinct_slugs(owner: Any) -> None:
    names = ["Churn", "Churn!", "churn?", "Модель", "Πρότυπο", "New", "New!"]

    slugs = [register_model(actor=owner, name=name).slug for name in names]

    assert slugs == ["churn", "churn-2", "churn-3", "model", "model-2", "new-2", "new-3"]


def test_register_model_accepts_a_name_of_200_characters(owner: Any) -> None:
    model = register_model(actor=owner, name="m" * 200)

    assert model.name == "m" * 200
    assert len(model.slug) <= 220


@pytest.mark.parametrize("name", ["", "   ", "\t\n", "m" * 201], ids=["empty", "spaces", "whitespace", "201_chars"])
def test_register_model_refuses_a_bad_name_and_writes_nothing(owner: Any, name: str) -> None:
    before = database_state()

    with pytest.raises(CatalogError, match="Name"):
        register_model(actor=owner, name=name)

    assert database_state() == before


def test_register_model_refuses_a_description_over_10000_characters(owner: Any) -> None:
    before = database_state()

    with pytest.raises(CatalogError, match="Description"):
        register_model(actor=owner, name="Wordy", description="d" * 10_001)

    assert database_state() == before


def test_register_version_refuses_a_description_over_10000_characters(owner: Any, model: RegisteredModel) -> None:
    before = database_state()

    with pytest.raises(CatalogError, match="Description"):
        register_version(actor=owner, model=model, name="v9", description="d" * 10_001)

    assert database_state() == before


def test_register_model_takes_the_next_slug_when_another_name_won_the_same_slug(owner: Any) -> None:
    register_model(actor=owner, name="Race!")

    model = register_model(actor=owner, name="Race?")

    assert model.slug == "race-2"


@pytest.mark.parametrize("name", ["churn predictor", "CHURN PREDICTOR", "  Churn predictor "])
def test_register_model_refuses_a_duplicate_name_in_any_case(owner: Any, model: RegisteredModel, name: str) -> None:
    before = database_state()

    with pytest.raises(CatalogError, match="already exists"):
        register_model(actor=owner, name=name)

    assert database_state() == before


@pytest.mark.parametrize("label", ["Bad Label", "-leading-dash", "ümlaut", "x" * 51, "semi;colon"])
def test_register_model_refuses_a_bad_label_and_writes_nothing(owner: Any, label: str) -> None:
    before = database_state()

    with pytest.raises(CatalogError, match="Name"):
        register_model(actor=owner, name="Fraud", labels=["good", label])

    assert database_state() == before


@pytest.mark.parametrize(
    "choices",
    [{"task_type": "astrology"}, {"data_type": "smell"}, {"visibility": "public"}],
    ids=["task_type", "data_type", "visibility"],
)
def test_register_model_refuses_unknown_choices(owner: Any, choices: dict[str, str]) -> None:
    before = database_state()

    with pytest.raises(CatalogError):
        register_model(actor=owner, name="Fraud", **choices)

    assert database_state() == before


def test_register_model_refuses_inactive_and_anonymous_users(db: None) -> None:
    inactive = UserFactory.create(username="gone", is_active=False)
    before = database_state()

    with pytest.raises(PermissionDenied):
        register_model(actor=inactive, name="Fraud")
    with pytest.raises(PermissionDenied):
        register_model(actor=AnonymousUser(), name="Fraud")  # type: ignore[arg-type]

    assert database_state() == before


def test_register_model_reuses_existing_labels(owner: Any) -> None:
    register_model(actor=owner, name="A", labels=["nlp"])
    register_model(actor=owner, name="B", labels=["nlp", "vision"])

    assert list(Label.objects.values_list("name", flat=True)) == ["nlp", "vision"]


# register_version


@pytest.mark.parametrize("persona", ["owner", "editor"])
def test_register_version_by_editor_or_owner(
    request: pytest.FixtureRequest, model: RegisteredModel, persona: str
) -> None:
    actor = request.getfixturevalue(persona)
    _age(model)

    version = register_version(
        actor=actor,
        model=model,
        name=" v2.0.0 ",
        description=" Retrained. ",
        labels=["gbm"],
        attributes={"framework": "xgboost"},
        artifact_uri=" s3://models/churn/v2 ",
        source_run_url="https://runs.example.com/42",
    )

    version.refresh_from_db()
    assert version.name == "v2.0.0"
    assert version.description == "Retrained."
    assert version.stage == Stage.UNASSIGNED
    assert version.lock_level == LockLevel.OPEN
    assert version.created_by == actor
    assert version.attributes == {"framework": "xgboost"}
    assert version.artifact_uri == "s3://models/churn/v2"
    assert version.source_run_url == "https://runs.example.com/42"
    assert list(version.labels.values_list("name", flat=True)) == ["gbm"]
    assert _updated_at(model) > LONG_AGO


def test_register_version_writes_a_version_registered_entry(model: RegisteredModel, editor: Any) -> None:
    version = register_version(actor=editor, model=model, name="v2")

    entry = _last_entry()
    assert entry.verb == Verb.VERSION_REGISTERED
    assert entry.actor == editor
    assert entry.model == model
    assert entry.version == version


@pytest.mark.parametrize("persona", ["viewer", "reviewer", "outsider"])
def test_register_version_refused_without_edit_role(
    request: pytest.FixtureRequest, model: RegisteredModel, persona: str
) -> None:
    actor = request.getfixturevalue(persona)
    before = database_state()

    with pytest.raises(PermissionDenied):
        register_version(actor=actor, model=model, name="v2")

    assert database_state() == before


def test_register_version_refused_to_a_signed_in_user_on_an_organization_model(
    org_model: RegisteredModel, outsider: Any
) -> None:
    before = database_state()

    with pytest.raises(PermissionDenied):
        register_version(actor=outsider, model=org_model, name="v2")

    assert database_state() == before


def test_register_version_refuses_a_duplicate_name(model: RegisteredModel, owner: Any, version: ModelVersion) -> None:
    _age(model)
    before = database_state()

    with pytest.raises(CatalogError, match="already exists"):
        register_version(actor=owner, model=model, name="v1.0.0")

    assert database_state() == before


@pytest.mark.parametrize("name", ["new", "NEW", "edit"])
def test_register_version_refuses_reserved_names(model: RegisteredModel, owner: Any, name: str) -> None:
    before = database_state()

    with pytest.raises(CatalogError, match="reserved"):
        register_version(actor=owner, model=model, name=name)

    assert database_state() == before


@pytest.mark.parametrize(
    "name",
    ["", "   ", "-v1", ".hidden", "v 1", "v/1", "v1?", "vé", "v" * 101],
    ids=["empty", "spaces", "dash", "dot", "space", "slash", "question", "accent", "101_chars"],
)
def test_register_version_refuses_invalid_names(model: RegisteredModel, owner: Any, name: str) -> None:
    before = database_state()

    with pytest.raises(CatalogError, match="Name"):
        register_version(actor=owner, model=model, name=name)

    assert database_state() == before


def test_register_version_accepts_a_name_of_100_characters(model: RegisteredModel, owner: Any) -> None:
    assert register_version(actor=owner, model=model, name="v" * 100).name == "v" * 100


def test_register_version_refuses_a_bad_run_url_or_label(model: RegisteredModel, owner: Any) -> None:
    before = database_state()

    with pytest.raises(CatalogError, match="Source run url"):
        register_version(actor=owner, model=model, name="v2", source_run_url="not a url")
    with pytest.raises(CatalogError):
        register_version(actor=owner, model=model, name="v2", labels=["Not OK"])

    assert database_state() == before


def test_the_same_version_name_may_be_used_by_two_models(owner: Any, model: RegisteredModel, org_model: Any) -> None:
    register_version(actor=owner, model=model, name="v1")
    register_version(actor=owner, model=org_model, name="v1")

    assert ModelVersion.objects.filter(name="v1").count() == 2


# edit_model


def _edit_model(actor: Any, model: RegisteredModel, **changes: Any) -> RegisteredModel:
    values = {
        "description": model.description,
        "labels": list(model.labels.values_list("name", flat=True)),
        "task_type": model.task_type,
        "data_type": model.data_type,
    }
    return edit_model(actor=actor, model=model, **{**values, **changes})


def test_edit_model_changes_fields_and_lists_them_in_the_entry(model: RegisteredModel, editor: Any) -> None:
    _age(model)

    _edit_model(editor, model, description="  New words.  ", labels=["nlp", "churn"], task_type="classification")

    model.refresh_from_db()
    assert model.description == "New words."
    assert model.task_type == "classification"
    assert sorted(model.labels.values_list("name", flat=True)) == ["churn", "nlp"]
    assert model.updated_at > LONG_AGO
    entry = _last_entry()
    assert entry.verb == Verb.MODEL_EDITED
    assert entry.actor == editor
    assert entry.model == model
    assert entry.extra == {"fields": ["description", "task_type", "labels"]}


def test_edit_model_writes_no_entry_when_nothing_changed(model: RegisteredModel, owner: Any) -> None:
    _age(model)
    before = database_state()

    _edit_model(owner, model, description=f"  {model.description}  ", visibility=model.visibility)

    assert database_state() == before
    assert _updated_at(model) == LONG_AGO


def test_edit_model_removing_every_label_is_a_change(owner: Any) -> None:
    model = ModelFactory.create(owner=owner, labels=["nlp"])

    _edit_model(owner, model, labels=[])

    assert not model.labels.exists()
    assert _last_entry().extra == {"fields": ["labels"]}


def test_owner_changes_visibility(model: RegisteredModel, owner: Any) -> None:
    _edit_model(owner, model, visibility=Visibility.ORGANIZATION)

    model.refresh_from_db()
    assert model.visibility == Visibility.ORGANIZATION
    assert _last_entry().extra == {"fields": ["visibility"]}


def test_editor_cannot_change_visibility_and_nothing_changes(model: RegisteredModel, editor: Any) -> None:
    before = database_state()

    with pytest.raises(PermissionDenied, match="owners"):
        _edit_model(editor, model, description="Sneaky", visibility=Visibility.ORGANIZATION)

    assert database_state() == before


def test_editor_may_submit_the_unchanged_visibility(model: RegisteredModel, editor: Any) -> None:
    _edit_model(editor, model, description="Better words.", visibility=Visibility.PRIVATE)

    model.refresh_from_db()
    assert model.description == "Better words."
    assert model.visibility == Visibility.PRIVATE


@pytest.mark.parametrize("persona", ["viewer", "reviewer", "outsider"])
def test_edit_model_refused_without_edit_role(
    request: pytest.FixtureRequest, model: RegisteredModel, persona: str
) -> None:
    actor = request.getfixturevalue(persona)
    before = database_state()

    with pytest.raises(PermissionDenied):
        _edit_model(actor, model, description="Defaced")

    assert database_state() == before


@pytest.mark.parametrize(
    "changes",
    [{"task_type": "astrology"}, {"data_type": "smell"}, {"labels": ["Bad Label"]}],
    ids=["task_type", "data_type", "label"],
)
def test_edit_model_refuses_bad_values_and_changes_nothing(
    model: RegisteredModel, owner: Any, changes: dict[str, Any]
) -> None:
    before = database_state()

    with pytest.raises(CatalogError):
        _edit_model(owner, model, **changes)

    assert database_state() == before


# edit_version


def _edit_version(actor: Any, version: ModelVersion, **changes: Any) -> ModelVersion:
    values = {
        "description": version.description,
        "labels": list(version.labels.values_list("name", flat=True)),
        "attributes": version.attributes,
        "artifact_uri": version.artifact_uri,
        "source_run_url": version.source_run_url,
    }
    return edit_version(actor=actor, version=version, **{**values, **changes})


def test_edit_version_changes_fields_and_lists_them_in_the_entry(
    model: RegisteredModel, version: ModelVersion, editor: Any
) -> None:
    _age(model)

    _edit_version(editor, version, attributes={"auc": "0.91"}, labels=["gbm"], artifact_uri="s3://x/y")

    version.refresh_from_db()
    assert version.attributes == {"auc": "0.91"}
    assert version.artifact_uri == "s3://x/y"
    assert list(version.labels.values_list("name", flat=True)) == ["gbm"]
    assert _updated_at(model) > LONG_AGO
    entry = _last_entry()
    assert entry.verb == Verb.VERSION_EDITED
    assert (entry.actor, entry.model, entry.version) == (editor, model, version)
    assert entry.extra == {"fields": ["attributes", "artifact_uri", "labels"]}


def test_edit_version_writes_no_entry_when_nothing_changed(version: ModelVersion, owner: Any) -> None:
    before = database_state()

    _edit_version(owner, version)

    assert database_state() == before


@pytest.mark.parametrize("lock_level", [LockLevel.CLOSED, LockLevel.REDACT])
def test_edit_version_refused_when_locked(version: ModelVersion, owner: Any, lock_level: LockLevel) -> None:
    ModelVersion.objects.filter(pk=version.pk).update(lock_level=lock_level)
    before = database_state()

    with pytest.raises(CatalogError, match="locked"):
        _edit_version(owner, version, description="Rewritten history")

    assert database_state() == before


@pytest.mark.parametrize("persona", ["viewer", "reviewer", "outsider"])
def test_edit_version_refused_without_edit_role(
    request: pytest.FixtureRequest, version: ModelVersion, persona: str
) -> None:
    actor = request.getfixturevalue(persona)
    before = database_state()

    with pytest.raises(PermissionDenied):
        _edit_version(actor, version, description="Defaced")

    assert database_state() == before


def test_edit_version_refuses_a_bad_url_and_changes_nothing(version: ModelVersion, owner: Any) -> None:
    before = database_state()

    with pytest.raises(CatalogError, match="Source run url"):
        _edit_version(owner, version, description="New", source_run_url="javascript:alert(1)")

    assert database_state() == before


# add_collaborator / remove_collaborator


@pytest.mark.parametrize("role", list(Role))
def test_add_user_collaborator_grants_exactly_the_role(model: RegisteredModel, owner: Any, role: Role) -> None:
    bob = UserFactory.create(username="bob")

    add_collaborator(actor=owner, model=model, user=bob, role=role)

    assert _user_perms(model, bob) == set(ROLE_PERMISSIONS[role])
    entry = _last_entry()
    assert entry.verb == Verb.COLLABORATOR_ADDED
    assert (entry.actor, entry.model, entry.version) == (owner, model, None)
    assert entry.extra == {"principal": "user bob", "role": role.label}


def test_add_collaborator_replaces_the_previous_role(model: RegisteredModel, owner: Any, editor: Any) -> None:
    add_collaborator(actor=owner, model=model, user=editor, role=Role.REVIEWER)

    assert _user_perms(model, editor) == set(ROLE_PERMISSIONS[Role.REVIEWER])
    assert not permissions.may_edit_model(editor, RegisteredModel.objects.get(pk=model.pk))


def test_add_group_collaborator_grants_the_role_to_its_members(model: RegisteredModel, owner: Any) -> None:
    group = GroupFactory.create(name="risk-team")
    member = UserFactory.create(username="member")
    member.groups.add(group)

    add_collaborator(actor=owner, model=model, group=group, role=Role.EDITOR)

    assert _group_perms(model, group) == set(ROLE_PERMISSIONS[Role.EDITOR])
    assert permissions.may_edit_model(member, RegisteredModel.objects.get(pk=model.pk))
    assert _last_entry().extra == {"principal": "group risk-team", "role": "Editor"}


def test_add_group_collaborator_replaces_the_previous_role(model: RegisteredModel, owner: Any) -> None:
    group = GroupFactory.create(name="risk-team")
    add_collaborator(actor=owner, model=model, group=group, role=Role.OWNER)

    add_collaborator(actor=owner, model=model, group=group, role=Role.VIEWER)

    assert _group_perms(model, group) == {permissions.VIEW}


@pytest.mark.parametrize("role", [Role.EDITOR, Role.REVIEWER, Role.VIEWER])
def test_the_model_owner_cannot_be_demoted(model: RegisteredModel, owner: Any, role: Role) -> None:
    before = database_state()

    with pytest.raises(CatalogError, match="owns this model"):
        add_collaborator(actor=owner, model=model, user=owner, role=role)

    assert database_state() == before
    assert _user_perms(model, owner) == set(ROLE_PERMISSIONS[Role.OWNER])


def test_a_co_owner_cannot_demote_or_remove_the_model_owner(model: RegisteredModel, owner: Any) -> None:
    co_owner = UserFactory.create(username="co-owner")
    add_collaborator(actor=owner, model=model, user=co_owner, role=Role.OWNER)
    before = database_state()

    with pytest.raises(CatalogError):
        add_collaborator(actor=co_owner, model=model, user=owner, role=Role.VIEWER)
    with pytest.raises(CatalogError):
        remove_collaborator(actor=co_owner, model=model, user=owner)

    assert database_state() == before


def test_a_co_owner_may_manage_collaborators(model: RegisteredModel, owner: Any, viewer: Any) -> None:
    co_owner = UserFactory.create(username="co-owner")
    add_collaborator(actor=owner, model=model, user=co_owner, role=Role.OWNER)

    add_collaborator(actor=co_owner, model=model, user=viewer, role=Role.REVIEWER)

    assert _user_perms(model, viewer) == set(ROLE_PERMISSIONS[Role.REVIEWER])


def test_a_superuser_may_manage_collaborators(model: RegisteredModel, viewer: Any) -> None:
    admin = UserFactory.create(username="root", is_superuser=True)

    remove_collaborator(actor=admin, model=model, user=viewer)

    assert _user_perms(model, viewer) == set()
    assert _last_entry().actor == admin


@pytest.mark.parametrize("persona", ["editor", "reviewer", "viewer", "outsider"])
def test_only_owners_may_manage_collaborators(
    request: pytest.FixtureRequest, model: RegisteredModel, viewer: Any, persona: str
) -> None:
    actor = request.getfixturevalue(persona)
    group = GroupFactory.create(name="risk-team")
    before = database_state()

    with pytest.raises(PermissionDenied):
        add_collaborator(actor=actor, model=model, user=actor, role=Role.OWNER)
    with pytest.raises(PermissionDenied):
        add_collaborator(actor=actor, model=model, group=group, role=Role.VIEWER)
    with pytest.raises(PermissionDenied):
        remove_collaborator(actor=actor, model=model, user=viewer)

    assert database_state() == before


def test_remove_user_collaborator(model: RegisteredModel, owner: Any, editor: Any) -> None:
    remove_collaborator(actor=owner, model=model, user=editor)

    assert _user_perms(model, editor) == set()
    assert not permissions.can_view_model(editor, RegisteredModel.objects.get(pk=model.pk))
    entry = _last_entry()
    assert entry.verb == Verb.COLLABORATOR_REMOVED
    assert (entry.actor, entry.model) == (owner, model)
    assert entry.extra == {"principal": "user editor"}


def test_remove_group_collaborator(model: RegisteredModel, owner: Any) -> None:
    group = GroupFactory.create(name="risk-team")
    add_collaborator(actor=owner, model=model, group=group, role=Role.REVIEWER)

    remove_collaborator(actor=owner, model=model, group=group)

    assert _group_perms(model, group) == set()
    assert _last_entry().extra == {"principal": "group risk-team"}


def test_the_model_owner_cannot_be_removed(model: RegisteredModel, owner: Any) -> None:
    before = database_state()

    with pytest.raises(CatalogError, match="cannot be removed"):
        remove_collaborator(actor=owner, model=model, user=owner)

    assert database_state() == before


def test_removing_a_non_collaborator_is_refused(model: RegisteredModel, owner: Any, outsider: Any) -> None:
    group = GroupFactory.create(name="strangers")
    before = database_state()

    with pytest.raises(CatalogError, match="not a collaborator"):
        remove_collaborator(actor=owner, model=model, user=outsider)
    with pytest.raises(CatalogError, match="not a collaborator"):
        remove_collaborator(actor=owner, model=model, group=group)

    assert database_state() == before


def test_a_role_on_another_model_does_not_make_a_collaborator(owner: Any, model: RegisteredModel, editor: Any) -> None:
    other = ModelFactory.create(owner=owner, name="Other")
    before = database_state()

    with pytest.raises(CatalogError, match="not a collaborator"):
        remove_collaborator(actor=owner, model=other, user=editor)

    assert database_state() == before
    assert _user_perms(model, editor) == set(ROLE_PERMISSIONS[Role.EDITOR])


def test_collaborator_services_need_exactly_one_of_user_or_group(model: RegisteredModel, owner: Any) -> None:
    bob = UserFactory.create(username="bob")
    group = GroupFactory.create(name="risk-team")
    before = database_state()

    with pytest.raises(CatalogError, match="either a user or a group"):
        add_collaborator(actor=owner, model=model, role=Role.VIEWER)
    with pytest.raises(CatalogError, match="either a user or a group"):
        add_collaborator(actor=owner, model=model, user=bob, group=group, role=Role.VIEWER)
    with pytest.raises(CatalogError, match="either a user or a group"):
        remove_collaborator(actor=owner, model=model)

    assert database_state() == before


# Stage counts kept on the model row


def _counts(model: RegisteredModel) -> dict[str, int]:
    row = RegisteredModel.objects.get(pk=model.pk)
    return {
        stage.value: getattr(row, stage_count_field(stage))
        for stage in STAGE_ORDER
        if getattr(row, stage_count_field(stage))
    }


def test_register_version_counts_the_new_version_as_unassigned(model: RegisteredModel, owner: Any) -> None:
    register_version(actor=owner, model=model, name="v1")
    register_version(actor=owner, model=model, name="v2")

    assert _counts(model) == {"unassigned": 2}


def test_apply_stage_change_moves_the_version_and_its_count(model: RegisteredModel, version: ModelVersion) -> None:
    _age(model)

    left = apply_stage_change(version=version, to_stage=Stage.PRODUCTION)

    version.refresh_from_db()
    assert left == Stage.UNASSIGNED
    assert version.stage == Stage.PRODUCTION
    assert version.stage_changed_at is not None
    assert _counts(model) == {"production": 1}
    assert _updated_at(model) > LONG_AGO


def test_apply_stage_change_to_the_current_stage_is_refused(model: RegisteredModel, version: ModelVersion) -> None:
    before = database_state()

    with pytest.raises(CatalogError, match="already in Unassigned"):
        apply_stage_change(version=version, to_stage=Stage.UNASSIGNED)

    assert database_state() == before


def test_recount_stage_counts_repairs_drifted_counts(owner: Any, model: RegisteredModel, org_model: Any) -> None:
    for name in ["v1", "v2", "v3"]:
        register_version(actor=owner, model=model, name=name)
    register_version(actor=owner, model=org_model, name="v1")
    ModelVersion.objects.filter(model=model, name="v1").update(stage=Stage.STAGING)
    ModelVersion.objects.filter(model=org_model).update(stage=Stage.ARCHIVED)

    recount_stage_counts(model_ids=[model.pk])

    assert _counts(model) == {"unassigned": 2, "staging": 1}
    assert _counts(org_model) == {"unassigned": 1}

    recount_stage_counts()

    assert _counts(org_model) == {"archived": 1}


# Races: real threads on PostgreSQL, where select_for_update and unique indexes block.


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_registrations_of_one_name_register_it_once() -> None:
    alice, bob = UserFactory.create(username="alice"), UserFactory.create(username="bob")

    results = race(
        lambda: register_model(actor=alice, name="Race"),
        lambda: register_model(actor=bob, name="race"),
    )

    assert sorted(type(r).__name__ for r in results) == ["CatalogError", "RegisteredModel"]
    assert RegisteredModel.objects.count() == 1
    assert ActivityEntry.objects.filter(verb=Verb.MODEL_REGISTERED).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_registrations_of_one_version_name_register_it_once() -> None:
    alice = UserFactory.create(username="alice")
    bob = UserFactory.create(username="bob")
    model = ModelFactory.create(owner=alice, name="Race")
    add_collaborator(actor=alice, model=model, user=bob, role=Role.EDITOR)

    results = race(
        lambda: register_version(actor=alice, model=RegisteredModel.objects.get(pk=model.pk), name="v1"),
        lambda: register_version(actor=bob, model=RegisteredModel.objects.get(pk=model.pk), name="v1"),
    )

    assert sorted(type(r).__name__ for r in results) == ["CatalogError", "ModelVersion"]
    assert model.versions.count() == 1
    assert ActivityEntry.objects.filter(verb=Verb.VERSION_REGISTERED).count() == 1
