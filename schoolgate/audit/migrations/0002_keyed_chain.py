"""The keyed chain: each entry records its hash version and the audit key that signed it.

Existing entries get version 1 (plain SHA-256) and no key, and are otherwise left exactly as they were:
their hashes still verify, and only entries written from now on are keyed.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="hash_version",
            field=models.PositiveSmallIntegerField(choices=[(1, "SHA-256"), (2, "HMAC-SHA256")], default=1),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="hash_version",
            field=models.PositiveSmallIntegerField(choices=[(1, "SHA-256"), (2, "HMAC-SHA256")], default=2),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="key_id",
            field=models.CharField(blank=True, max_length=12),
        ),
    ]
