"""Verify the audit hash chain; exits non-zero and names the first bad entry if any row was tampered with."""

from django.core.management.base import BaseCommand, CommandError

from schoolgate.audit.actions import verify_chain


class Command(BaseCommand):
    help = "Verify that the audit log is intact (no entry edited, deleted or inserted out of band)."

    def handle(self, *args, **options):
        report = verify_chain()
        if not report.ok:
            raise CommandError(f"Audit chain broken: {report.problem} ({report.checked} entries verified before it)")
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} entries verified."))
