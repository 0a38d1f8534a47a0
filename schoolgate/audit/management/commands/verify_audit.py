"""Verify the audit hash chain; exits non-zero and names the first bad entry if any row was tampered with."""

from django.core.management.base import BaseCommand, CommandError

from schoolgate.audit.actions import verify_chain
from schoolgate.audit.checkpoints import append_checkpoint
from schoolgate.audit.models import ChainHead


class Command(BaseCommand):
    help = (
        "Verify that the audit log is intact (no entry edited, deleted or inserted out of band, nothing cut "
        "off since the last checkpoint), then write a new signed checkpoint of its head."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-checkpoint", action="store_true", help="only verify; do not append a checkpoint")

    def handle(self, *args, **options):
        report = verify_chain()
        if not report.ok:
            raise CommandError(f"Audit chain broken: {report.problem} ({report.checked} entries verified before it)")
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} entries verified."))
        for warning in report.warnings:
            self.stdout.write(self.style.WARNING(f"Warning: {warning}."))
        if report.checkpoint is not None:
            self.stdout.write(
                f"It matches the checkpoint of {report.checkpoint.taken_at:%d/%m/%Y %H:%M} UTC "
                f"(entry #{report.checkpoint.seq})."
            )
        head = ChainHead.objects.filter(pk=1).first()
        if head is not None and not options["no_checkpoint"]:
            checkpoint = append_checkpoint(head.last_seq, head.last_hash)
            self.stdout.write(f"Checkpoint written: entry #{checkpoint.seq}, head {checkpoint.head_hash}.")
