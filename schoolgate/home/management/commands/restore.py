"""Restore a backup made by `manage.py backup` into this installation's database, media and key files."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from schoolgate.home.backups import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup directory: checks every checksum first, refuses a database that already holds data "
        "unless --force, merges the backup's keys into the key files (never dropping one), and verifies the "
        "audit chain afterwards. Stop the web and worker processes first."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)
        parser.add_argument("--force", action="store_true", help="replace a database that already holds data")
        parser.add_argument(
            "--keys-from", type=Path, metavar="DIR", help="where the keys are, if backed up with --keys-to"
        )

    def handle(self, *args, **options):
        try:
            result = restore_backup(options["directory"], force=options["force"], keys_from=options["keys_from"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Restored the backup of {result.manifest['created_at']}.")
        if result.checkpoint_set_aside:
            self.stdout.write(f"The previous audit checkpoints were kept as {result.checkpoint_set_aside}.")
        if result.pending_migrations:
            self.stdout.write(self.style.WARNING("This backup is from an older version: run `manage.py migrate` next."))
        if not result.chain_ok:
            raise CommandError(f"Restored, but the audit chain does not verify: {result.chain_problem}")
        self.stdout.write(self.style.SUCCESS("The audit chain verifies with the restored keys."))
