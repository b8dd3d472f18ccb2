"""A trigram index for "comment contains" on PostgreSQL; without pg_trgm the search still works, by a scan."""

import logging

from django.db import migrations

logger = logging.getLogger(__name__)

# Django's icontains on PostgreSQL is UPPER(column) LIKE UPPER(pattern): the index is on that expression.
CREATE = (
    "CREATE INDEX IF NOT EXISTS activity_comment_trgm_idx ON activity_activityentry "
    "USING gin (UPPER(comment) gin_trgm_ops)"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        try:
            cursor.execute("SAVEPOINT activity_trgm")
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            cursor.execute(CREATE)
            cursor.execute("RELEASE SAVEPOINT activity_trgm")
        except Exception:  # no right to create the extension: comment search scans instead
            cursor.execute("ROLLBACK TO SAVEPOINT activity_trgm")
            logger.warning("pg_trgm is not available; searching activity comments will scan the log.")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS activity_comment_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("activity", "0005_append_only_triggers")]

    operations = [migrations.RunPython(create, drop)]
