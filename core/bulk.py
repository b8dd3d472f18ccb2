"""Insert new rows of one model at once, fast: a few rows with one plain INSERT, many with COPY on PostgreSQL.

A batch import writes thousands of versions, activity entries and grants per transaction. bulk_create spends most of
that time in Python: building one INSERT (arrays to UNNEST on PostgreSQL) and quoting each value into it on the
client. COPY streams the same values, prepared by the same fields, with none of that. The keys COPY cannot return
are taken from the table's sequence first, in one query, so that callers get saved instances, as from bulk_create.

A change's few outbox rows (its webhook event and one delivery per webhook) go the other way, in one
`INSERT … VALUES … RETURNING` of the values the fields prepare: bulk_create took 0.7 ms of Python to write three
deliveries that PostgreSQL inserts in 0.12 ms, and COPY would take two round trips.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Field, Model
from django.db.models.expressions import DatabaseDefault

M = TypeVar("M", bound=Model)

VALUES_ROWS = 50  # up to this many rows, one INSERT … VALUES; above it COPY (PostgreSQL) or bulk_create


def insert(objs: Sequence[M]) -> list[M]:
    """Save new instances of one model (without keys) in a few statements whatever their number; returns them with
    their keys set. Runs no save() nor signals, as bulk_create; call it inside the caller's transaction."""
    objs = list(objs)
    if not objs:
        return objs
    meta = type(objs[0])._meta
    if any(type(obj) is not type(objs[0]) or obj.pk is not None for obj in objs):
        raise ValueError("insert() takes new instances of one model, without keys.")
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    # A field left to the database (db_default, or a trigger that sets it) is not sent; its value is read back.
    left = [field for field in fields if isinstance(getattr(objs[0], field.attname), DatabaseDefault)]
    if any(not isinstance(getattr(obj, field.attname), DatabaseDefault) for obj in objs for field in left):
        raise ValueError("insert() takes a field left to the database's default on every instance, or on none.")
    fields = [field for field in fields if field not in left]
    # A field with a placeholder of its own puts SQL around its value, which a bare %s would lose.
    plain = connection.features.can_return_rows_from_bulk_insert and not any(
        hasattr(field, "get_placeholder") for field in fields
    )
    if plain and len(objs) <= VALUES_ROWS:
        keys = _insert_values(objs, fields)
    elif connection.vendor == "postgresql":
        keys = _copy(objs, fields)
    else:
        return type(objs[0])._default_manager.bulk_create(objs)
    for key, obj in zip(keys, objs, strict=True):
        obj.pk = key
        obj._state.adding = False
        obj._state.db = connection.alias
    if left:
        by_key = {obj.pk: obj for obj in objs}
        names = [field.attname for field in left]
        for key, *values in type(objs[0])._default_manager.filter(pk__in=keys).values_list("pk", *names):
            for name, value in zip(names, values, strict=True):
                setattr(by_key[key], name, value)
    return objs


def _prepared(obj: Model, fields: list[Field]) -> list[Any]:
    return [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]


def _insert_values(objs: Sequence[Model], fields: list[Field]) -> list[int]:
    meta = objs[0]._meta
    sql = _values_sql(
        connection.vendor, meta.db_table, tuple(str(f.column) for f in fields), str(meta.pk.column), len(objs)
    )
    with connection.cursor() as cursor:
        # The database returns the keys in the order of the rows, as bulk_create relies on too.
        cursor.execute(sql, [value for obj in objs for value in _prepared(obj, fields)])
        return [row[0] for row in cursor.fetchall()]


@lru_cache(maxsize=256)
def _values_sql(vendor: str, table: str, columns: tuple[str, ...], key_column: str, rows: int) -> str:
    """The INSERT of rows rows (written once per shape and process: a change writes the same few again and again)."""
    quote = connection.ops.quote_name
    row = f"({', '.join(['%s'] * len(columns))})"
    return (
        f"INSERT INTO {quote(table)} ({', '.join(map(quote, columns))}) VALUES {', '.join([row] * rows)} "
        f"RETURNING {quote(key_column)}"
    )


def _copy(objs: Sequence[Model], fields: list[Field]) -> list[int]:
    meta = objs[0]._meta
    table, key_column = meta.db_table, str(meta.pk.column)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(column)) for column in [key_column, *(field.column for field in fields)])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, key_column, len(objs)],
        )
        keys = [row[0] for row in cursor.fetchall()]
        # As Django's own cursor does for execute(): a violated constraint is an IntegrityError to the caller.
        with (
            connection.wrap_database_errors,
            cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy,
        ):
            for key, obj in zip(keys, objs, strict=True):
                copy.write_row([key, *_prepared(obj, fields)])
    return keys
