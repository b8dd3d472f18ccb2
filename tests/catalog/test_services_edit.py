"""edit_model and edit_version: the fields changed and listed in the activity entry, nothing written when nothing
changed, and each guard."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from activity.models import Verb
from catalog.models import LockLevel, ModelVersion, RegisteredModel, Visibility
from catalog.services import CatalogError, edit_model, edit_version
from tests.factories import ModelFactory
from tests.helpers import LONG_AGO, backdate, database_state, last_entry, updated_at

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
    backdate(model)

    _edit_model(editor, model, description="  New words.  ", labels=["nlp", "churn"], task_type="classification")

    model.refresh_from_db()
    assert model.description == "New words."
    assert model.task_type == "classification"
    assert sorted(model.labels.values_list("name", flat=True)) == ["churn", "nlp"]
    assert model.updated_at > LONG_AGO
    entry = last_entry()
    assert entry.verb == Verb.MODEL_EDITED
    assert entry.actor == editor
    assert entry.model == model
    assert entry.extra == {"fields": ["description", "task_type", "labels"]}


def test_edit_model_writes_no_entry_when_nothing_changed(model: RegisteredModel, owner: Any) -> None:
    backdate(model)
    before = database_state()

    _edit_model(owner, model, description=f"  {model.description}  ", visibility=model.visibility)

    assert database_state() == before
    assert updated_at(model) == LONG_AGO


def test_edit_model_removing_every_label_is_a_change(owner: Any) -> None:
    model = ModelFactory.create(owner=owner, labels=["nlp"])

    _edit_model(owner, model, labels=[])

    assert not model.labels.exists()
    assert last_entry().extra == {"fields": ["labels"]}


def test_owner_changes_visibility(model: RegisteredModel, owner: Any) -> None:
    _edit_model(owner, model, visibility=Visibility.ORGANIZATION)

    model.refresh_from_db()
    assert model.visibility == Visibility.ORGANIZATION
    assert last_entry().extra == {"fields": ["visibility"]}


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
    backdate(model)

    _edit_version(editor, version, attributes={"auc": "0.91"}, labels=["gbm"], artifact_uri="s3://x/y")

    version.refresh_from_db()
    assert version.attributes == {"auc": "0.91"}
    assert version.artifact_uri == "s3://x/y"
    assert list(version.labels.values_list("name", flat=True)) == ["gbm"]
    assert updated_at(model) > LONG_AGO
    entry = last_entry()
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
