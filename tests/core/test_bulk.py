"""core.bulk.insert: the rows it writes read back as bulk_create's do, with keys the table keeps giving out after, a few
rows at a time (one INSERT) and many (COPY on PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from activity.models import ActivityEntry, Verb
from catalog.models import Alias, ModelVersion, Stage
from core import bulk
from tests.factories import VersionFactory


@pytest.mark.parametrize("count", [3, bulk.VALUES_ROWS + 2], ids=["one INSERT", "COPY or bulk_create"])
def test_inserted_rows_read_back_with_their_values_and_keys(owner: Any, model: Any, count: int) -> None:
    moment = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    versions = [
        ModelVersion(
            model=model,
            name=f"{n}.0",
            number=n,
            stage=Stage.STAGING if n % 2 else Stage.UNASSIGNED,
            description="Line one.\nLine two, with a tab\tand a backslash \\ and “quotes”.",
            attributes={"auc": 0.91, "framework": "xgboost", "nested": None, "ok": True},
            artifact_uri=f"s3://bucket/{n}/model.bin",
            created_by=owner,
            created_at=moment,
            updated_at=moment,
            stage_changed_at=moment if n % 2 else None,
        )
        for n in range(1, count + 1)
    ]

    made = bulk.insert(versions)

    assert [v.pk for v in made] == sorted({v.pk for v in made})
    assert all(not v._state.adding for v in made)
    for version in made:
        stored = ModelVersion.objects.get(pk=version.pk)
        assert (stored.model_id, stored.name, stored.number, stored.stage) == (
            model.pk,
            version.name,
            version.number,
            version.stage,
        )
        assert stored.description == versions[0].description
        assert stored.attributes == {"auc": 0.91, "framework": "xgboost", "nested": None, "ok": True}
        assert (stored.created_at, stored.updated_at, stored.stage_changed_at) == (
            moment,
            moment,
            version.stage_changed_at,
        )
    later = VersionFactory.create(model=model, name="later")  # the table's own keys go on after the inserted ones
    assert later.pk > max(v.pk for v in made)


def test_entries_point_at_the_rows_inserted_before_them(owner: Any, model: Any) -> None:
    [version] = bulk.insert([ModelVersion(model=model, name="1", number=1, created_by=owner)])
    [entry] = bulk.insert(
        [ActivityEntry(actor=owner, verb=Verb.VERSION_REGISTERED, model=model, version=version, extra={"k": "v"})]
    )

    stored = ActivityEntry.objects.get(pk=entry.pk)
    assert (stored.version_id, stored.model_id, stored.actor_id, stored.extra) == (
        version.pk,
        model.pk,
        owner.pk,
        {"k": "v"},
    )
    # The time the database gave the entry (its default, or its trigger on PostgreSQL) is on the instance returned.
    assert entry.created_at == stored.created_at


@pytest.mark.postgres  # off PostgreSQL, bulk_create decides this itself
def test_a_field_left_to_the_database_on_some_instances_only_is_refused(owner: Any, model: Any) -> None:
    entries = [ActivityEntry(actor=owner, verb=Verb.COMMENTED, model=model, comment=str(n)) for n in range(2)]
    entries[1].created_at = datetime.now(UTC)
    with pytest.raises(ValueError, match="on every instance, or on none"):
        bulk.insert(entries)


def test_a_violated_constraint_is_an_integrity_error(owner: Any, model: Any, version: Any) -> None:
    Alias.objects.create(model=model, version=version, name="champion")
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert([Alias(model=model, version=version, name="champion")])
    assert Alias.objects.count() == 1


def test_nothing_to_insert_is_no_query(django_assert_num_queries: Any, db: None) -> None:
    with django_assert_num_queries(0):
        assert bulk.insert([]) == []
