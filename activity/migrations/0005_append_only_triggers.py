from django.db import migrations

from activity.db import install_append_only, remove_triggers


def install(apps, schema_editor):
    install_append_only(schema_editor.connection)


def remove(apps, schema_editor):
    remove_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("activity", "0004_activity_log_indexes")]

    operations = [migrations.RunPython(install, remove)]
