"""Database triggers that guard the activity log below the ORM, for raw SQL and other clients too.

- Append-only: UPDATE, DELETE and TRUNCATE of entries (and of their chain links) are refused.
- Stamped (PostgreSQL): the database sets an entry's time; only members of the table's owner role may supply one
  (to replay history), so the app's role cannot back-date an entry. It also fills the names an entry keeps of its
  actor, model and version when a raw INSERT leaves them empty.
- Chained: every entry gets its place in the hash chain (activity.chain) from the database, whoever inserts it. On
  PostgreSQL a deferred constraint trigger links the transaction's entries as it commits, under an advisory lock,
  so the chain's one global lock is held only for the commit and after every other lock the transaction takes (no
  lock-order deadlock with the services' row locks). On SQLite, which has one writer at a time, a trigger links
  each entry as it is inserted, hashing it with a function that activity.apps registers on every connection.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

from activity.chain import CANONICAL_FIELDS, SQLITE_HASH_FUNCTION

TABLE = "activity_activityentry"
CHAIN_TABLE = "activity_chainlink"
MESSAGE = "activity entries are append-only"
# Any fixed number: pg_advisory_xact_lock's key for "the chain's head", held from linking to the end of the commit.
CHAIN_LOCK_KEY = 4_171_021_707
GENESIS = "0" * 64

_PG_APPEND_ONLY = [
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


def _pg_content() -> str:
    """The canonical content of NEW at chain position head_seq + 1, in PL/pgSQL: activity.chain.canonical's twin."""
    texts = {
        "seq": "(head_seq + 1)::text",
        "prev_hash": "head_hash",
        "id": "NEW.id::text",
        "created_at": """to_char(NEW.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')""",
        "actor_id": "NEW.actor_id::text",
        "model_id": "NEW.model_id::text",
        "version_id": "NEW.version_id::text",
        "extra": "NEW.extra::text",
    }
    return " || ".join(f"activity_chain_field({texts.get(name, f'NEW.{name}')})" for name in CANONICAL_FIELDS)


_PG_INTEGRITY = [
    """
    CREATE OR REPLACE FUNCTION activity_chain_field(value text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
        SELECT length(coalesce(value, ''))::text || ':' || coalesce(value, '')
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION activity_entry_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.created_at IS NULL OR NOT pg_has_role(
            current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER'
        ) THEN
            NEW.created_at := clock_timestamp();
        END IF;
        IF coalesce(NEW.actor_username, '') = '' THEN
            NEW.actor_username := coalesce((SELECT username FROM auth_user WHERE id = NEW.actor_id), '');
        END IF;
        IF coalesce(NEW.model_name, '') = '' AND NEW.model_id IS NOT NULL THEN
            NEW.model_name := coalesce((SELECT name FROM catalog_registeredmodel WHERE id = NEW.model_id), '');
        END IF;
        IF coalesce(NEW.version_name, '') = '' AND NEW.version_id IS NOT NULL THEN
            NEW.version_name := coalesce((SELECT name FROM catalog_modelversion WHERE id = NEW.version_id), '');
        END IF;
        RETURN NEW;
    END
    $$
    """,
    f"""
    CREATE OR REPLACE TRIGGER activity_entry_stamp BEFORE INSERT ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION activity_entry_stamp()
    """,
    # SECURITY DEFINER: the app's role may insert entries but not links; the function links as its owner.
    f"""
    CREATE OR REPLACE FUNCTION activity_entry_chain() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
    DECLARE
        head_seq bigint;
        head_hash text;
    BEGIN
        PERFORM pg_advisory_xact_lock({CHAIN_LOCK_KEY});
        -- A new statement after the lock: it sees every link committed before the lock was granted.
        SELECT seq, entry_hash INTO head_seq, head_hash FROM {CHAIN_TABLE} ORDER BY seq DESC LIMIT 1;
        IF NOT FOUND THEN
            head_seq := 0;
            head_hash := '{GENESIS}';
        END IF;
        INSERT INTO {CHAIN_TABLE} (seq, entry_id, prev_hash, entry_hash)
        VALUES (head_seq + 1, NEW.id, head_hash, encode(sha256(convert_to({_pg_content()}, 'UTF8')), 'hex'));
        RETURN NULL;
    END
    $$
    """,
    # A constraint trigger cannot be replaced in place.
    f"DROP TRIGGER IF EXISTS activity_entry_chain ON {TABLE}",
    f"""
    CREATE CONSTRAINT TRIGGER activity_entry_chain AFTER INSERT ON {TABLE}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION activity_entry_chain()
    """,
    f"""
    CREATE OR REPLACE TRIGGER activity_chain_append_only BEFORE UPDATE OR DELETE ON {CHAIN_TABLE}
    FOR EACH ROW EXECUTE FUNCTION activity_entry_append_only()
    """,
    f"""
    CREATE OR REPLACE TRIGGER activity_chain_no_truncate BEFORE TRUNCATE ON {CHAIN_TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION activity_entry_append_only()
    """,
]

_PG_REMOVE_INTEGRITY = [
    f"DROP TRIGGER IF EXISTS activity_entry_stamp ON {TABLE}",
    f"DROP TRIGGER IF EXISTS activity_entry_chain ON {TABLE}",
    f"DROP TRIGGER IF EXISTS activity_chain_append_only ON {CHAIN_TABLE}",
    f"DROP TRIGGER IF EXISTS activity_chain_no_truncate ON {CHAIN_TABLE}",
    "DROP FUNCTION IF EXISTS activity_entry_stamp()",
    "DROP FUNCTION IF EXISTS activity_entry_chain()",
    "DROP FUNCTION IF EXISTS activity_chain_field(text)",
]
_PG_REMOVE_APPEND_ONLY = [
    f"DROP TRIGGER IF EXISTS activity_entry_append_only ON {TABLE}",
    f"DROP TRIGGER IF EXISTS activity_entry_no_truncate ON {TABLE}",
    "DROP FUNCTION IF EXISTS activity_entry_append_only()",
]


def _sqlite_append_only(table: str, prefix: str) -> list[str]:
    return [
        f"""
        CREATE TRIGGER IF NOT EXISTS {prefix}_no_{op.lower()} BEFORE {op} ON {table}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {op} refused'); END
        """
        for op in ("UPDATE", "DELETE")
    ]


_SQLITE_APPEND_ONLY = _sqlite_append_only(TABLE, "activity_entry")
_SQLITE_NEW = ", ".join(f"NEW.{name}" for name in CANONICAL_FIELDS[2:])
_SQLITE_INTEGRITY = [
    f"""
    CREATE TRIGGER IF NOT EXISTS activity_entry_chain AFTER INSERT ON {TABLE}
    BEGIN
        INSERT INTO {CHAIN_TABLE} (seq, entry_id, prev_hash, entry_hash)
        SELECT head.seq + 1, NEW.id, head.hash,
               {SQLITE_HASH_FUNCTION}(head.seq + 1, head.hash, {_SQLITE_NEW})
        FROM (
            SELECT COALESCE(MAX(seq), 0) AS seq,
                   COALESCE((SELECT entry_hash FROM {CHAIN_TABLE} ORDER BY seq DESC LIMIT 1), '{GENESIS}') AS hash
            FROM {CHAIN_TABLE}
        ) AS head;
    END
    """,
    *_sqlite_append_only(CHAIN_TABLE, "activity_chain"),
]
_SQLITE_REMOVE_APPEND_ONLY = [f"DROP TRIGGER IF EXISTS activity_entry_no_{op}" for op in ("update", "delete")]
_SQLITE_REMOVE_INTEGRITY = [
    "DROP TRIGGER IF EXISTS activity_entry_chain",
    *(f"DROP TRIGGER IF EXISTS activity_chain_no_{op}" for op in ("update", "delete")),
]


def database_stamps_time(connection: BaseDatabaseWrapper) -> bool:
    """Whether the database sets an entry's time (PostgreSQL); on SQLite, a development database, the app does."""
    return connection.vendor == "postgresql"


def _run(connection: BaseDatabaseWrapper, statements: dict[str, list[str]]) -> None:
    with connection.cursor() as cursor:
        for sql in statements.get(connection.vendor, []):
            cursor.execute(sql)


def install_append_only(connection: BaseDatabaseWrapper) -> None:
    """Create the triggers that refuse UPDATE and DELETE of entries, unless they exist (migration 0005's)."""
    _run(connection, {"postgresql": _PG_APPEND_ONLY, "sqlite": _SQLITE_APPEND_ONLY})


def install_integrity(connection: BaseDatabaseWrapper) -> None:
    """Create the stamping and chaining triggers, and the append-only ones of the chain (migration 0011's)."""
    _run(connection, {"postgresql": _PG_INTEGRITY, "sqlite": _SQLITE_INTEGRITY})


def install_triggers(connection: BaseDatabaseWrapper) -> None:
    """Create every trigger of the log, unless it exists already.

    Run by migrations and again after every migrate: SQLite rebuilds a table to alter it, which drops its triggers.
    """
    install_append_only(connection)
    install_integrity(connection)


def remove_triggers(connection: BaseDatabaseWrapper) -> None:
    """Drop those triggers (migrating backwards, or around a deliberate flush: see the flush command)."""
    _run(
        connection,
        {
            "postgresql": _PG_REMOVE_INTEGRITY + _PG_REMOVE_APPEND_ONLY,
            "sqlite": _SQLITE_REMOVE_INTEGRITY + _SQLITE_REMOVE_APPEND_ONLY,
        },
    )


def remove_integrity(connection: BaseDatabaseWrapper) -> None:
    """Drop the stamping and chaining triggers only (migrating 0011 backwards)."""
    _run(connection, {"postgresql": _PG_REMOVE_INTEGRITY, "sqlite": _SQLITE_REMOVE_INTEGRITY})
