"""The worker heartbeat: proves on /healthz that periodic jobs are running."""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from schoolgate.home.models import WorkerHeartbeat


@db_periodic_task(crontab(minute="*"))
def heartbeat() -> None:
    WorkerHeartbeat.objects.update_or_create(name="huey", defaults={"beat_at": timezone.now()})
