"""Fields, defaults and database constraints of registered models, versions and labels."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from catalog.models import (
    STAGE_ORDER,
    DataType,
    Label,
    LockLevel,
    ModelVersion,
    RegisteredModel,
    Stage,
    TaskType,
    Visibility,
)
from tests.factories import UserFactory


def _raw_model(owner: Any, **fields: Any) -> RegisteredModel:
    """Write a model row directly, bypassing the services, so only the database guards it."""
    fields.setdefault("name", "Churn")
    fields.setdefault("slug", fields["name"].lower().replace(" ", "-"))
    return RegisteredModel.objects.create(owner=owner, **fields)


def _raw_version(model: RegisteredModel, **fields: Any) -> ModelVersion:
    fields.setdefault("name", "v1")
    fields.setdefault("number", model.versions.count() + 1)
    return ModelVersion.objects.create(model=model, created_by=model.owner, **fields)


@pytest.fixture
def user(db: None) -> Any:
    return UserFactory.create(username="someone")


def test_model_name_is_unique_ignoring_case_in_the_database(user: Any) -> None:
    _raw_model(user, name="churn", slug="churn")

    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_model(user, name="Churn", slug="churn-2")

    assert list(RegisteredModel.objects.values_list("name", flat=True)) == ["churn"]


def test_model_slug_is_unique_in_the_database(user: Any) -> None:
    _raw_model(user, name="Churn", slug="churn")

    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_model(user, name="Churn!", slug="churn")


def test_version_name_is_unique_within_its_model(user: Any) -> None:
    churn = _raw_model(user, name="Churn")
    _raw_version(churn, name="v1")

    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_version(churn, name="v1")

    assert churn.versions.count() == 1


def test_two_models_may_have_versions_of_the_same_name(user: Any) -> None:
    churn = _raw_model(user, name="Churn")
    fraud = _raw_model(user, name="Fraud")

    _raw_version(churn, name="v1")
    _raw_version(fraud, name="v1")

    assert ModelVersion.objects.filter(name="v1").count() == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"task_type": "astrology"},
        {"data_type": "smell"},
        {"visibility": "public"},
        {"required_approvals": 0},
        {"required_approvals": 6},
    ],
    ids=["task_type", "data_type", "visibility", "approvals_0", "approvals_6"],
)
def test_model_check_constraints_refuse_values_outside_the_choices(user: Any, fields: dict[str, Any]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_model(user, **fields)

    assert not RegisteredModel.objects.exists()


@pytest.mark.parametrize("approvals", [1, 5])
def test_required_approvals_accepts_the_bounds(user: Any, approvals: int) -> None:
    model = _raw_model(user, required_approvals=approvals)

    model.refresh_from_db()
    assert model.required_approvals == approvals


@pytest.mark.parametrize(
    "fields",
    [{"stage": "retired"}, {"lock_level": "sealed"}],
    ids=["stage", "lock_level"],
)
def test_version_check_constraints_refuse_values_outside_the_choices(user: Any, fields: dict[str, Any]) -> None:
    churn = _raw_model(user)

    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_version(churn, **fields)

    assert not ModelVersion.objects.exists()


def test_every_stage_and_lock_level_is_accepted_by_the_database(user: Any) -> None:
    churn = _raw_model(user)

    for stage in Stage:
        for lock_level in LockLevel:
            _raw_version(churn, name=f"{stage.value}-{lock_level.value}", stage=stage, lock_level=lock_level)

    assert churn.versions.count() == len(Stage) * len(LockLevel)


def test_model_defaults(user: Any) -> None:
    model = _raw_model(user)

    model.refresh_from_db()
    assert model.required_approvals == 1
    assert model.visibility == Visibility.ORGANIZATION
    assert model.task_type == TaskType.UNKNOWN
    assert model.data_type == DataType.UNKNOWN
    assert model.description == ""
    assert model.created_at is not None
    assert model.updated_at is not None


def test_version_defaults(user: Any) -> None:
    version = _raw_version(_raw_model(user))

    version.refresh_from_db()
    assert version.stage == Stage.UNASSIGNED
    assert version.lock_level == LockLevel.OPEN
    assert version.is_locked is False
    assert version.attributes == {}
    assert version.stage_changed_at is None


@pytest.mark.parametrize("lock_level", [LockLevel.CLOSED, LockLevel.REDACT])
def test_version_is_locked_unless_open(user: Any, lock_level: LockLevel) -> None:
    version = _raw_version(_raw_model(user), lock_level=lock_level)

    assert version.is_locked is True


def test_str_of_model_version_and_label(user: Any) -> None:
    model = _raw_model(user, name="Churn Predictor", slug="churn-predictor")
    version = _raw_version(model, name="v1.2.0")
    label = Label.objects.create(name="nlp")

    assert str(model) == "Churn Predictor"
    assert str(version) == "Churn Predictor v1.2.0"
    assert str(label) == "nlp"


def test_label_name_is_unique(db: None) -> None:
    Label.objects.create(name="nlp")

    with pytest.raises(IntegrityError), transaction.atomic():
        Label.objects.create(name="nlp")


def test_stage_order_lists_every_stage_once_in_lifecycle_order() -> None:
    assert list(STAGE_ORDER) == [Stage.UNASSIGNED, Stage.DEVELOPMENT, Stage.STAGING, Stage.PRODUCTION, Stage.ARCHIVED]
    assert set(STAGE_ORDER) == set(Stage)
