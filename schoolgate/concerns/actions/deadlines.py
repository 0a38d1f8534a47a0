"""The statutory clocks on a concern (LADO referral, ICO notification): started, and swept to warn its readers
before they run out and when they have."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from schoolgate.concerns import access, clocks
from schoolgate.concerns.actions.base import audit_concern
from schoolgate.concerns.models import Clock, Concern
from schoolgate.notifications.actions import notify


def start_clock(concern: Concern, kind: str, *, at: dt.datetime, by) -> Clock:
    """Start a clock unless one of its kind is already running on the concern."""
    running = concern.clocks.running().filter(kind=kind).first()
    if running is not None:
        return running
    clock = Clock.objects.create(
        concern=concern, kind=kind, started_at=at, due_at=clocks.due_at(kind, concern.school, at)
    )
    audit_concern("concerns.clock_started", concern, actor=by, clock=kind, due_at=clock.due_at)
    return clock


def sweep_clocks(now: dt.datetime | None = None) -> int:
    """Warn the readers before a clock runs out and again when it has; each notice claimed once (a conditional
    update), so two sweeps never send it twice. Returns how many notices went out."""
    now = now or timezone.now()
    sent = 0
    running = Clock.objects.running().select_related("concern__school")
    for clock in running.filter(overdue_notified_at__isnull=True, due_at__lte=now):
        if Clock.objects.filter(pk=clock.pk, overdue_notified_at__isnull=True).update(overdue_notified_at=now):
            _tell_readers(clock, overdue=True)
            sent += 1
    for clock in running.filter(warned_at__isnull=True, due_at__gt=now):
        hours = access.concern_settings(clock.concern.school).clock_warning_hours
        if clock.due_at - dt.timedelta(hours=hours) > now:
            continue
        if Clock.objects.filter(pk=clock.pk, warned_at__isnull=True).update(warned_at=now):
            _tell_readers(clock, overdue=False)
            sent += 1
    return sent


def _tell_readers(clock: Clock, *, overdue: bool) -> None:
    concern = clock.concern
    due = timezone.localtime(clock.due_at)
    notify(
        access.readers_of(concern),
        school=concern.school,
        subject="A safeguarding deadline has passed" if overdue else "A safeguarding deadline is near",
        body=(
            f"A deadline on a safeguarding concern at {concern.school.name} "
            + ("ran out" if overdue else "runs out")
            + f" at {due:%H:%M on %A %d %B}. Open Schoolgate to see it."
        ),
        url=reverse("concerns:detail", args=[concern.school.slug, concern.pk]),
        urgent=True,
    )
