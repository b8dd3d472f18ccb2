"""import_models, import_versions and import_aliases (what import_mlflow writes through): the same decisions, limits
and activity entries as one-at-a-time registration, what is already here left as it is, and a bounded number of
queries per batch whatever its size."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from activity.models import ActivityEntry, Verb
from catalog.models import Alias, ModelVersion, RegisteredModel, Stage
from catalog.permissions import ROLE_PERMISSIONS, Role
from catalog.services import (
    ImportedAlias,
    ImportedModel,
    ImportedVersion,
    import_aliases,
    import_models,
    import_versions,
    register_version,
)
from tests.helpers import user_perms

ORIGIN = {"from": "MLflow", "server": "http://127.0.0.1:5000"}
THEN = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_import_models_registers_owned_models_with_their_times_and_one_entry_each(owner: Any, model: Any) -> None:
    outcome = import_models(
        actor=owner,
        models=[
            ImportedModel(
                name="Fraud", description="Flags.", attributes={"team": "risk"}, created_at=THEN, origin=ORIGIN
            ),
            ImportedModel(name="churn predictor", origin=ORIGIN),  # the `model` fixture's name, in another case
            ImportedModel(name="Bad", attributes={"k": "x" * 501}, origin=ORIGIN),
        ],
    )  # fmt: skip

    [fraud] = outcome.created
    assert [item.name for item in outcome.existing] == ["churn predictor"]
    assert [(item.name, reason) for item, reason in outcome.failed] == [
        ("Bad", "Attribute “k” is longer than 500 characters.")
    ]
    fraud.refresh_from_db()
    assert (fraud.owner, fraud.description, fraud.attributes, fraud.created_at) == (
        owner,
        "Flags.",
        {"team": "risk"},
        THEN,
    )
    assert fraud.slug == "fraud"
    assert user_perms(fraud, owner) == set(ROLE_PERMISSIONS[Role.OWNER])
    entry = ActivityEntry.objects.get(model=fraud)
    assert (entry.verb, entry.actor, entry.extra) == (
        Verb.MODEL_REGISTERED,
        owner,
        {"name": "Fraud", "imported": ORIGIN},
    )
    assert not RegisteredModel.objects.filter(name="Bad").exists()


def test_import_versions_keeps_numbers_stages_and_counts(owner: Any, model: Any) -> None:
    items = [
        ImportedVersion(model=model, number=1, stage=Stage.ARCHIVED, artifact_uri="s3://m/1", created_at=THEN),
        ImportedVersion(model=model, number=3, stage=Stage.PRODUCTION, run_id="abc", origin=ORIGIN | {"stage": "Pr"}),
        ImportedVersion(model=model, number=4, source_run_url="not a link"),
    ]
    outcome = import_versions(actor=owner, versions=items)

    assert [(v.name, v.number, v.stage) for v in outcome.created] == [
        ("1", 1, Stage.ARCHIVED),
        ("3", 3, Stage.PRODUCTION),
    ]
    assert [(item.number, reason) for item, reason in outcome.failed] == [(4, "Source run url: Enter a valid URL.")]
    model.refresh_from_db()
    assert (model.archived_count, model.production_count, model.unassigned_count) == (1, 1, 0)
    assert ModelVersion.objects.get(model=model, number=1).created_at == THEN
    entries = ActivityEntry.objects.filter(model=model, verb=Verb.VERSION_REGISTERED).order_by("pk")
    assert [e.extra["imported"] for e in entries] == [{}, ORIGIN | {"stage": "Pr"}]

    again = import_versions(actor=owner, versions=items[:2])
    assert (again.created, [item.number for item in again.existing]) == ([], [1, 3])
    assert ActivityEntry.objects.filter(model=model, verb=Verb.VERSION_REGISTERED).count() == 2

    # The next version registered here follows MLflow's numbering.
    assert register_version(actor=owner, model=model, name=None).number == 4


def test_import_versions_refuses_a_viewer_and_changes_nothing(viewer: Any, model: Any) -> None:
    outcome = import_versions(actor=viewer, versions=[ImportedVersion(model=model, number=1)])

    assert [reason for _, reason in outcome.failed] == ["Only editors and owners of this model can register versions."]
    assert not ModelVersion.objects.filter(model=model).exists()
    assert not ActivityEntry.objects.filter(verb=Verb.VERSION_REGISTERED).exists()


def test_import_aliases_follows_the_naming_rules(owner: Any, model: Any) -> None:
    [version] = import_versions(actor=owner, versions=[ImportedVersion(model=model, number=2)]).created
    version.model = model
    outcome = import_aliases(
        actor=owner,
        aliases=[
            ImportedAlias(version=version, name="champion", origin=ORIGIN),
            ImportedAlias(version=version, name="latest"),
        ],
    )

    assert [a.name for a in outcome.created] == ["champion"]
    assert [reason for _, reason in outcome.failed] == [
        "“latest” is reserved (latest, and v followed by digits); choose another alias."
    ]
    assert Alias.objects.get(model=model).version == version
    entry = ActivityEntry.objects.get(verb=Verb.ALIAS_SET)
    assert entry.extra == {"alias": "champion", "imported": ORIGIN}
    assert import_aliases(actor=owner, aliases=[ImportedAlias(version=version, name="champion")]).existing


def test_import_models_needs_an_active_user(owner: Any) -> None:
    owner.is_active = False
    with pytest.raises(PermissionDenied):
        import_models(actor=owner, models=[ImportedModel(name="Fraud")])


@pytest.mark.parametrize("per_model", [1, 10])
def test_a_batch_runs_the_same_queries_whatever_its_size(owner: Any, per_model: int) -> None:
    models = import_models(actor=owner, models=[ImportedModel(name=f"m{i}") for i in range(3 * per_model)]).created
    items = [ImportedVersion(model=m, number=n, stage=Stage.STAGING) for m in models for n in range(1, per_model + 1)]
    with CaptureQueriesContext(connection) as captured:
        import_versions(actor=owner, versions=items)
    # Savepoints, the lock, grants, existing numbers and names, counts, times, the model's webhooks (for the events
    # the entries make); the inserts of versions and entries are a COPY each on PostgreSQL, after a query for their
    # keys (and the entries' times, which the database sets, read back), and as many INSERTs as SQLite's limit on
    # parameters per statement needs there.
    others = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(("INSERT", "SELECT nextval"))]
    assert len(others) <= 14, others
    assert len(captured.captured_queries) - len(others) <= (2 if connection.vendor == "postgresql" else 2 * per_model)
    assert ModelVersion.objects.count() == len(items)


def test_import_models_refuses_invisible_characters_and_look_alikes(owner: Any, model: Any) -> None:
    outcome = import_models(
        actor=owner,
        models=[
            ImportedModel(name="Churn Predictоr", origin=ORIGIN),  # a Cyrillic о: looks like the `model` fixture
            ImportedModel(name="Fraud\u200b", origin=ORIGIN),
            ImportedModel(name="ＦＲＡＵＤ  Scorer", origin=ORIGIN),  # NFKC and one space: "FRAUD Scorer"
            ImportedModel(name="Fraud Sc0rer", origin=ORIGIN),  # looks like the one just before, in the same batch
        ],
    )

    assert [made.name for made in outcome.created] == ["FRAUD Scorer"]
    assert [made.name_skeleton for made in outcome.created] == [
        RegisteredModel.objects.get(name="FRAUD Scorer").name_skeleton
    ]
    reasons = {item.name: reason for item, reason in outcome.failed}
    assert "looks too much like the name of an existing model" in reasons["Churn Predictоr"]
    assert "U+200B ZERO WIDTH SPACE" in reasons["Fraud\u200b"]
    assert "looks too much like the name of an existing model" in reasons["Fraud Sc0rer"]
    assert RegisteredModel.objects.count() == 2
