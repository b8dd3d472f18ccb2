"""Trigram indexes for the catalog's search on PostgreSQL: model names and descriptions, label names and version
names, each on UPPER(column), the expression Django's icontains compares (UPPER(column) LIKE UPPER(pattern)).

SQLite has no such index; its search scans the (small) tables. Without the right to create pg_trgm the migration
leaves the indexes out and the search still works, by a scan, as activity's comment search does.
"""

import logging

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations
from django.db.models.functions import Upper

logger = logging.getLogger(__name__)

INDEXES = [
    ("registeredmodel", "name", "catalog_model_name_trgm_idx"),
    ("registeredmodel", "description", "catalog_model_desc_trgm_idx"),
    ("label", "name", "catalog_label_name_trgm_idx"),
    ("modelversion", "name", "catalog_ver_name_trgm_idx"),
]


def _index(column: str, name: str) -> GinIndex:
    return GinIndex(OpClass(Upper(column), name="gin_trgm_ops"), name=name)


class TrigramExtensionIfAllowed(TrigramExtension):
    """pg_trgm, or a warning when the database user may not create it (the indexes are then left out)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SAVEPOINT catalog_trgm")
            try:
                super().database_forwards(app_label, schema_editor, from_state, to_state)
            except Exception:  # no right to create the extension: the search scans instead
                cursor.execute("ROLLBACK TO SAVEPOINT catalog_trgm")
                logger.warning("pg_trgm is not available; the catalog's search will scan.")
            else:
                cursor.execute("RELEASE SAVEPOINT catalog_trgm")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass  # activity's comment index may use it too: the extension stays


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            return
    for model_name, column, name in INDEXES:
        schema_editor.add_index(apps.get_model("catalog", model_name), _index(column, name))


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _, _, name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_version_number_run_id_aliases")]

    operations = [TrigramExtensionIfAllowed(), migrations.RunPython(create, drop)]
