"""Version numbers, aliases and single attributes (MLflow's tags): each a logged change by Editors."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from activity.models import ActivityEntry, Verb
from approvals.services import set_lock_level
from catalog.models import Alias, LockLevel, ModelVersion, RegisteredModel
from catalog.services import (
    CatalogError,
    delete_alias,
    delete_attribute,
    register_version,
    set_alias,
    set_attribute,
)
from tests.factories import VersionFactory


def entries(verb: Verb) -> list[dict[str, Any]]:
    return list(ActivityEntry.objects.filter(verb=verb).order_by("pk").values_list("extra", flat=True))


def test_versions_are_numbered_in_order_and_named_by_number_when_unnamed(model: RegisteredModel, owner: Any) -> None:
    first = register_version(actor=owner, model=model, name="v1.0.0")
    second = register_version(actor=owner, model=model, name=None)
    third = register_version(actor=owner, model=model, name="release-3", run_id="run-42")

    assert [(v.name, v.number) for v in (first, second, third)] == [("v1.0.0", 1), ("2", 2), ("release-3", 3)]
    assert ModelVersion.objects.get(pk=third.pk).run_id == "run-42"


def test_an_alias_names_one_version_and_moves(model: RegisteredModel, owner: Any, editor: Any) -> None:
    one, two = (VersionFactory.create(model=model, name=name) for name in ("v1", "v2"))
    set_alias(actor=editor, version=one, alias="champion")
    set_alias(actor=editor, version=one, alias="champion")  # already there: nothing written
    set_alias(actor=editor, version=two, alias="champion")

    assert list(Alias.objects.values_list("name", "version__name")) == [("champion", "v2")]
    assert entries(Verb.ALIAS_SET) == [{"alias": "champion"}, {"alias": "champion", "moved_from": "v1"}]
    delete_alias(actor=editor, model=model, alias="champion")
    delete_alias(actor=editor, model=model, alias="champion")
    assert not Alias.objects.exists()
    assert entries(Verb.ALIAS_DELETED) == [{"alias": "champion"}]


@pytest.mark.parametrize(
    ("alias", "message"),
    [
        ("", "An alias is 1–255 letters, digits, '_' or '-'"),
        ("has space", "An alias is 1–255 letters, digits, '_' or '-'"),
        ("latest", "“latest” is reserved"),
        ("V12", "“V12” is reserved"),
        ("x" * 256, "An alias is 1–255"),
    ],
)
def test_a_bad_alias_is_refused(version: ModelVersion, owner: Any, alias: str, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        set_alias(actor=owner, version=version, alias=alias)
    assert not Alias.objects.exists()


@pytest.mark.parametrize("persona", ["viewer", "reviewer", "outsider"])
def test_only_editors_and_owners_set_aliases(
    request: pytest.FixtureRequest, version: ModelVersion, persona: str
) -> None:
    with pytest.raises(PermissionDenied, match=r"^Only editors and owners of this model can set its aliases\.$"):
        set_alias(actor=request.getfixturevalue(persona), version=version, alias="champion")
    assert not Alias.objects.exists()
    assert not entries(Verb.ALIAS_SET)


def test_an_alias_may_name_a_locked_version(version: ModelVersion, owner: Any) -> None:
    set_lock_level(actor=owner, version=version, lock_level=LockLevel.CLOSED)
    set_alias(actor=owner, version=version, alias="frozen")
    assert Alias.objects.get().version == version


def test_one_attribute_at_a_time(model: RegisteredModel, version: ModelVersion, editor: Any) -> None:
    set_attribute(actor=editor, target=version, key="auc", value="0.94")
    set_attribute(actor=editor, target=version, key="framework", value="xgboost")
    set_attribute(actor=editor, target=version, key="framework", value="xgboost")  # the same: nothing written
    delete_attribute(actor=editor, target=version, key="auc")
    delete_attribute(actor=editor, target=version, key="missing")
    set_attribute(actor=editor, target=model, key="team", value="risk")

    assert ModelVersion.objects.get(pk=version.pk).attributes == {"framework": "xgboost"}
    assert RegisteredModel.objects.get(pk=model.pk).attributes == {"team": "risk"}
    assert entries(Verb.VERSION_EDITED) == [
        {"fields": ["attributes"], "set": ["auc"]},
        {"fields": ["attributes"], "set": ["framework"]},
        {"fields": ["attributes"], "removed": "auc"},
    ]
    assert entries(Verb.MODEL_EDITED) == [{"fields": ["attributes"], "set": ["team"]}]


def test_attributes_keep_their_limits_and_locks(version: ModelVersion, owner: Any, viewer: Any) -> None:
    with pytest.raises(CatalogError, match="longer than 500 characters"):
        set_attribute(actor=owner, target=version, key="note", value="x" * 501)
    with pytest.raises(PermissionDenied, match=r"^Only editors and owners of this model can edit its versions\.$"):
        set_attribute(actor=viewer, target=version, key="k", value="v")
    set_lock_level(actor=owner, version=version, lock_level=LockLevel.CLOSED)
    with pytest.raises(CatalogError, match=r"is locked \(Closed\); its metadata cannot change"):
        set_attribute(actor=owner, target=version, key="k", value="v")
    assert ModelVersion.objects.get(pk=version.pk).attributes == {}
