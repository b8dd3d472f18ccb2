import django.db.models.deletion
from django.db import migrations, models


def number_versions(apps, schema_editor):
    """Number each model's existing versions 1, 2, 3… in the order they were registered."""
    ModelVersion = apps.get_model("catalog", "ModelVersion")
    current_model, number, batch = None, 0, []
    for version in ModelVersion.objects.order_by("model_id", "created_at", "id").only("pk", "model_id").iterator():
        if version.model_id != current_model:
            current_model, number = version.model_id, 0
        number += 1
        version.number = number
        batch.append(version)
        if len(batch) >= 2000:
            ModelVersion.objects.bulk_update(batch, ["number"])
            batch = []
    ModelVersion.objects.bulk_update(batch, ["number"])


class Migration(migrations.Migration):
    dependencies = [("catalog", "0004_version_stage_newest_index")]

    operations = [
        migrations.AddField(
            model_name="modelversion",
            name="run_id",
            field=models.CharField(blank=True, help_text="The run that produced it, if any.", max_length=100),
        ),
        migrations.AddField(
            model_name="modelversion",
            name="number",
            field=models.PositiveIntegerField(editable=False, null=True),
        ),
        migrations.RunPython(number_versions, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="modelversion",
            name="number",
            field=models.PositiveIntegerField(editable=False),
        ),
        migrations.AddConstraint(
            model_name="modelversion",
            constraint=models.UniqueConstraint(fields=("model", "number"), name="catalog_version_number_unique_per_model"),
        ),
        migrations.CreateModel(
            name="Alias",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=255)),
                (
                    "model",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="aliases", to="catalog.registeredmodel"
                    ),
                ),
                (
                    "version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="aliases", to="catalog.modelversion"
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "aliases",
                "ordering": ["name"],
                "indexes": [models.Index(fields=["version"], name="catalog_alias_version_idx")],
                "constraints": [models.UniqueConstraint(fields=("model", "name"), name="catalog_alias_unique_per_model")],
            },
        ),
    ]
