"""Imports keep the uploaded file in private storage, are checked by a job that holds a lease, and show a preview."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("pupils", "0004_canonical_year_groups"),
    ]

    operations = [
        migrations.RemoveField(model_name="importrun", name="content"),
        migrations.AddField(model_name="importrun", name="upload", field=models.FileField(blank=True, max_length=255)),
        migrations.AddField(model_name="importrun", name="size", field=models.PositiveBigIntegerField(default=0)),
        migrations.AddField(model_name="importrun", name="warnings", field=models.JSONField(default=list)),
        migrations.AddField(model_name="importrun", name="preview", field=models.JSONField(default=list)),
        migrations.AddField(
            model_name="importrun", name="lease_token", field=models.CharField(blank=True, max_length=32)
        ),
        migrations.AddField(
            model_name="importrun",
            name="lease_expires_at",
            field=models.DateTimeField(blank=True, db_index=True, null=True),
        ),
        migrations.AlterField(
            model_name="importrun", name="progress_done", field=models.PositiveBigIntegerField(default=0)
        ),
        migrations.AlterField(
            model_name="importrun", name="progress_total", field=models.PositiveBigIntegerField(default=0)
        ),
        migrations.AlterField(
            model_name="importrun",
            name="status",
            field=models.CharField(
                choices=[
                    ("checking", "Checking"),
                    ("invalid", "Has problems"),
                    ("validated", "Checked, waiting for confirmation"),
                    ("applying", "Importing"),
                    ("applied", "Imported"),
                    ("failed", "Failed"),
                    ("cancelled", "Cancelled"),
                ],
                default="checking",
                max_length=20,
            ),
        ),
    ]
