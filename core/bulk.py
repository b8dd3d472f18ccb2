"""Insert many new rows of one model at once, fast: COPY on PostgreSQL, bulk_create elsewhere.

A batch import writes thousands of versions, activity entries and grants per transaction. bulk_create spends most of
that time in Python: building one INSERT (arrays to UNNEST on PostgreSQL) and quoting each value into it on the
client. COPY streams the same values, prepared by the same fields, with none of that. The keys COPY cannot return
are taken from the table's sequence first, in one query, so that callers get saved instances, as from bulk_create.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from django.db import connection
from django.db.models import Model
from django.db.models.expressions import DatabaseDefault

M = TypeVar("M", bound=Model)


def insert(objs: Sequence[M]) -> list[M]:
    """Save new instances of one model (without keys) in a few statements whatever their number; returns them with
    their keys set. Runs no save() nor signals, as bulk_create; call it inside the caller's transaction."""
    objs = list(objs)
    if not objs:
        return objs
    if connection.vendor != "postgresql":
        return type(objs[0])._default_manager.bulk_create(objs)
    meta = type(objs[0])._meta
    table, key_column = meta.db_table, meta.pk.column
    if any(type(obj) is not type(objs[0]) or obj.pk is not None for obj in objs):
        raise ValueError("insert() takes new instances of one model, without keys.")
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    # A field left to the database (db_default, or a trigger that sets it) is not sent; its value is read back.
    left = [field for field in fields if isinstance(getattr(objs[0], field.attname), DatabaseDefault)]
    if any(not isinstance(getattr(obj, field.attname), DatabaseDefault) for obj in objs for field in left):
        raise ValueError("insert() takes a field left to the database's default on every instance, or on none.")
    fields = [field for field in fields if field not in left]
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
                copy.write_row(
                    [key, *(field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields)]
                )
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
