"""The audit log's hourly checkpoint: its head, signed and written outside the database."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from schoolgate.audit.actions import write_checkpoint


@db_periodic_task(crontab(minute="41"))
def checkpoint_audit_chain() -> None:
    # Safe to run twice: an unchanged head is not written again, and a log that no longer matches the
    # last checkpoint is never anchored (write_checkpoint logs why; verify_audit names the entry).
    write_checkpoint()
