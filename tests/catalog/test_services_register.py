"""register_model and register_version: success, each guard, the activity entry written and nothing changed on
refusal, and racing registrations of one name on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from activity.models import ActivityEntry, Verb
from catalog.models import (
    Label,
    LockLevel,
    ModelVersion,
    RegisteredModel,
    RegisteredModelGroupObjectPermission,
    RegisteredModelUserObjectPermission,
    Stage,
    Visibility,
)
from catalog.permissions import ROLE_PERMISSIONS, Role
from catalog.services import CatalogError, add_collaborator, register_model, register_version
from tests.factories import ModelFactory, UserFactory
from tests.helpers import LONG_AGO, backdate, database_state, last_entry, race, updated_at, user_perms

# register_model


def test_register_model_gives_the_actor_exactly_the_owner_role(owner: Any) -> None:
    model = register_model(actor=owner, name="Fraud Detector", description="  Flags fraud.  ", labels=["risk", "nlp"])

    model.refresh_from_db()
    assert model.owner == owner
    assert model.name == "Fraud Detector"
    assert model.description == "Flags fraud."
    assert sorted(model.labels.values_list("name", flat=True)) == ["nlp", "risk"]
    assert user_perms(model, owner) == set(ROLE_PERMISSIONS[Role.OWNER])
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
def test_register_model_refuses_unknown_choices(owner: Any, choices: dict[str, Any]) -> None:
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
    backdate(model)

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
    assert updated_at(model) > LONG_AGO


def test_register_version_writes_a_version_registered_entry(model: RegisteredModel, editor: Any) -> None:
    version = register_version(actor=editor, model=model, name="v2")

    entry = last_entry()
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
    backdate(model)
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
