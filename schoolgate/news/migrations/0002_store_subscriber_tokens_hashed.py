"""Digest subscribers' link tokens: stored as a SHA-256 (to find the subscriber) and encrypted (to email the link),
never in plain text. Existing tokens are carried over, so links in emails already sent keep working."""

import hashlib

from django.db import migrations, models


def hash_existing_tokens(apps, schema_editor):
    from schoolgate import crypto

    DigestSubscriber = apps.get_model("news", "DigestSubscriber")
    for subscriber in DigestSubscriber.objects.all().iterator():
        subscriber.token_hash = hashlib.sha256(subscriber.token.encode()).hexdigest()
        subscriber.token_encrypted = crypto.encrypt(subscriber.token)
        subscriber.token = None
        subscriber.save(update_fields=["token_hash", "token_encrypted", "token"])


def restore_plain_tokens(apps, schema_editor):
    from schoolgate import crypto

    DigestSubscriber = apps.get_model("news", "DigestSubscriber")
    for subscriber in DigestSubscriber.objects.all().iterator():
        subscriber.token = crypto.decrypt(subscriber.token_encrypted)
        subscriber.save(update_fields=["token"])


class Migration(migrations.Migration):
    dependencies = [
        ("news", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="digestsubscriber",
            name="token_hash",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="digestsubscriber",
            name="token_encrypted",
            field=models.TextField(default="", editable=False),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="digestsubscriber",
            name="token",
            field=models.CharField(max_length=64, null=True),
        ),
        migrations.RunPython(hash_existing_tokens, restore_plain_tokens),
        migrations.RemoveField(
            model_name="digestsubscriber",
            name="token",
        ),
        migrations.AlterField(
            model_name="digestsubscriber",
            name="token_hash",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
    ]
