"""The raw SQL of the activity padding: the one module that knows PostgreSQL from SQLite.

The padding works in temporary tables: seed_scale_actor (the scale users), seed_scale_version (the versions it may
touch, each with the span of time in which it stays in its stage) and seed_scale_unit (one row per unit of
padding), and turns the units into requests, reviews and entries with one INSERT … SELECT per kind.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.management.color import no_style
from django.db import connection
from django.db.backends.utils import CursorWrapper

from activity.models import Verb
from approvals.models import Decision, StageChangeRequest, Status
from bench.seeding.data import (
    ACTORS,
    CANCELLATION_COMMENTS,
    COMMENTS,
    LOCK_COMMENTS,
    LOCK_LEVELS,
    MIN_WINDOW_DAYS,
    MODEL_FIELDS,
    RARE_COMMENTS,
    REJECTION_COMMENTS,
    REQUEST_COMMENTS,
    REVIEWER_SHIFT,
    UNIT_KINDS,
    UNLOCK_COMMENTS,
    VERSION_FIELDS,
)
from catalog.models import LockLevel


@dataclass(frozen=True)
class Dialect:
    """The few spellings that differ between PostgreSQL and SQLite in the set-based padding of the log."""

    epoch: str  # a timestamp column {} as seconds since 1970
    timestamp: str  # seconds since 1970 {} as a value for a timestamp column
    json: str  # text {} as a value for a JSON column
    greatest: str
    least: str
    series: str  # the rows n = 0 … %s - 1


DIALECTS = {
    "postgresql": Dialect(
        epoch="CAST(extract(epoch FROM {}) AS double precision)",
        timestamp="to_timestamp({})",
        json="CAST({} AS jsonb)",
        greatest="GREATEST",
        least="LEAST",
        series="SELECT n FROM generate_series(0, %s - 1) AS n",
    ),
    "sqlite": Dialect(
        epoch="((julianday({}) - 2440587.5) * 86400.0)",
        # Milliseconds padded to the microseconds Django writes, so that text comparisons order them as instants.
        timestamp="(strftime('%%Y-%%m-%%d %%H:%%M:%%f', {}, 'unixepoch') || '000')",
        json="{}",
        greatest="max",
        least="min",
        series="WITH RECURSIVE series(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM series WHERE n + 1 < %s) "
        "SELECT n FROM series",
    ),
}

TEMPORARY_TABLES = {
    "seed_scale_actor": "slot integer PRIMARY KEY, user_id integer NOT NULL",
    # The versions padding may touch, numbered from 0, with the span of time in which each stays in its stage.
    "seed_scale_version": "rn integer PRIMARY KEY, version_id bigint, model_id bigint, stage varchar(20), "
    "required_approvals integer, editor_id integer, reviewer_id integer, model_starts double precision, "
    "starts double precision, ends double precision, done integer",
    "seed_scale_unit": "i integer PRIMARY KEY, kind varchar(10), version_id bigint, model_id bigint, "
    "stage varchar(20), to_stage varchar(20), required_approvals integer, editor_id integer, reviewer_id integer, "
    "moment double precision, gap double precision, request_id bigint",
}

FILL_VERSIONS = f"""
INSERT INTO seed_scale_version
SELECT row_number() OVER (ORDER BY w.id) - 1, w.id, w.model_id, w.stage, w.required_approvals, e.user_id, r.user_id,
       w.model_starts, w.starts, w.ends, COALESCE(done.units, 0)
FROM (
    SELECT v.id, v.model_id, v.stage, m.required_approvals, {{epoch_model}} + 2 * 86400 AS model_starts,
           {{greatest}}({{epoch_version}}, {{epoch_moved}}, {{epoch_model}} + 2 * 86400) + 3600 AS starts,
           {{least}}(%s, COALESCE((
               SELECT MIN({{epoch_request}}) - 3600 FROM approvals_stagechangerequest r
               WHERE r.version_id = v.id AND r.status = 'pending'
           ), %s)) AS ends
    FROM catalog_modelversion v JOIN catalog_registeredmodel m ON m.id = v.model_id
    WHERE m.slug LIKE 'scale-model-%%' AND v.lock_level = 'open'
) w
JOIN seed_scale_actor e ON e.slot = w.model_id %% {ACTORS}
JOIN seed_scale_actor r ON r.slot = (w.model_id + {REVIEWER_SHIFT}) %% {ACTORS}
LEFT JOIN (
    SELECT version_id, COUNT(*) AS units FROM activity_activityentry
    WHERE actor_id IN (SELECT user_id FROM seed_scale_actor) AND version_id IS NOT NULL
      AND verb NOT IN ('{Verb.STAGE_CHANGE_REJECTED.value}', '{Verb.STAGE_CHANGE_CANCELLED.value}')
    GROUP BY version_id
) done ON done.version_id = w.id
WHERE w.ends - w.starts >= {MIN_WINDOW_DAYS} * 86400
"""

# Unit i goes to version i mod V, as that version's unit number j = done + i div V, at the point j * 0.618034 (mod 1)
# of its span, shifted per version: consecutive terms of that sequence stay far apart, so pairs never overlap.
FILL_UNITS = """
INSERT INTO seed_scale_unit
SELECT s.n, CASE WHEN s.n = %s THEN 'comment' ELSE {kind} END, v.version_id, v.model_id, v.stage,
       CASE v.stage WHEN 'unassigned' THEN 'development' WHEN 'development' THEN 'staging'
                    WHEN 'staging' THEN 'production' WHEN 'archived' THEN 'production'
                    ELSE CASE WHEN s.n %% 2 = 0 THEN 'staging' ELSE 'archived' END END,
       v.required_approvals, v.editor_id, v.reviewer_id,
       v.starts + (v.ends - v.starts)
           * ((CAST(v.done + s.n / %s AS bigint) * 618034 + CAST(v.rn AS bigint) * 754878) %% 1000000) / 1000000.0,
       600 + (s.n %% 20) * 900,
       %s + s.n
FROM ({series}) s JOIN seed_scale_version v ON v.rn = s.n %% %s
"""

LOADED_TABLES = ("activity_activityentry", "approvals_stagechangerequest", "approvals_review")
FRESH_TABLES = (
    "catalog_registeredmodel",
    "catalog_modelversion",
    "approvals_stagechangerequest",
    "activity_activityentry",
)
ENTRY_COLUMNS = (
    "created_at, actor_id, verb, model_id, version_id, from_stage, to_stage, comment, extra, "
    "actor_username, model_name, version_name"
)


def _names(actor: str, model: str, version: str) -> str:
    """The names an entry keeps (actor_username, model_name, version_name), read by primary key per row."""
    return (
        f"(SELECT username FROM auth_user WHERE id = {actor}), "
        f"(SELECT name FROM catalog_registeredmodel WHERE id = {model}), "
        f"COALESCE((SELECT name FROM catalog_modelversion WHERE id = {version}), '')"
    )


def _dialect() -> Dialect:
    return DIALECTS[connection.vendor]


def pick(key: str, values: list[str]) -> tuple[str, list[str]]:
    """SQL choosing one of values by the integer expression key, with its parameters."""
    whens = " ".join(f"WHEN {n} THEN %s" for n in range(len(values)))
    return f"CASE ({key}) %% {len(values)} {whens} END", list(values)


def analyze(cursor: CursorWrapper, *tables: str) -> None:
    """Refresh the planner's statistics of tables on PostgreSQL (nothing to do on SQLite)."""
    # PostgreSQL has no statistics yet for tables just bulk-loaded, nor ever for temporary ones, and plans their
    # joins as nested loops over the few rows it then assumes (minutes instead of seconds).
    if connection.vendor == "postgresql":
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


@contextmanager
def foreign_keys_checked_after(cursor: CursorWrapper, *tables: str) -> Iterator[None]:
    """On PostgreSQL, drop the tables' foreign keys for a bulk load and add them back after it: that checks every row
    in one join per key, where the deferred checks run one lookup per row and key at commit (half the load time)."""
    if connection.vendor != "postgresql":
        yield
        return
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses a table with checks still pending
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = ANY(CAST(%s AS regclass[]))",
        [list(tables)],
    )
    keys = cursor.fetchall()
    for table, name, _ in keys:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    yield
    for table, name, definition in keys:
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@contextmanager
def work_tables(cursor: CursorWrapper, *, actor_ids: list[int]) -> Iterator[None]:
    """The temporary tables of the padding, with the scale users in seed_scale_actor by slot, dropped after it."""
    for table, columns in TEMPORARY_TABLES.items():
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TEMPORARY TABLE {table} ({columns})")
    cursor.executemany("INSERT INTO seed_scale_actor VALUES (%s, %s)", list(enumerate(actor_ids)))
    analyze(cursor, "seed_scale_actor", *FRESH_TABLES)
    yield
    for table in TEMPORARY_TABLES:
        cursor.execute(f"DROP TABLE {table}")


def fill_versions(cursor: CursorWrapper, *, ends: float) -> int:
    """Number the open scale versions with room for padding before ends (seconds since 1970); returns how many."""
    d = _dialect()
    epoch = {
        f"epoch_{name}": d.epoch.format(column)
        for name, column in [
            ("model", "m.created_at"),
            ("version", "v.created_at"),
            ("moved", "COALESCE(v.stage_changed_at, v.created_at)"),
            ("request", "r.created_at"),
        ]
    }
    cursor.execute(FILL_VERSIONS.format(greatest=d.greatest, least=d.least, **epoch), [ends, ends])
    return cursor.rowcount


def fill_units(
    cursor: CursorWrapper, *, units: int, units_done: int, lone_comment: int, versions: int, request_base: int
) -> None:
    """Lay out units of padding over the numbered versions, unit lone_comment a comment whatever its turn, the
    requests among them numbered from request_base."""
    kind, kind_params = pick(f"{units_done} + s.n", UNIT_KINDS)
    cursor.execute(
        FILL_UNITS.format(kind=kind, series=_dialect().series),
        [lone_comment, *kind_params, versions, request_base, units, versions],
    )
    analyze(cursor, "seed_scale_version", "seed_scale_unit")


def insert_padding(
    cursor: CursorWrapper,
    *,
    owner_id: int,
    model_edits_done: int,
    model_edits: int,
    versions: int,
    advance: Callable[[int], None],
) -> None:
    """Write the units' requests, reviews and entries, and model_edits edits of models, calling advance with the
    number of entries each statement adds."""
    d = _dialect()
    with foreign_keys_checked_after(cursor, *LOADED_TABLES):
        _insert_requests(cursor, d)
        for sql, params in [*_unit_entries(d, owner_id), _model_edits(d, model_edits_done, model_edits, versions)]:
            cursor.execute(sql, params)
            advance(cursor.rowcount)


def _insert_requests(cursor: CursorWrapper, d: Dialect) -> None:
    """The requests that padding units reject or cancel, with the rejections' reviews, under ids chosen ahead."""
    comment, comment_params = pick("u.i", REQUEST_COMMENTS)
    cursor.execute(
        f"""
        INSERT INTO approvals_stagechangerequest (id, version_id, from_stage, to_stage, comment, requester_id,
            created_at, status, required_approvals, archive_others, skips_stages, resolved_by_id, resolved_at)
        SELECT u.request_id, u.version_id, u.stage, u.to_stage, {comment}, u.editor_id,
               {d.timestamp.format("u.moment")},
               CASE u.kind WHEN 'rejected' THEN '{Status.REJECTED.value}' ELSE '{Status.CANCELLED.value}' END,
               u.required_approvals, FALSE, FALSE,
               CASE u.kind WHEN 'rejected' THEN u.reviewer_id ELSE u.editor_id END,
               {d.timestamp.format("u.moment + u.gap")}
        FROM seed_scale_unit u WHERE u.kind IN ('rejected', 'cancelled')
        """,
        comment_params,
    )
    comment, comment_params = pick("u.i", REJECTION_COMMENTS)
    cursor.execute(
        f"""
        INSERT INTO approvals_review (change_request_id, reviewer_id, decision, comment, created_at)
        SELECT u.request_id, u.reviewer_id, '{Decision.REJECT.value}', {comment},
               {d.timestamp.format("u.moment + u.gap")}
        FROM seed_scale_unit u WHERE u.kind = 'rejected'
        """,
        comment_params,
    )
    for sql in connection.ops.sequence_reset_sql(no_style(), [StageChangeRequest]):
        cursor.execute(sql)


def _unit_entries(d: Dialect, owner_id: int) -> Iterator[tuple[str, list[Any]]]:
    """One INSERT … SELECT per kind of entry the units make, with its parameters."""
    first, second = d.timestamp.format("u.moment"), d.timestamp.format("u.moment + u.gap")
    request = """'{"change_request": ' || u.request_id || '}'"""
    request_skipping = """'{"change_request": ' || u.request_id || ', "skipped": []}'"""
    opened = str(LockLevel.OPEN.label)
    raised = [json.dumps({"from": opened, "to": level}) for level in LOCK_LEVELS]
    lowered = [json.dumps({"from": level, "to": opened}) for level in LOCK_LEVELS]
    rare, rare_params = pick("u.i / 700", RARE_COMMENTS)
    common, common_params = pick("u.i", COMMENTS)
    comment = (f"CASE WHEN u.i %% 700 = 0 THEN {rare} ELSE {common} END", rare_params + common_params)
    commenter = "CASE WHEN u.i %% 3 = 0 THEN u.reviewer_id ELSE u.editor_id END"
    nothing: tuple[str, list[str]] = ("''", [])
    no_details: tuple[str, list[str]] = ("'{}'", [])
    # verb, kinds of unit, actor, time, whether it names the stages, comment, extra: SQL with its parameters
    steps = [
        (Verb.COMMENTED, ["comment"], commenter, first, False, comment, no_details),
        (
            Verb.STAGE_CHANGE_REQUESTED,
            ["rejected", "cancelled"],
            "u.editor_id",
            first,
            True,
            pick("u.i", REQUEST_COMMENTS),
            (request_skipping, []),
        ),
        (
            Verb.STAGE_CHANGE_REJECTED,
            ["rejected"],
            "u.reviewer_id",
            second,
            True,
            pick("u.i", REJECTION_COMMENTS),
            (request, []),
        ),
        (
            Verb.STAGE_CHANGE_CANCELLED,
            ["cancelled"],
            "u.editor_id",
            second,
            True,
            pick("u.i", CANCELLATION_COMMENTS),
            (request, []),
        ),
        (Verb.VERSION_EDITED, ["edited"], "u.editor_id", first, False, nothing, pick("u.i", VERSION_FIELDS)),
        (
            Verb.LOCK_CHANGED,
            ["locked"],
            "u.editor_id",
            first,
            False,
            pick("u.i", LOCK_COMMENTS),
            pick("u.i", raised),
        ),
        (
            Verb.LOCK_CHANGED,
            ["locked"],
            str(owner_id),
            second,
            False,
            pick("u.i", UNLOCK_COMMENTS),
            pick("u.i", lowered),
        ),
    ]
    for verb, kinds, actor, moment, stages, (text, text_params), (extra, extra_params) in steps:
        from_stage, to_stage = ("u.stage", "u.to_stage") if stages else ("''", "''")
        sql = f"""
            INSERT INTO activity_activityentry ({ENTRY_COLUMNS})
            SELECT {moment}, {actor}, %s, u.model_id, u.version_id, {from_stage}, {to_stage}, {text},
                   {d.json.format(extra)}, {_names(actor, "u.model_id", "u.version_id")}
            FROM seed_scale_unit u WHERE u.kind IN ({", ".join(f"'{kind}'" for kind in kinds)})
        """
        yield sql, [verb.value, *text_params, *extra_params]


def _model_edits(d: Dialect, done: int, count: int, versions: int) -> tuple[str, list[Any]]:
    """Edits of models, spread over each model's life by the same sequence as the units."""
    fields, fields_params = pick("s.n", MODEL_FIELDS)
    moment = "v.model_starts + (v.ends - v.model_starts) * ((CAST(%s + s.n AS bigint) * 618034) %% 1000000) / 1000000.0"
    sql = f"""
        INSERT INTO activity_activityentry ({ENTRY_COLUMNS})
        SELECT {d.timestamp.format(moment)}, v.editor_id, %s, v.model_id, NULL, '', '', '', {d.json.format(fields)},
               {_names("v.editor_id", "v.model_id", "NULL")}
        FROM ({d.series}) s JOIN seed_scale_version v ON v.rn = (CAST(%s + s.n AS bigint) * 7919) %% %s
    """
    return sql, [done, Verb.MODEL_EDITED.value, *fields_params, count, done, versions]
