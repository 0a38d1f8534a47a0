"""Notification emails travel through a real SMTP server."""

from __future__ import annotations

from schoolgate.notifications.actions import notify
from schoolgate.notifications.models import Notification


def test_it_delivers_a_notification_email_over_smtp(cast, smtp_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            [cast.alice],
            school=cast.school,
            subject="Please read the new policy",
            body="Version 2 is in force.",
            url="/s/x/policy/",
        )

    assert len(smtp_server) == 1
    delivered = smtp_server[0]
    assert delivered["to"] == [cast.alice.email]
    assert "Please read the new policy" in delivered["message"]["Subject"]
    body = delivered["message"].get_payload(decode=True).decode()
    assert cast.school.name in body and "Version 2 is in force." in body and "/s/x/policy/" in body
    assert Notification.objects.get(user=cast.alice).emailed_at is not None
