"""Add a new audit-log key: new entries and checkpoints are signed with it, old entries keep verifying."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from schoolgate.audit import actions as audit
from schoolgate.audit.keys import add_new_key_to_file


class Command(BaseCommand):
    help = (
        "Put a fresh key first in the audit key file. Keep the old keys: entries signed with them are "
        "verified with them. With SCHOOLGATE_AUDIT_KEYS, put a new key first in the variable instead."
    )

    def handle(self, *args, **options):
        if settings.AUDIT_KEYS:
            raise CommandError("Audit keys come from SCHOOLGATE_AUDIT_KEYS: put the new key first there.")
        path = Path(settings.AUDIT_KEY_FILE)
        new_id = add_new_key_to_file(path)
        audit.log("security.audit_key.rotated", actor="system", detail={"key_id": new_id})
        self.stdout.write(self.style.SUCCESS(f"Added audit key {new_id} to {path}; new entries are signed with it."))
