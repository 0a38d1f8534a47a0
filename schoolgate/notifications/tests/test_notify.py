"""notify(), the email job it enqueues after commit, and mark_read()."""

from __future__ import annotations

from smtplib import SMTPServerDisconnected

import pytest
from django.core.mail import EmailMessage
from django.db import transaction

from schoolgate.accounts.models import User
from schoolgate.notifications.actions import mark_read, notify
from schoolgate.notifications.models import Notification
from schoolgate.notifications.tasks import email_notification


def _notify(cast, users, **kwargs) -> list[Notification]:
    options = {
        "school": cast.school,
        "subject": "Please read the new policy",
        "body": "Version 2 is in force.",
        "url": f"/s/{cast.school.slug}/policy/",
    } | kwargs
    return notify(users, **options)


def test_it_creates_one_notification_per_distinct_person(cast):
    alice_again = User.objects.get(pk=cast.alice.pk)  # the same person, loaded twice

    created = _notify(cast, [cast.alice, cast.bob, alice_again, cast.alice], email=False)

    assert sorted(n.user_id for n in created) == sorted([cast.alice.pk, cast.bob.pk])
    stored = Notification.objects.order_by("user__full_name")
    assert [n.user_id for n in stored] == [cast.alice.pk, cast.bob.pk]
    for notification in stored:
        assert notification.school_id == cast.school.pk
        assert notification.subject == "Please read the new policy"
        assert notification.body == "Version 2 is in force."
        assert notification.url == f"/s/{cast.school.slug}/policy/"
        assert notification.read_at is None
        assert notification.emailed_at is None


def test_it_returns_saved_notifications(cast):
    created = _notify(cast, [cast.alice, cast.bob], email=False)

    assert all(n.pk for n in created)
    assert {n.pk for n in created} == set(Notification.objects.values_list("pk", flat=True))


def test_it_skips_people_who_are_no_longer_active(cast, mailoutbox, django_capture_on_commit_callbacks):
    cast.volunteer.is_active = False
    cast.volunteer.save(update_fields=["is_active"])

    with django_capture_on_commit_callbacks(execute=True):
        created = _notify(cast, [m.user for m in cast.school.memberships.select_related("user")])

    assert cast.volunteer.pk not in {n.user_id for n in created}
    assert len(created) == len(cast.everyone()) - 1
    assert cast.volunteer.email not in {m.to[0] for m in mailoutbox}
    assert len(mailoutbox) == len(cast.everyone()) - 1


def test_it_sends_a_notice_whose_subject_carries_a_line_break(cast, smtp_server, django_capture_on_commit_callbacks):
    # An account or older school name with a line break would make every email of the notice fail.
    with django_capture_on_commit_callbacks(execute=True):
        _notify(cast, [cast.alice], subject="Account 'News\r\nBcc: someone@example.org' was approved")

    assert [message["to"] for message in smtp_server] == [[cast.alice.email]]
    assert smtp_server[0]["message"]["Subject"].endswith("Account 'News Bcc: someone@example.org' was approved")
    assert smtp_server[0]["message"]["Bcc"] is None


def test_it_notifies_a_whole_queryset(cast):
    created = _notify(cast, cast.school.members(), email=False)

    assert {n.user_id for n in created} == {person.pk for person in cast.everyone()}


def test_it_cuts_a_long_subject_to_fit(cast):
    created = _notify(cast, [cast.alice], subject="x" * 250, email=False)

    assert Notification.objects.get(pk=created[0].pk).subject == "x" * 200


def test_it_creates_nothing_for_nobody(cast, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert _notify(cast, []) == []

    assert not Notification.objects.exists()
    assert mailoutbox == []


def test_it_emails_only_after_the_transaction_commits(cast, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _notify(cast, [cast.alice, cast.bob])
        assert mailoutbox == []  # nothing leaves before commit
        assert Notification.objects.filter(emailed_at__isnull=False).count() == 0

    assert len(callbacks) == 1
    assert sorted(m.to[0] for m in mailoutbox) == sorted([cast.alice.email, cast.bob.email])
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


def test_it_writes_the_email_from_the_notification(cast, mailoutbox, django_capture_on_commit_callbacks, settings):
    settings.SITE_URL = "https://schoolgate.example"
    settings.SITE_NAME = "Schoolgate"

    with django_capture_on_commit_callbacks(execute=True):
        _notify(cast, [cast.alice])

    (message,) = mailoutbox
    assert message.to == [cast.alice.email]
    assert message.subject == "[Schoolgate] Please read the new policy"
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.body == (
        f"{cast.school.name}\n\nVersion 2 is in force.\n\nhttps://schoolgate.example/s/{cast.school.slug}/policy/\n"
    )


def test_it_leaves_an_absolute_link_alone(cast, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            [cast.alice],
            school=None,
            subject="Training",
            body="Book a place.",
            url="https://training.example/course",
        )

    (message,) = mailoutbox
    assert message.body == "Book a place.\n\nhttps://training.example/course\n"


def test_it_sends_no_email_when_the_transaction_rolls_back(cast, mailoutbox, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _notify(cast, [cast.alice])
        raise RuntimeError("the action failed after notifying")

    assert callbacks == []
    assert not Notification.objects.exists()
    assert mailoutbox == []


def test_it_sends_no_email_when_asked_not_to(cast, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        created = _notify(cast, [cast.alice], email=False)

    assert callbacks == []
    assert mailoutbox == []
    assert Notification.objects.get(pk=created[0].pk).send_email is False
    assert email_notification.call_local(created[0].pk) is False
    assert mailoutbox == []


def test_it_claims_the_email_once(cast, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        (notification,) = _notify(cast, [cast.alice])
    assert mailoutbox == []

    first = email_notification.call_local(notification.pk)
    second = email_notification.call_local(notification.pk)

    assert (first, second) == (True, False)
    assert len(mailoutbox) == 1
    assert Notification.objects.get(pk=notification.pk).emailed_at is not None


def test_it_claims_the_email_once_through_the_queue(cast, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        (notification,) = _notify(cast, [cast.alice])

    # Run again, as a retried or duplicated job would be.
    assert email_notification(notification.pk).get() is False
    assert email_notification(notification.pk).get() is False

    assert len(mailoutbox) == 1


def test_it_ignores_a_notification_that_no_longer_exists(db, mailoutbox):
    assert email_notification.call_local(987654) is False
    assert mailoutbox == []


def test_it_releases_the_claim_when_sending_fails(cast, mailoutbox, monkeypatch, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        (notification,) = _notify(cast, [cast.alice])

    def refuse(self, *args, **kwargs):
        raise SMTPServerDisconnected("mail server went away")

    with monkeypatch.context() as patch:
        patch.setattr(EmailMessage, "send", refuse)
        with pytest.raises(SMTPServerDisconnected):
            email_notification.call_local(notification.pk)

    assert Notification.objects.get(pk=notification.pk).emailed_at is None
    assert mailoutbox == []
    # The retry can now send it.
    assert email_notification.call_local(notification.pk) is True
    assert len(mailoutbox) == 1


def test_it_marks_a_notification_read_for_its_owner(cast):
    (notification,) = _notify(cast, [cast.alice], email=False)

    mark_read(notification, by=cast.alice)

    assert Notification.objects.get(pk=notification.pk).read_at is not None
    assert Notification.objects.filter(user=cast.alice).unread().count() == 0


@pytest.mark.parametrize("who", ["bob", "head", "dsl"])
def test_it_does_not_mark_someone_elses_notification_read(cast, who):
    (notification,) = _notify(cast, [cast.alice], email=False)

    mark_read(notification, by=getattr(cast, who))

    assert Notification.objects.get(pk=notification.pk).read_at is None
    assert Notification.objects.filter(user=cast.alice).unread().count() == 1


def test_it_keeps_the_first_read_time(cast):
    (notification,) = _notify(cast, [cast.alice], email=False)
    mark_read(notification, by=cast.alice)
    first = Notification.objects.get(pk=notification.pk).read_at

    mark_read(notification, by=cast.alice)

    assert Notification.objects.get(pk=notification.pk).read_at == first


def test_it_resolves_the_notices_about_something_once_it_is_done(cast):
    from schoolgate.notifications.actions import resolve

    _notify(cast, [cast.alice, cast.bob], email=False, about="post:1:review")
    _notify(cast, [cast.alice], email=False, about="post:2:review")
    assert resolve("post:1:review", users=[cast.bob]) == 1
    assert Notification.objects.get(user=cast.bob, about="post:1:review").read_at is not None
    assert Notification.objects.get(user=cast.alice, about="post:1:review").read_at is None
    assert resolve("post:1:review") == 1
    assert Notification.objects.filter(about="post:1:review", resolved_at__isnull=True).count() == 0
    assert Notification.objects.get(about="post:2:review").read_at is None  # other posts are left alone
    assert resolve("") == 0


def test_it_shows_notifications_under_the_schools_menu_and_marks_resolved_ones_done(client, cast):
    from schoolgate.notifications.actions import resolve
    from schoolgate.schools.models import Membership, School
    from schoolgate.schools.roles import Role

    _notify(cast, [cast.alice], email=False, subject="A post is waiting for your review", about="post:9:review")
    client.force_login(cast.alice)
    page = client.get("/notifications/").content.decode()  # one school: its menu
    assert f'href="/s/{cast.school.slug}/posts/"' in page and "Done" not in page
    resolve("post:9:review")
    page = client.get("/notifications/").content.decode()
    assert '<span class="pill ok">Done</span>' in page

    other = School.objects.create(name="Second School", slug="second-school")
    Membership.objects.create(school=other, user=cast.alice, role=Role.STAFF)
    page = client.get(f"/notifications/?school={other.slug}").content.decode()
    assert 'href="/s/second-school/posts/"' in page
    dashboard = client.get(f"/s/{other.slug}/").content.decode()
    assert 'href="/notifications/?school=second-school"' in dashboard
    assert client.get("/notifications/?school=not-mine").status_code == 404
