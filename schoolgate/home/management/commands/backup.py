"""Back up the database, uploaded media, keys and audit checkpoints into a new directory."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from schoolgate.home.backups import KEYS_DIR, BackupError, make_backup


class Command(BaseCommand):
    help = (
        "Back up the whole installation into DIR (new or empty): the database, local media, the encryption and "
        "audit keys, and the audit checkpoints, with a manifest of checksums. The keys are secret: store them "
        "apart from the rest (--keys-to)."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)
        parser.add_argument(
            "--keys-to", type=Path, metavar="DIR", help="write the secret keys to this directory instead"
        )

    def handle(self, *args, **options):
        try:
            manifest = make_backup(options["directory"], keys_to=options["keys_to"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        keys_at = options["keys_to"] or options["directory"] / KEYS_DIR
        self.stdout.write(
            self.style.SUCCESS(
                f"Backed up to {options['directory']}: {len(manifest['files'])} files, audit log at entry "
                f"#{manifest['audit']['seq']}."
            )
        )
        if manifest["media"] != "included":
            self.stdout.write("Media: not included, they are in the S3 bucket; back the bucket up with its own tools.")
        self.stdout.write(
            self.style.WARNING(
                f"{keys_at} holds the encryption and audit keys: keep it secret and store it apart from the database."
            )
        )
