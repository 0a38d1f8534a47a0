"""Sending notification emails: claimed with a conditional update, so two workers never both send one."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone
from huey.contrib.djhuey import db_task

from schoolgate.notifications.models import Notification


@db_task(retries=3, retry_delay=60)
def email_notification(notification_id: int) -> bool:
    notification = Notification.objects.select_related("user", "school").filter(pk=notification_id).first()
    if notification is None or not notification.send_email:
        return False
    claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(emailed_at=timezone.now())
    if not claimed:
        return False
    link = f"{settings.SITE_URL}{notification.url}" if notification.url.startswith("/") else notification.url
    school = f"{notification.school.name}\n\n" if notification.school else ""
    try:
        EmailMessage(
            subject=f"[{settings.SITE_NAME}] {notification.subject}",
            body=f"{school}{notification.body}\n\n{link}\n",
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[notification.user.email],
        ).send()
    except Exception:
        # Release the claim so the retry can send it.
        Notification.objects.filter(pk=notification_id).update(emailed_at=None)
        raise
    return True


@db_task(retries=3, retry_delay=60)
def email_notifications(notification_ids: list[int]) -> int:
    """One job for a notice sent to several people (a sweep's warnings, a new concern's readers) instead of one per
    email. Each email is claimed as above, so a retry after a failure sends only those not yet sent."""
    sent, failure = 0, None
    for notification_id in notification_ids:
        try:
            sent += email_notification.call_local(notification_id)
        except Exception as error:  # the others still go; the job is retried for this one
            failure = error
    if failure is not None:
        raise failure
    return sent
