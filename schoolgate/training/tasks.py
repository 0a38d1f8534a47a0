"""Periodic training sweeps: keep everyone's stored due dates current, and send each reminder once (jobs take ids)."""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from schoolgate.schools.models import School
from schoolgate.training import actions


@db_task()
def remind_deadline(deadline_id: int, step: str) -> bool:
    return actions.send_deadline_reminder(deadline_id, step=step)


@db_periodic_task(crontab(minute="5"))
def refresh_training_deadlines() -> int:
    """Hourly: people join and leave through the members page, so their due dates are brought up to date here."""
    changed = 0
    for school in School.objects.all():
        actions.ensure_defaults(school)
        changed += actions.refresh_deadlines(school)
    return changed


@db_periodic_task(crontab(hour="7", minute="15"))
def sweep_training_reminders() -> int:
    """Each morning: refresh, then queue every reminder owed (each claimed once by its job)."""
    today = timezone.localdate()
    owed = []
    for school in School.objects.all():
        actions.ensure_defaults(school)
        actions.refresh_deadlines(school)
        owed += actions.reminders_owed(school, today)
    for deadline_id, step in owed:
        remind_deadline(deadline_id, step)
    return len(owed)
