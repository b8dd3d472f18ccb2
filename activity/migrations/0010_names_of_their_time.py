"""Each entry keeps the names of its actor, model and version as they were when it was written.

Existing entries get the names as they are when this migration runs (the log did not record them before): the
append-only triggers are lifted for this one UPDATE and put back in the same transaction.
"""

from django.db import migrations, models

from activity.db import install_append_only, remove_triggers

BACKFILL = [
    "UPDATE activity_activityentry SET actor_username = "
    "COALESCE((SELECT username FROM auth_user WHERE auth_user.id = activity_activityentry.actor_id), '')",
    "UPDATE activity_activityentry SET model_name = COALESCE((SELECT name FROM catalog_registeredmodel m "
    "WHERE m.id = activity_activityentry.model_id), '') WHERE model_id IS NOT NULL",
    "UPDATE activity_activityentry SET version_name = COALESCE((SELECT name FROM catalog_modelversion v "
    "WHERE v.id = activity_activityentry.version_id), '') WHERE version_id IS NOT NULL",
]


def backfill(apps, schema_editor):
    connection = schema_editor.connection
    remove_triggers(connection)
    with connection.cursor() as cursor:
        for sql in BACKFILL:
            cursor.execute(sql)
    install_append_only(connection)


class Migration(migrations.Migration):
    atomic = True

    dependencies = [
        ("activity", "0009_alias_events"),
        ("catalog", "0005_version_number_run_id_aliases"),
    ]

    operations = [
        migrations.AddField(
            model_name="activityentry",
            name="actor_username",
            field=models.CharField(blank=True, db_default="", default="", max_length=150),
        ),
        migrations.AddField(
            model_name="activityentry",
            name="model_name",
            field=models.CharField(blank=True, db_default="", default="", max_length=200),
        ),
        migrations.AddField(
            model_name="activityentry",
            name="version_name",
            field=models.CharField(blank=True, db_default="", default="", max_length=100),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
