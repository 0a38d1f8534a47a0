"""Listening jobs: read each source when it is due, act on arrivals, and send the daily digests (jobs take ids)."""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from schoolgate.listening.actions import digest, polling, triage


@db_task()
def poll_source(source_id: int) -> int:
    return polling.poll_source(source_id)


@db_periodic_task(crontab(minute="*"))
def poll_due_sources() -> int:
    """Every minute: queue a read of each source whose next read is due (each claims its source)."""
    due = polling.sources_due(timezone.now())
    for source_id in due:
        poll_source(source_id)
    return len(due)


@db_task(retries=3, retry_delay=60)
def route_mentions_to_dsl(mention_ids: list[int]) -> int:
    return sum(bool(triage.route_mention_to_dsl(mention_id)) for mention_id in mention_ids)


@db_task(retries=3, retry_delay=60)
def alert_about_threats(mention_ids: list[int]) -> int:
    return triage.alert_about_threats(mention_ids)


@db_task()
def send_digest(school_id: int) -> int:
    return digest.send_digest(school_id)


@db_periodic_task(crontab(hour="7", minute="0"))
def send_daily_digests() -> int:
    """Each morning at seven: one digest per school that has watchers."""
    schools = digest.schools_with_watchers()
    for school_id in schools:
        send_digest(school_id)
    return len(schools)
