"""The database itself refuses to change or delete activity entries: raw SQL, flush and migrate included."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import ProtectedError

from activity.db import TABLE, install_triggers
from activity.models import ActivityEntry, Verb
from catalog.models import ModelVersion, RegisteredModel
from tests.factories import ModelFactory, UserFactory

# Not a skip: CI on PostgreSQL (REQUIRE_POSTGRES=1) fails on any skipped test, as conftest.py does for the reverse.
sqlite_only = pytest.mark.xfail(
    connection.vendor != "sqlite",
    reason="SQLite's triggers; PostgreSQL's have their own test",
    run=False,
    strict=True,
)


def _log() -> list[Any]:
    return list(ActivityEntry.objects.order_by("pk").values())


def _raw(sql: str, params: list[Any] | None = None) -> None:
    # atomic: on PostgreSQL a failed statement aborts the transaction it runs in, here the test's own.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _triggers() -> list[str]:
    """The names of the triggers on the activity log, read from the database's own catalog."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE])
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [TABLE])
        return sorted(name for (name,) in cursor.fetchall())


def _assert_refuses_raw_update_and_delete(entry: ActivityEntry) -> None:
    before = _log()

    with pytest.raises(IntegrityError, match="activity entries are append-only: UPDATE refused"):
        _raw(f"UPDATE {TABLE} SET comment = 'x' WHERE id = %s", [entry.pk])
    with pytest.raises(IntegrityError, match="activity entries are append-only: DELETE refused"):
        _raw(f"DELETE FROM {TABLE} WHERE id = %s", [entry.pk])

    assert _log() == before


# Raw SQL


def test_raw_update_is_refused_and_the_entry_is_unchanged(entry: ActivityEntry) -> None:
    before = _log()

    with pytest.raises(IntegrityError, match="activity entries are append-only: UPDATE refused") as refused:
        _raw(f"UPDATE {TABLE} SET comment = 'x' WHERE id = %s", [entry.pk])

    assert isinstance(refused.value, DatabaseError)
    assert ActivityEntry.objects.values_list("comment", flat=True).get(pk=entry.pk) == "original comment"
    assert _log() == before


def test_raw_delete_is_refused_and_the_entry_remains(entry: ActivityEntry) -> None:
    before = _log()

    with pytest.raises(IntegrityError, match="activity entries are append-only: DELETE refused"):
        _raw(f"DELETE FROM {TABLE} WHERE id = %s", [entry.pk])

    assert ActivityEntry.objects.filter(pk=entry.pk).exists()
    assert _log() == before


@pytest.mark.parametrize(
    ("sql", "refused"),
    [
        (f"UPDATE {TABLE} SET verb = 'stage_changed'", "UPDATE refused"),
        (f"UPDATE {TABLE} SET actor_id = actor_id", "UPDATE refused"),
        (f"DELETE FROM {TABLE}", "DELETE refused"),
    ],
)
def test_raw_sql_on_the_whole_log_changes_no_entry(entry: ActivityEntry, sql: str, refused: str) -> None:
    before = _log()
    assert len(before) > 1  # the model's registration, its collaborators, and entry

    with pytest.raises(IntegrityError, match=refused):
        _raw(sql)

    assert _log() == before


def test_raw_insert_still_adds_entries(entry: ActivityEntry) -> None:
    _raw(
        f"INSERT INTO {TABLE} (created_at, actor_id, verb, model_id, from_stage, to_stage, comment, extra) "
        "VALUES (%s, %s, %s, %s, '', '', %s, '{}')",
        [entry.created_at, entry.actor_id, Verb.MODEL_EDITED, entry.model_id, "added by hand"],
    )

    assert ActivityEntry.objects.filter(comment="added by hand").count() == 1


@pytest.mark.postgres
def test_postgresql_has_a_row_trigger_for_update_and_delete_and_one_for_truncate(entry: ActivityEntry) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname, tgenabled, pg_get_triggerdef(oid) FROM pg_trigger "
            "WHERE tgrelid = %s::regclass AND NOT tgisinternal ORDER BY tgname",
            [TABLE],
        )
        triggers = cursor.fetchall()

    assert triggers == [
        (
            "activity_entry_append_only",
            "O",  # enabled
            f"CREATE TRIGGER activity_entry_append_only BEFORE DELETE OR UPDATE ON public.{TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION activity_entry_append_only()",
        ),
        (
            "activity_entry_chain",
            "O",
            f"CREATE CONSTRAINT TRIGGER activity_entry_chain AFTER INSERT ON public.{TABLE} DEFERRABLE INITIALLY "
            "DEFERRED FOR EACH ROW EXECUTE FUNCTION activity_entry_chain()",
        ),
        (
            "activity_entry_no_truncate",
            "O",
            f"CREATE TRIGGER activity_entry_no_truncate BEFORE TRUNCATE ON public.{TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION activity_entry_append_only()",
        ),
        (
            "activity_entry_stamp",
            "O",
            f"CREATE TRIGGER activity_entry_stamp BEFORE INSERT ON public.{TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION activity_entry_stamp()",
        ),
    ]
    with pytest.raises(IntegrityError, match="activity entries are append-only: UPDATE refused") as refused:
        _raw(f"UPDATE {TABLE} SET comment = 'x' WHERE id = %s", [entry.pk])
    assert refused.value.__cause__.sqlstate == "23001"  # type: ignore[union-attr]  # restrict_violation
    # The test's transaction still holds the entry's deferred foreign key checks, which TRUNCATE would refuse on
    # their own; checked now, only the trigger is left to refuse.
    _raw("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(IntegrityError, match="activity entries are append-only: TRUNCATE refused"):
        _raw(f"TRUNCATE {TABLE} CASCADE")
    assert ActivityEntry.objects.values_list("comment", flat=True).get(pk=entry.pk) == "original comment"


@sqlite_only
def test_sqlite_has_a_trigger_for_update_and_one_for_delete(entry: ActivityEntry) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s ORDER BY name", [TABLE]
        )
        triggers = {name: " ".join(sql.split()) for name, sql in cursor.fetchall()}

    assert sorted(triggers) == ["activity_entry_chain", "activity_entry_no_delete", "activity_entry_no_update"]
    assert f"AFTER INSERT ON {TABLE}" in triggers["activity_entry_chain"]
    assert f"BEFORE DELETE ON {TABLE}" in triggers["activity_entry_no_delete"]
    assert f"BEFORE UPDATE ON {TABLE}" in triggers["activity_entry_no_update"]
    _assert_refuses_raw_update_and_delete(entry)


# Deleting what an entry refers to (the actor and the model: see test_models.py)


def test_a_version_with_entries_cannot_be_deleted(model: RegisteredModel, version: ModelVersion) -> None:
    before = _log()
    assert any(e["version_id"] == version.pk for e in before)

    with pytest.raises(ProtectedError), transaction.atomic():
        version.delete()

    assert ModelVersion.objects.filter(pk=version.pk).exists()
    assert _log() == before


# Installing again, migrate, flush


def test_installing_the_triggers_twice_changes_nothing(entry: ActivityEntry) -> None:
    installed = _triggers()
    assert installed

    install_triggers(connection)
    install_triggers(connection)

    assert _triggers() == installed
    _assert_refuses_raw_update_and_delete(entry)


def test_migrate_puts_back_triggers_that_were_dropped(entry: ActivityEntry) -> None:
    installed = _triggers()
    with connection.cursor() as cursor:
        for name in installed:
            cursor.execute(
                f"DROP TRIGGER {name}" if connection.vendor == "sqlite" else f"DROP TRIGGER {name} ON {TABLE}"
            )
    assert _triggers() == []

    call_command("migrate", verbosity=0)

    assert _triggers() == installed
    _assert_refuses_raw_update_and_delete(entry)


def _model_with_history() -> RegisteredModel:
    return ModelFactory.create(owner=UserFactory.create(username="owner"), name="Churn Predictor")


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_log_and_leaves_it_append_only() -> None:
    _model_with_history()
    assert ActivityEntry.objects.exists()
    installed = _triggers()
    assert installed

    call_command("flush", interactive=False, verbosity=0)

    assert not ActivityEntry.objects.exists()
    assert not RegisteredModel.objects.exists()
    assert _triggers() == installed
    model = _model_with_history()
    _assert_refuses_raw_update_and_delete(ActivityEntry.objects.get(model=model, verb=Verb.MODEL_REGISTERED))


@pytest.mark.django_db(transaction=True)
def test_a_flush_that_fails_keeps_the_log_and_its_triggers() -> None:
    model = _model_with_history()
    before, installed = _log(), _triggers()

    def fail(sql_list: list[str]) -> None:
        raise DatabaseError("disk I/O error")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(connection.ops, "execute_sql_flush", fail)
        with pytest.raises(CommandError, match="couldn't be flushed"):
            call_command("flush", interactive=False, verbosity=0)

    assert _log() == before
    assert _triggers() == installed
    _assert_refuses_raw_update_and_delete(ActivityEntry.objects.get(model=model, verb=Verb.MODEL_REGISTERED))
