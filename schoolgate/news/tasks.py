"""Background jobs: confirmation emails, the weekly digest sweep, and a retry sweep for unsent digests."""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from schoolgate.news import actions
from schoolgate.news.models import DigestSubscriber, SubscriberStatus


@db_task(retries=3, retry_delay=60)
def send_confirmation(subscriber_id: int) -> bool:
    from schoolgate.news.emails import confirmation_message

    subscriber = (
        DigestSubscriber.objects.select_related("school")
        .filter(pk=subscriber_id, status=SubscriberStatus.PENDING)
        .first()
    )
    if subscriber is None:
        return False  # confirmed or unsubscribed meanwhile: the link is no longer needed
    try:
        confirmation_message(subscriber).send()
    except Exception:
        # Let the person ask again at once rather than wait out the resend interval; Huey retries too.
        DigestSubscriber.objects.filter(pk=subscriber_id).update(confirmation_requested_at=None)
        raise
    return True


@db_task(retries=2, retry_delay=300)
def send_digest(issue_id: int, subscriber_id: int) -> bool:
    return actions.deliver_digest(issue_id, subscriber_id, now=timezone.now())


# Friday afternoon, after the school day: the week's news while it is still this week's.
@db_periodic_task(crontab(day_of_week="5", hour="16", minute="0"))
def send_weekly_digests() -> int:
    return actions.send_weekly_digests(now=timezone.now())


@db_periodic_task(crontab(minute="*/15"))
def retry_unsent_digests() -> int:
    return actions.retry_unsent_digests(now=timezone.now())


@db_periodic_task(crontab(hour="3", minute="40"))
def forget_stale_digest_addresses() -> int:
    return actions.forget_stale_addresses(now=timezone.now())
