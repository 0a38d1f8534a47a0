"""Re-encrypt every stored secret under the newest key (optionally adding a new key to the key file first)."""

from pathlib import Path

from allauth.mfa.models import Authenticator
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from schoolgate import crypto
from schoolgate.audit import actions as audit

# Every column holding a Fernet token (besides TOTP seeds, which sit inside allauth's JSON).
ENCRYPTED_COLUMNS = [
    ("official_accounts.EscrowedLogin", ["login_encrypted", "password_encrypted", "notes_encrypted"]),
    ("official_accounts.Connection", ["credentials_encrypted"]),
    ("official_accounts.OAuthApp", ["client_secret_encrypted"]),
    ("news.DigestSubscriber", ["token_encrypted"]),
    ("concerns.Concern", ["content_encrypted"]),
    ("concerns.Evidence", ["name_encrypted", "data_encrypted"]),
    ("concerns.Entry", ["body_encrypted"]),
    ("declarations.RelationshipDeclaration", ["text_encrypted"]),
    ("declarations.RelationshipReview", ["notes_encrypted"]),
    ("declarations.ContactException", ["who_encrypted", "reason_encrypted", "decision_reason_encrypted"]),
]


class Command(BaseCommand):
    help = (
        "Re-encrypt stored secrets with the newest encryption key. With --new-key, first add a fresh key "
        "to the key file. With SCHOOLGATE_ENCRYPTION_KEYS, put the new key first in the variable instead, "
        "run this, then drop the old key once it has finished."
    )

    def add_arguments(self, parser):
        parser.add_argument("--new-key", action="store_true", help="add a fresh key to the key file first")

    def handle(self, *args, **options):
        if options["new_key"]:
            if settings.ENCRYPTION_KEYS:
                raise CommandError("Keys come from SCHOOLGATE_ENCRYPTION_KEYS: add the new key there, first.")
            crypto.add_new_key_to_file(Path(settings.ENCRYPTION_KEY_FILE))
            self.stdout.write(f"Added a new key to {settings.ENCRYPTION_KEY_FILE}.")
        rotated = 0
        with transaction.atomic():
            for authenticator in Authenticator.objects.select_for_update().filter(type=Authenticator.Type.TOTP):
                authenticator.data["secret"] = crypto.rotate(authenticator.data["secret"])
                authenticator.save(update_fields=["data"])
                rotated += 1
            for label, columns in ENCRYPTED_COLUMNS:
                for row in apps.get_model(label).objects.select_for_update().all():
                    for column in columns:
                        if getattr(row, column):
                            setattr(row, column, crypto.rotate(getattr(row, column)))
                            rotated += 1
                    row.save(update_fields=columns)
            audit.log("security.encryption_key.rotated", actor="system", detail={"secrets": rotated})
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {rotated} secrets under the newest key."))
