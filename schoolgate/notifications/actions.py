"""Notify people: an in-app notification each, and an email sent by the worker after commit.

Callers pass only what every recipient may see: restricted (safeguarding) details never go in a
subject or body; say that something needs attention and link to where access is checked.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from schoolgate.notifications.models import Notification


def notify(
    users: Iterable, *, school, subject: str, body: str, url: str = "", email: bool = True
) -> list[Notification]:
    from schoolgate.notifications.tasks import email_notification

    seen: set[int] = set()
    created = []
    for user in users:
        if user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        created.append(
            Notification(user=user, school=school, subject=subject[:200], body=body, url=url, send_email=email)
        )
    Notification.objects.bulk_create(created)
    if email:
        ids = [n.pk for n in created]  # bulk_create returns primary keys on SQLite and PostgreSQL
        transaction.on_commit(lambda: [email_notification(pk) for pk in ids])
    return created


def mark_read(notification: Notification, *, by) -> None:
    if notification.user_id != by.pk:
        return
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
