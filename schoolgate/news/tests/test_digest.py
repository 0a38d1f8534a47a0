"""The weekly email digest: double opt-in, one email per issue, one-click unsubscribe (AW-PUB-4)."""

from __future__ import annotations

import datetime as dt
import email.policy
import re
import socket

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from schoolgate.audit.models import AuditEntry
from schoolgate.news import actions, emails
from schoolgate.news.models import DigestDelivery, DigestIssue, DigestSubscriber, SubscriberStatus
from schoolgate.news.tasks import retry_unsent_digests, send_weekly_digests
from schoolgate.news.tests.conftest import publish

FAMILY = "Parent.One@Example.org"


def _sign_up(client, cast, email: str, capture):
    with capture(execute=True):
        return client.post(f"/p/{cast.school.slug}/news/digest/", {"email": email})


def _link(message, path: str) -> str:
    body = message.get_payload(decode=True).decode() if not message.is_multipart() else _text(message)
    return re.search(rf"{re.escape(settings.SITE_URL)}(/p/\S+/{path}/\S+/)", body).group(1)


def _text(message) -> str:
    return (
        next(part for part in message.walk() if part.get_content_type() == "text/plain")
        .get_payload(decode=True)
        .decode()
    )


def _html(message) -> str:
    return (
        next(part for part in message.walk() if part.get_content_type() == "text/html")
        .get_payload(decode=True)
        .decode()
    )


def _confirmed(cast, email: str) -> DigestSubscriber:
    return DigestSubscriber.objects.create(
        school=cast.school, email=email, status=SubscriberStatus.CONFIRMED, confirmed_at=timezone.now()
    )


@pytest.mark.clause("AW-PUB-4")
def test_it_emails_confirmed_families_the_weeks_news_once_until_they_unsubscribe_in_one_click(
    client, cast, posts, smtp_server, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    # 1. Sign up on the news page: a confirmation link goes out over SMTP, nothing else yet.
    response = _sign_up(client, cast, FAMILY, capture)
    assert response.status_code == 200 and "Check your inbox" in response.content.decode()
    assert len(smtp_server) == 1 and smtp_server[0]["to"] == ["parent.one@example.org"]
    confirm_path = _link(smtp_server[0]["message"], "confirm")
    subscriber = DigestSubscriber.objects.get(school=cast.school)
    assert subscriber.status == SubscriberStatus.PENDING

    # 2. Opening the link (as a mail scanner would) confirms nothing; pressing the button does.
    assert client.get(confirm_path).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.PENDING
    with capture(execute=True):
        send_weekly_digests()
    assert len(smtp_server) == 1  # unconfirmed: no digest
    assert client.post(confirm_path).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.CONFIRMED

    # 3. The weekly job sends one digest with RFC 8058 headers; running it again sends nothing more.
    with capture(execute=True):
        send_weekly_digests()
    assert len(smtp_server) == 2
    digest = smtp_server[1]["message"]
    assert smtp_server[1]["to"] == ["parent.one@example.org"]
    week = actions.week_start_of(timezone.now())
    assert digest["Subject"] == f"Test School news: week of {week.day} {week:%B %Y}"
    unsubscribe_url = f"{settings.SITE_URL}/p/{cast.school.slug}/news/digest/unsubscribe/{subscriber.token}/"
    assert digest["List-Unsubscribe"] == f"<{unsubscribe_url}>"
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = _text(digest), _html(digest)
    assert "Sports day is on Friday." in text and unsubscribe_url in text
    assert "&lt;b&gt;please&lt;/b&gt;" in html and unsubscribe_url in html
    assert f"{settings.SITE_URL}/p/{cast.school.slug}/news/{posts['public'].pk}/" in text
    for hidden in ["DRAFT", "APPROVED but not yet live", "WITHDRAWN", "REMOVED"]:
        assert hidden not in text and hidden not in html
    with capture(execute=True):
        send_weekly_digests()
        retry_unsent_digests()
    assert len(smtp_server) == 2
    assert DigestDelivery.objects.get().sent_at is not None

    # 4. The mail app's one-click POST needs no CSRF token and unsubscribes at once.
    one_click = Client(enforce_csrf_checks=True)
    assert one_click.post(confirm_path).status_code == 403  # this client really enforces CSRF
    response = one_click.post(unsubscribe_url.removeprefix(settings.SITE_URL), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.UNSUBSCRIBED

    # 5. Next week there is news, and another family gets it; the one who left does not.
    other = _confirmed(cast, "parent.two@example.org")
    next_week = timezone.now() + dt.timedelta(days=7)
    publish(cast, "Next week's news", at=next_week - dt.timedelta(days=2))
    with capture(execute=True):
        assert actions.send_weekly_digests(now=next_week) == 1
    assert [m["to"] for m in smtp_server[2:]] == [[other.email]]
    assert "Next week's news" in _text(smtp_server[2]["message"])
    assert "Sports day" not in _text(smtp_server[2]["message"])  # already in last week's issue


def test_it_writes_the_unsubscribe_header_on_one_line_however_long_the_address(cast, posts, settings):
    settings.SITE_URL = "https://schoolgate.a-rather-long-multi-academy-trust-name.example.org"
    subscriber = _confirmed(cast, "parent@example.org")
    issue = actions.open_weekly_issues(now=timezone.now())[0]

    raw = emails.digest_message(issue, subscriber, actions.issue_posts(issue)).message(policy=email.policy.SMTP)

    url = f"{settings.SITE_URL}/p/{cast.school.slug}/news/digest/unsubscribe/{subscriber.token}/"
    assert f"\r\nList-Unsubscribe: <{url}>\r\n".encode() in raw.as_bytes()
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw.as_bytes()


def test_it_gives_the_same_reply_whoever_signs_up_and_sends_confirmed_addresses_nothing(
    client, cast, smtp_server, django_capture_on_commit_callbacks
):
    _confirmed(cast, "known@example.org")

    new = _sign_up(client, cast, "new@example.org", django_capture_on_commit_callbacks)
    known = _sign_up(client, cast, "KNOWN@example.org", django_capture_on_commit_callbacks)
    again = _sign_up(client, cast, "new@example.org", django_capture_on_commit_callbacks)

    assert new.status_code == known.status_code == again.status_code == 200
    # Identical pages apart from the per-response CSRF mask in the page template.
    assert len({re.sub(rb'"X-CSRFToken": "\w+"', b"", r.content) for r in [new, known, again]}) == 1
    # Only the new address got a link; the repeat within minutes did not flood its inbox.
    assert [m["to"] for m in smtp_server] == [["new@example.org"]]
    assert DigestSubscriber.objects.filter(school=cast.school).count() == 2


def test_it_refuses_a_bad_address_with_a_clear_message_and_writes_nothing(client, cast):
    response = client.post(f"/p/{cast.school.slug}/news/digest/", {"email": "not-an-address"})

    assert response.status_code == 200
    assert "Enter a valid email address" in response.content.decode()
    assert not DigestSubscriber.objects.exists()


def test_it_limits_sign_ups_from_one_address(client, cast, django_capture_on_commit_callbacks, settings):
    from schoolgate.news import views

    for n in range(views.SIGNUPS_PER_ADDRESS_PER_HOUR):
        _sign_up(client, cast, f"p{n}@example.org", django_capture_on_commit_callbacks)
    response = _sign_up(client, cast, "one-more@example.org", django_capture_on_commit_callbacks)

    assert response.status_code == 429 and "Too many sign-ups" in response.content.decode()
    assert not DigestSubscriber.objects.filter(email="one-more@example.org").exists()


def test_it_answers_an_empty_sign_up_with_the_limit_message_once_limited(client, cast, settings):
    from schoolgate.news import views

    for n in range(views.SIGNUPS_PER_ADDRESS_PER_HOUR):
        client.post(f"/p/{cast.school.slug}/news/digest/", {"email": f"p{n}@example.org"})

    response = client.post(f"/p/{cast.school.slug}/news/digest/", {})  # no field at all, as a bot might send

    assert response.status_code == 429 and "Too many sign-ups" in response.content.decode()


def test_it_asks_for_an_address_when_the_sign_up_is_empty(client, cast):
    response = client.post(f"/p/{cast.school.slug}/news/digest/", {})

    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert not DigestSubscriber.objects.exists()


@pytest.mark.clause("AW-PUB-4")
def test_it_never_sends_the_digest_to_unconfirmed_or_unsubscribed_addresses(
    cast, posts, smtp_server, django_capture_on_commit_callbacks
):
    pending = DigestSubscriber.objects.create(school=cast.school, email="pending@example.org")
    gone = _confirmed(cast, "gone@example.org")
    actions.unsubscribe(gone)
    loyal = _confirmed(cast, "loyal@example.org")  # so the school has an issue this week at all

    # The weekly sweep queues only the confirmed address.
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.send_weekly_digests(now=timezone.now()) == 1
    assert [m["to"] for m in smtp_server] == [[loyal.email]]
    # A job still queued from before the address left (or never confirmed) does not send either.
    issue = DigestIssue.objects.get(school=cast.school)
    assert actions.deliver_digest(issue.pk, gone.pk, now=timezone.now()) is False
    assert actions.deliver_digest(issue.pk, pending.pk, now=timezone.now()) is False

    assert [m["to"] for m in smtp_server] == [[loyal.email]]
    assert list(DigestDelivery.objects.values_list("subscriber", flat=True)) == [loyal.pk]


def test_it_records_confirmation_and_unsubscribing_in_the_audit_log_without_the_address(cast):
    subscriber = DigestSubscriber.objects.create(school=cast.school, email="private@example.org")

    assert actions.confirm_subscription(subscriber) is True
    assert actions.confirm_subscription(subscriber) is False  # a second press changes nothing
    assert actions.unsubscribe(subscriber) is True

    entries = list(AuditEntry.objects.filter(action__startswith="news.digest.").order_by("seq"))
    assert [e.action for e in entries] == ["news.digest.confirmed", "news.digest.unsubscribed"]
    for entry in entries:
        assert entry.actor_label == "system" and entry.school == cast.school
        assert entry.detail == {"subscriber": subscriber.pk}
        assert "private@example.org" not in f"{entry.object_repr} {entry.detail} {entry.changes}"


def test_it_shows_a_button_on_get_and_unsubscribes_only_on_post(client, cast):
    subscriber = _confirmed(cast, "parent@example.org")
    url = f"/p/{cast.school.slug}/news/digest/unsubscribe/{subscriber.token}/"

    page = client.get(url)
    subscriber.refresh_from_db()
    assert page.status_code == 200 and "<button" in page.content.decode()
    assert subscriber.status == SubscriberStatus.CONFIRMED
    assert client.post(url).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.UNSUBSCRIBED
    assert client.post(f"/p/{cast.school.slug}/news/digest/unsubscribe/wrong-token/").status_code == 404


def test_it_asks_an_address_that_unsubscribed_to_confirm_again_when_it_signs_up_again(
    client, cast, smtp_server, django_capture_on_commit_callbacks
):
    subscriber = _confirmed(cast, "back@example.org")
    actions.unsubscribe(subscriber)

    _sign_up(client, cast, "back@example.org", django_capture_on_commit_callbacks)

    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.PENDING
    assert [m["to"] for m in smtp_server] == [["back@example.org"]]


def test_it_retries_a_digest_the_mail_server_refused_and_still_sends_it_once(
    cast, posts, smtp_server, django_capture_on_commit_callbacks, settings
):
    subscriber = _confirmed(cast, "parent@example.org")
    working = settings.MAILERS
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed_port, "timeout": 2},
        }
    }
    issue = actions.open_weekly_issues(now=timezone.now())[0]
    with pytest.raises(OSError):
        actions.deliver_digest(issue.pk, subscriber.pk, now=timezone.now())
    failed = DigestDelivery.objects.get()
    assert failed.sent_at is None and failed.claimed_at is None and failed.last_error

    settings.MAILERS = working
    with django_capture_on_commit_callbacks(execute=True):
        retry_unsent_digests()
        retry_unsent_digests()
    assert [m["to"] for m in smtp_server] == [["parent@example.org"]]
    assert DigestDelivery.objects.get().sent_at is not None


def test_it_leaves_a_fresh_claim_alone_and_takes_over_a_dead_workers_claim(cast, posts, mailoutbox):
    subscriber = _confirmed(cast, "parent@example.org")
    now = timezone.now()
    issue = actions.open_weekly_issues(now=now)[0]
    DigestDelivery.objects.create(issue=issue, subscriber=subscriber, claimed_at=now, attempts=1)

    assert actions.deliver_digest(issue.pk, subscriber.pk, now=now) is False
    assert actions.deliver_digest(issue.pk, subscriber.pk, now=now + actions.CLAIM_TIMEOUT * 2) is True
    assert len(mailoutbox) == 1


def test_it_opens_no_issue_for_a_week_without_public_news(cast, posts, mailoutbox):
    _confirmed(cast, "parent@example.org")

    assert actions.open_weekly_issues(now=timezone.now() + dt.timedelta(days=8)) == []
    assert not DigestIssue.objects.exists()


@pytest.mark.clause("AW-PUB-4")
def test_it_forgets_addresses_nobody_confirmed_within_a_week_and_unsubscribed_ones_after_a_month(cast, posts):
    now = timezone.now()
    days = dt.timedelta(days=1)

    def subscriber(email, status, *, created, **fields):
        made = DigestSubscriber.objects.create(school=cast.school, email=email, status=status, **fields)
        DigestSubscriber.objects.filter(pk=made.pk).update(created_at=created)  # auto_now_add cannot be given
        return made

    never_confirmed = subscriber("old-pending@example.org", SubscriberStatus.PENDING, created=now - 8 * days)
    asked_again = subscriber(
        "asked-again@example.org",
        SubscriberStatus.PENDING,
        created=now - 40 * days,
        confirmation_requested_at=now - days,
    )
    recent = subscriber("new-pending@example.org", SubscriberStatus.PENDING, created=now - 2 * days)
    loyal = _confirmed(cast, "loyal@example.org")
    DigestSubscriber.objects.filter(pk=loyal.pk).update(created_at=now - 400 * days)
    left = subscriber(
        "left@example.org", SubscriberStatus.UNSUBSCRIBED, created=now - 90 * days, unsubscribed_at=now - 31 * days
    )
    just_left = subscriber(
        "just-left@example.org", SubscriberStatus.UNSUBSCRIBED, created=now - 90 * days, unsubscribed_at=now - 5 * days
    )
    issue = DigestIssue.objects.create(school=cast.school, week_start=now.date(), covers_from=now, covers_until=now)
    DigestDelivery.objects.create(issue=issue, subscriber=left, sent_at=now - 60 * days)

    assert actions.forget_stale_addresses(now=now) == 2

    remaining = set(DigestSubscriber.objects.values_list("pk", flat=True))
    assert remaining == {asked_again.pk, recent.pk, loyal.pk, just_left.pk}
    assert never_confirmed.pk not in remaining and left.pk not in remaining
    assert not DigestDelivery.objects.filter(subscriber_id=left.pk).exists()
    (entry,) = AuditEntry.objects.filter(action="news.digest.addresses_forgotten")
    assert entry.school == cast.school and entry.detail == {"unconfirmed": 1, "unsubscribed": 1}
    assert "example.org" not in f"{entry.object_repr} {entry.detail} {entry.changes}"

    assert actions.forget_stale_addresses(now=now) == 0  # nothing more to forget, and nothing more logged
    assert AuditEntry.objects.filter(action="news.digest.addresses_forgotten").count() == 1


def test_it_sends_the_emails_of_a_school_whose_name_was_saved_with_a_line_break(
    client, cast, posts, smtp_server, django_capture_on_commit_callbacks
):
    # An older row, saved before names were checked: its emails must still go out, on one line.
    type(cast.school).objects.filter(pk=cast.school.pk).update(name="Oak\r\nAsh")
    cast.school.refresh_from_db()

    _sign_up(client, cast, "parent@example.org", django_capture_on_commit_callbacks)
    subscriber = DigestSubscriber.objects.get()
    actions.confirm_subscription(subscriber)
    with django_capture_on_commit_callbacks(execute=True):
        actions.send_weekly_digests(now=timezone.now())

    confirmation, digest = (m["message"] for m in smtp_server)
    assert confirmation["Subject"] == "Confirm your weekly news email from Oak Ash"
    assert digest["Subject"].startswith("Oak Ash news: week of ")
    assert "Oak Ash news" in digest["From"]
