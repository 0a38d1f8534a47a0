"""Notify people: an in-app notification each, and an email sent by the worker after commit.

Callers pass only what every recipient may see: restricted (safeguarding) details never go in a
subject or body; say that something needs attention and link to where access is checked.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from schoolgate.notifications.models import Notification

logger = logging.getLogger(__name__)


def one_line(text: str) -> str:
    """Text safe for a mail header: a line break in a subject (an account or school name, say) makes the mail
    server refuse the message, and every later email of that notice would fail with it."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+", " ", text).strip()


def notify(
    users: Iterable,
    *,
    school,
    subject: str,
    body: str,
    url: str = "",
    email: bool = True,
    urgent: bool = False,
    about: str = "",
) -> list[Notification]:
    """Create notifications; email them after commit (urgent: sent at once by this process, not queued).

    `about` names what the notice asks for ("post:12:review"); `resolve(about)` marks it done when it is."""
    notice = Notice(users, school=school, subject=subject, body=body, url=url, email=email, about=about)
    return notify_all([notice], urgent=urgent)


@dataclass
class Notice:
    """One notice to some people, for notify_all."""

    users: Iterable
    school: object
    subject: str
    body: str
    url: str = ""
    email: bool = True
    about: str = ""


def notify_all(notices: Iterable[Notice], *, urgent: bool = False) -> list[Notification]:
    """Several notices at once (a sweep warning about many accounts): one insert and one email job for them all.
    Each person gets each notice once, however often they are listed in it."""
    from schoolgate.notifications.tasks import email_notification, email_notifications

    created = []
    for notice in notices:
        seen: set[int] = set()
        for user in notice.users:
            if user.pk in seen or not user.is_active:
                continue
            seen.add(user.pk)
            created.append(
                Notification(
                    user=user,
                    school=notice.school,
                    subject=one_line(notice.subject)[:200],
                    body=notice.body,
                    url=notice.url,
                    send_email=notice.email,
                    about=notice.about,
                )
            )
    Notification.objects.bulk_create(created)
    # bulk_create returns primary keys on SQLite and PostgreSQL
    ids = [n.pk for n in created if n.send_email]
    if urgent and ids:
        transaction.on_commit(lambda: [_send_now_or_queue(pk) for pk in ids])
    elif len(ids) == 1:
        transaction.on_commit(lambda: email_notification(ids[0]))
    elif ids:
        transaction.on_commit(lambda: email_notifications(ids))
    return created


def _send_now_or_queue(notification_id: int) -> None:
    from schoolgate.notifications.tasks import email_notification

    try:
        email_notification.call_local(notification_id)
    except Exception:
        # The mail server is down: the claim was released, so the queued retry will send it.
        logger.exception("Urgent email %s could not be sent now; queued for retry", notification_id)
        email_notification(notification_id)


def mark_read(notification: Notification, *, by) -> None:
    if notification.user_id != by.pk:
        return
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())


def resolve(about: str, *, users: Iterable | None = None) -> int:
    """The thing these notices asked for is done (or no longer needed): mark them read and resolved.

    With `users`, only theirs (a reviewer who has reviewed); otherwise everyone's. Returns how many."""
    if not about:
        return 0
    notices = Notification.objects.filter(about=about, resolved_at__isnull=True)
    if users is not None:
        notices = notices.filter(user__in=[user.pk for user in users])
    now = timezone.now()
    return notices.update(resolved_at=now, read_at=Coalesce("read_at", Value(now)))
