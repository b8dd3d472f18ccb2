"""The database stamps each entry's time and links it into a hash chain (activity.db, activity.chain).

Existing entries are linked in the order they were written (time, then id), then the triggers are installed, in the
same transaction.
"""

from django.db import migrations, models
from django.db.models import TextField
from django.db.models.functions import Cast

import activity.models
from activity.chain import CANONICAL_FIELDS, link_hash
from activity.db import install_append_only, install_integrity, remove_integrity

CHUNK = 2_000


def link_existing(apps, schema_editor):
    entry_model = apps.get_model("activity", "ActivityEntry")
    link_model = apps.get_model("activity", "ChainLink")
    alias = schema_editor.connection.alias
    columns = [name for name in CANONICAL_FIELDS[2:] if name != "extra"]
    entries = (
        entry_model.objects.using(alias)
        .annotate(extra_text=Cast("extra", TextField()))
        .order_by("created_at", "id")
        .values(*columns, "extra_text")
    )
    seq, head = 0, activity.models.GENESIS_HASH
    last = None
    while True:
        page = entries
        if last is not None:
            page = page.filter(models.Q(created_at__gt=last[0]) | models.Q(created_at=last[0], id__gt=last[1]))
        chunk = list(page[:CHUNK])
        if not chunk:
            break
        links = []
        for row in chunk:
            seq += 1
            values = [seq, head] + [row["extra_text"] if n == "extra" else row[n] for n in CANONICAL_FIELDS[2:]]
            digest = link_hash(values)
            links.append(link_model(seq=seq, entry_id=row["id"], prev_hash=head, entry_hash=digest))
            head = digest
        link_model.objects.using(alias).bulk_create(links)
        last = (chunk[-1]["created_at"], chunk[-1]["id"])


def install(apps, schema_editor):
    install_append_only(schema_editor.connection)  # SQLite dropped them when it rebuilt the table for created_at
    install_integrity(schema_editor.connection)


def remove(apps, schema_editor):
    remove_integrity(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("activity", "0010_names_of_their_time")]

    operations = [
        migrations.CreateModel(
            name="ChainLink",
            fields=[
                ("seq", models.BigIntegerField(primary_key=True, serialize=False)),
                ("entry_id", models.BigIntegerField(unique=True)),
                ("prev_hash", models.CharField(max_length=64)),
                ("entry_hash", models.CharField(max_length=64)),
            ],
            options={"ordering": ["seq"]},
        ),
        migrations.CreateModel(
            name="Verification",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("checked_at", models.DateTimeField(db_default=activity.models.DatabaseNow())),
                ("ok", models.BooleanField()),
                ("entries_checked", models.BigIntegerField()),
                ("up_to_seq", models.BigIntegerField(default=0)),
                ("up_to_entry", models.BigIntegerField(blank=True, null=True)),
                ("head_hash", models.CharField(blank=True, max_length=64)),
                ("problem", models.TextField(blank=True)),
            ],
            options={"ordering": ["-checked_at", "-id"], "get_latest_by": ["checked_at", "id"]},
        ),
        migrations.AlterField(
            model_name="activityentry",
            name="created_at",
            field=models.DateTimeField(db_default=activity.models.DatabaseNow()),
        ),
        migrations.RunPython(link_existing, migrations.RunPython.noop),
        migrations.RunPython(install, remove),
    ]
