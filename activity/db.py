"""Database triggers that make the activity log append-only below the ORM, for raw SQL and other clients too."""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "activity_activityentry"
MESSAGE = "activity entries are append-only"

POSTGRESQL_INSTALL = [
    f"""
    CREATE OR REPLACE FUNCTION activity_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}: % refused', TG_OP USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    f"""
    CREATE OR REPLACE TRIGGER activity_entry_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION activity_entry_append_only()
    """,
    # Row triggers do not see TRUNCATE, which empties a table in one statement.
    f"""
    CREATE OR REPLACE TRIGGER activity_entry_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION activity_entry_append_only()
    """,
]
POSTGRESQL_REMOVE = [
    f"DROP TRIGGER IF EXISTS activity_entry_append_only ON {TABLE}",
    f"DROP TRIGGER IF EXISTS activity_entry_no_truncate ON {TABLE}",
    "DROP FUNCTION IF EXISTS activity_entry_append_only()",
]

SQLITE_INSTALL = [
    f"""
    CREATE TRIGGER IF NOT EXISTS activity_entry_no_{op.lower()} BEFORE {op} ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {op} refused'); END
    """
    for op in ("UPDATE", "DELETE")
]
SQLITE_REMOVE = [f"DROP TRIGGER IF EXISTS activity_entry_no_{op}" for op in ("update", "delete")]


def _statements(connection: BaseDatabaseWrapper, *, install: bool) -> list[str]:
    if connection.vendor == "postgresql":
        return POSTGRESQL_INSTALL if install else POSTGRESQL_REMOVE
    if connection.vendor == "sqlite":
        return SQLITE_INSTALL if install else SQLITE_REMOVE
    return []


def install_triggers(connection: BaseDatabaseWrapper) -> None:
    """Create the triggers that refuse UPDATE and DELETE on the activity log, unless they exist already.

    Run by a migration and again after every migrate: SQLite rebuilds a table to alter it, which drops its triggers.
    """
    with connection.cursor() as cursor:
        for sql in _statements(connection, install=True):
            cursor.execute(sql)


def remove_triggers(connection: BaseDatabaseWrapper) -> None:
    """Drop those triggers (migrating backwards, or around a deliberate flush: see the flush command)."""
    with connection.cursor() as cursor:
        for sql in _statements(connection, install=False):
            cursor.execute(sql)
