"""Periodic policy-review sweep; each reminder is its own idempotent job taking an id."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from schoolgate.policy.models import DocumentVersion
from schoolgate.policy.reviews import REMINDER_WINDOW_DAYS, reminder_key


@db_task()
def remind_policy_review(version_id: int) -> bool:
    from schoolgate.policy.actions import send_review_reminder

    version = DocumentVersion.objects.current().filter(pk=version_id).select_related("document__school").first()
    if version is None or version.next_review_on is None:
        return False
    key = reminder_key(version.next_review_on, timezone.localdate())
    return bool(key) and send_review_reminder(version, key=key)


@db_periodic_task(crontab(hour="7", minute="0"))
def sweep_policy_reviews() -> int:
    horizon = timezone.localdate() + dt.timedelta(days=REMINDER_WINDOW_DAYS)
    ids = list(DocumentVersion.objects.review_due_by(horizon).values_list("pk", flat=True))
    for version_id in ids:
        remind_policy_review(version_id)
    return len(ids)
