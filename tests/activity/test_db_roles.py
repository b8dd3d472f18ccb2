"""PostgreSQL's two roles (setup_db_roles): connected as the app's role, nothing can change or remove the log, switch
its triggers off, or back-date an entry; the app itself works as that role."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import InternalError, connection
from django.utils import timezone

from activity import chain
from activity.db import TABLE
from activity.management.commands.setup_db_roles import statements
from activity.models import ActivityEntry, ChainLink, Verb
from tests.factories import ModelFactory, UserFactory

# PostgreSQL's roles belong to the whole server, not to one worker's test database: one worker runs this file.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("db-roles")]

OWNER, APP, PASSWORD = "mc_log_test_owner", "mc_log_test_app", "app-secret"


@pytest.fixture
def app_connection() -> Iterator[psycopg.Connection[Any]]:
    """A connection to the test database as the app's role, set up by the command as a superuser would."""
    _set_up_roles()
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        dbname=settings["NAME"],
        user=APP,
        password=PASSWORD,
        autocommit=True,
    ) as app:
        yield app


def _set_up_roles(attempts: int = 3) -> None:
    """Run the command; roles belong to the whole server, and PostgreSQL refuses an ALTER ROLE that meets another
    session's change of the same role ("tuple concurrently updated"), which another test run on the server can
    make: then it runs again, as an operator would."""
    for attempt in range(attempts):
        try:
            _run_setup_db_roles()
            return
        except InternalError as error:
            if "tuple concurrently updated" not in str(error) or attempt == attempts - 1:
                raise


def _run_setup_db_roles() -> None:
    call_command(
        "setup_db_roles",
        "--owner",
        OWNER,
        "--app",
        APP,
        "--create-roles",
        "--app-password",
        PASSWORD,
        "--owner-password",
        PASSWORD,
        "--execute",
        stdout=_Quiet(),
    )


class _Quiet:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass


@pytest.fixture
def entry() -> ActivityEntry:
    owner = UserFactory.create(username="owner")
    model = ModelFactory.create(owner=owner, name="Churn Predictor")
    return ActivityEntry.objects.filter(model=model).order_by("-pk").first()  # type: ignore[return-value]


def _refused(app: psycopg.Connection[Any], sql: str, message: str) -> None:
    with pytest.raises(psycopg.Error, match=message):
        app.execute(sql)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (f"UPDATE {TABLE} SET comment = 'x'", "permission denied for table activity_activityentry"),
        (f"DELETE FROM {TABLE}", "permission denied for table activity_activityentry"),
        (f"TRUNCATE {TABLE}", "permission denied for table activity_activityentry"),
        (f"ALTER TABLE {TABLE} DISABLE TRIGGER activity_entry_append_only", "must be owner of table"),
        (f"ALTER TABLE {TABLE} DISABLE TRIGGER ALL", "must be owner of table"),
        (f"DROP TRIGGER activity_entry_stamp ON {TABLE}", "must be owner of (table|relation)"),
        ("SET session_replication_role = replica", 'permission denied to set parameter "session_replication_role"'),
        (f"SET ROLE {OWNER}", f'permission denied to set role "{OWNER}"'),
        ("UPDATE activity_chainlink SET entry_hash = ''", "permission denied for table activity_chainlink"),
        ("INSERT INTO activity_chainlink VALUES (999999, 1, '', '')", "permission denied for table activity_chainlink"),
        ("DELETE FROM activity_chainlink", "permission denied for table activity_chainlink"),
        ("CREATE TABLE activity_shadow (id int)", "permission denied for schema public"),
    ],
)
def test_the_app_role_cannot_change_the_log_or_switch_its_guards_off(
    app_connection: psycopg.Connection[Any], entry: ActivityEntry, sql: str, message: str
) -> None:
    before = list(ActivityEntry.objects.order_by("pk").values())

    _refused(app_connection, sql, message)

    assert list(ActivityEntry.objects.order_by("pk").values()) == before
    assert chain.verify().ok


def test_a_back_dated_insert_by_the_app_role_gets_the_database_time_and_is_chained(
    app_connection: psycopg.Connection[Any], entry: ActivityEntry
) -> None:
    a_year_ago = timezone.now() - timedelta(days=365)
    started = datetime.now(UTC)
    row = app_connection.execute(
        f"INSERT INTO {TABLE} (created_at, actor_id, verb, model_id, from_stage, to_stage, comment, extra) "
        "VALUES (%s, %s, 'stage_changed', %s, 'staging', 'production', 'forged', '{}') RETURNING id, created_at",
        [a_year_ago, entry.actor_id, entry.model_id],
    ).fetchone()
    assert row is not None
    forged_id, stamped = row

    assert stamped >= started - timedelta(seconds=5)  # the database's clock, not the year-old time given
    stored = ActivityEntry.objects.get(pk=forged_id)
    assert stored.created_at == stamped
    assert (stored.actor_username, stored.model_name) == ("owner", "Churn Predictor")  # named by the database
    assert ChainLink.objects.filter(entry_id=forged_id).exists()  # linked as its transaction committed
    assert chain.verify().ok


def test_the_app_role_may_insert_and_read_entries_and_write_the_other_tables(
    app_connection: psycopg.Connection[Any], entry: ActivityEntry
) -> None:
    app_connection.execute(
        f"INSERT INTO {TABLE} (actor_id, verb, model_id, from_stage, to_stage, comment, extra) "
        "VALUES (%s, %s, %s, '', '', 'by the app', '{}')",
        [entry.actor_id, Verb.COMMENTED.value, entry.model_id],
    )
    app_connection.execute("UPDATE catalog_registeredmodel SET description = 'edited by the app'")

    assert app_connection.execute(f"SELECT count(*) FROM {TABLE}").fetchone() == (ActivityEntry.objects.count(),)
    assert ActivityEntry.objects.filter(comment="by the app", actor_username="owner").exists()


def test_the_owner_role_may_replay_history(entry: ActivityEntry) -> None:
    """Superusers and the owner (migrations, seeding, replaying the demo's history) keep the time they give."""
    long_ago = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)

    replayed = ActivityEntry.objects.create(
        created_at=long_ago, actor_id=entry.actor_id, verb=Verb.COMMENTED, model_id=entry.model_id
    )

    assert ActivityEntry.objects.get(pk=replayed.pk).created_at == long_ago


def test_the_sql_is_idempotent_and_printed_without_execute(app_connection: psycopg.Connection[Any]) -> None:
    out = _Collect()
    call_command("setup_db_roles", "--owner", OWNER, "--app", APP, stdout=out)
    call_command("setup_db_roles", "--owner", OWNER, "--app", APP, "--execute", stdout=_Quiet())

    assert f'REVOKE UPDATE, DELETE ON "public"."activity_activityentry" FROM "{APP}"; END IF; END $$;' in out.text
    printed = statements(owner=OWNER, app=APP, database=connection.settings_dict["NAME"])
    assert all(statement.rstrip() + ";\n" in out.text for statement in printed)
    _refused(app_connection, f"DELETE FROM {TABLE}", "permission denied")


def test_the_app_and_the_owner_must_be_two_roles() -> None:
    with pytest.raises(CommandError, match="both postgres: the app would own the log"):
        call_command("setup_db_roles", "--app-url", "postgres://postgres@127.0.0.1/x", stdout=_Quiet())


class _Collect(_Quiet):
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text


def test_the_app_role_compiles_no_queries_even_without_the_apps_connection_options(
    app_connection: psycopg.Connection[Any],
) -> None:
    """Behind PgBouncer the app cannot ask for jit=off when it connects (config/settings.py): the role says it."""
    assert app_connection.execute("SHOW jit").fetchone() == ("off",)
