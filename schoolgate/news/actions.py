"""Signing up for the weekly digest, confirming, unsubscribing, and sending each week's issue once (AW-PUB-4)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.news.models import DigestDelivery, DigestIssue, DigestSubscriber, SubscriberStatus
from schoolgate.posts.models import Post
from schoolgate.schools.models import School

# A second sign-up with the same address within this time sends no second confirmation email.
CONFIRMATION_RESEND_AFTER = dt.timedelta(minutes=10)
# A claim older than this with nothing sent belongs to a worker that died; the sweep may take it over.
CLAIM_TIMEOUT = dt.timedelta(minutes=15)
# An address the mail server keeps refusing is given up on for that issue.
MAX_ATTEMPTS = 5
# Last week's news arriving days late is worse than none; retries stop after this.
ISSUE_FRESH_FOR = dt.timedelta(days=2)
DIGEST_PERIOD = dt.timedelta(days=7)
# After a missed week the next issue also covers it, but never reaches back further than this.
LONGEST_PERIOD = dt.timedelta(days=14)
# Addresses kept without a reason are personal data held for nothing: one nobody confirmed is forgotten after
# a week (the confirmation link is long dead); an unsubscribed one after a month, long enough to answer "why
# did the digest stop?", too short to become a list of the families who left.
UNCONFIRMED_KEPT_FOR = dt.timedelta(days=7)
UNSUBSCRIBED_KEPT_FOR = dt.timedelta(days=30)


def public_posts(school: School):
    """What families may see: live on a network and not taken down, newest first."""
    return Post.objects.public().at_school(school).order_by("-published_at", "-pk")


def normalise_email(email: str) -> str:
    address = (email or "").strip().lower()
    try:
        validate_email(address)
    except ValidationError as error:
        raise ValidationError({"email": "Enter a valid email address, like name@example.org."}) from error
    return address


def subscribe(school: School, *, email: str) -> DigestSubscriber:
    """Ask for the weekly digest; nothing is sent until the owner of the address confirms (double opt-in).

    1. Validate and normalise the address (a ValidationError names the field; nothing is written).
    2. Create a pending subscriber, or reuse the one for this address; someone who unsubscribed goes
       back to pending and must confirm again.
    3. A confirmed address gets nothing new. A pending one is sent a confirmation link after commit,
       unless one went out in the last few minutes (so the form cannot be used to flood an inbox).
    The caller shows the same reply whatever happened, so the form never reveals who is subscribed.
    """
    from schoolgate.news.tasks import send_confirmation

    address = normalise_email(email)
    now = timezone.now()
    with transaction.atomic():
        subscriber, _ = DigestSubscriber.objects.get_or_create(school=school, email=address)
        if subscriber.status == SubscriberStatus.CONFIRMED:
            return subscriber
        DigestSubscriber.objects.filter(pk=subscriber.pk, status=SubscriberStatus.UNSUBSCRIBED).update(
            status=SubscriberStatus.PENDING
        )
        claimed = (
            DigestSubscriber.objects.filter(pk=subscriber.pk, status=SubscriberStatus.PENDING)
            .filter(
                Q(confirmation_requested_at__isnull=True)
                | Q(confirmation_requested_at__lt=now - CONFIRMATION_RESEND_AFTER)
            )
            .update(confirmation_requested_at=now)
        )
        if claimed:
            subscriber_id = subscriber.pk
            transaction.on_commit(lambda: send_confirmation(subscriber_id))
    subscriber.refresh_from_db()
    return subscriber


def confirm_subscription(subscriber: DigestSubscriber) -> bool:
    """The owner of the address said yes (by POST from the link we emailed). False if there was nothing to do."""
    with transaction.atomic():
        confirmed = DigestSubscriber.objects.filter(pk=subscriber.pk, status=SubscriberStatus.PENDING).update(
            status=SubscriberStatus.CONFIRMED, confirmed_at=timezone.now()
        )
        if confirmed:
            # Families' addresses are personal data: the log records which subscriber, never the address.
            audit.log(
                "news.digest.confirmed", actor="system", school=subscriber.school, detail={"subscriber": subscriber.pk}
            )
    subscriber.refresh_from_db()
    return bool(confirmed)


def unsubscribe(subscriber: DigestSubscriber) -> bool:
    """Stop the digest at once (RFC 8058 one-click or the page's button). False if already unsubscribed."""
    with transaction.atomic():
        stopped = DigestSubscriber.objects.filter(
            pk=subscriber.pk, status__in=[SubscriberStatus.PENDING, SubscriberStatus.CONFIRMED]
        ).update(status=SubscriberStatus.UNSUBSCRIBED, unsubscribed_at=timezone.now())
        if stopped:
            audit.log(
                "news.digest.unsubscribed",
                actor="system",
                school=subscriber.school,
                detail={"subscriber": subscriber.pk},
            )
    subscriber.refresh_from_db()
    return bool(stopped)


def week_start_of(moment: dt.datetime) -> dt.date:
    day = timezone.localtime(moment).date()
    return day - dt.timedelta(days=day.weekday())


def open_weekly_issues(*, now: dt.datetime) -> list[DigestIssue]:
    """This week's issue for every school that has confirmed subscribers and news to send.

    1. Each school with at least one confirmed subscriber.
    2. This week's issue if it exists already (a re-run reuses it, so its period and posts do not move).
    3. Otherwise the period runs from where the last issue stopped (or a week back, at most two) to now;
       with no public posts in it the school gets no issue this week.
    """
    issues = []
    week = week_start_of(now)
    schools = School.objects.filter(digest_subscribers__status=SubscriberStatus.CONFIRMED).distinct()
    for school in schools:
        issue = DigestIssue.objects.filter(school=school, week_start=week).first()
        if issue is None:
            previous = DigestIssue.objects.filter(school=school, week_start__lt=week).order_by("-week_start").first()
            covers_from = now - DIGEST_PERIOD
            if previous is not None and now - LONGEST_PERIOD < previous.covers_until < now:
                covers_from = previous.covers_until
            posts = public_posts(school).filter(published_at__gte=covers_from, published_at__lt=now)
            post_ids = list(posts.values_list("pk", flat=True))
            if not post_ids:
                continue
            with transaction.atomic():
                issue, created = DigestIssue.objects.get_or_create(
                    school=school,
                    week_start=week,
                    defaults={"covers_from": covers_from, "covers_until": now, "created_at": now},
                )
                if created:
                    audit.log("news.digest.issued", actor="system", target=issue, detail={"posts": post_ids})
        issues.append(issue)
    return issues


def issue_posts(issue: DigestIssue) -> list[Post]:
    """The issue's posts that are still public now (a post taken down since is left out), oldest first."""
    posts = public_posts(issue.school).filter(published_at__gte=issue.covers_from, published_at__lt=issue.covers_until)
    return list(posts.order_by("published_at", "pk"))


def queue_digest_deliveries(issue: DigestIssue, *, now: dt.datetime) -> int:
    """Enqueue sending the issue to each confirmed subscriber not yet sent it and not being sent it right now.

    Only people who had confirmed when the issue opened receive it: someone confirming on Saturday starts
    with next week's issue rather than getting a late copy of this one from the retry sweep.
    """
    from schoolgate.news.tasks import send_digest

    if issue.created_at < now - ISSUE_FRESH_FOR:
        return 0
    finished_or_in_flight = DigestDelivery.objects.filter(issue=issue).filter(
        Q(sent_at__isnull=False) | Q(claimed_at__gte=now - CLAIM_TIMEOUT) | Q(attempts__gte=MAX_ATTEMPTS)
    )
    subscriber_ids = list(
        DigestSubscriber.objects.confirmed()
        .filter(school_id=issue.school_id, confirmed_at__lte=issue.created_at)
        .exclude(pk__in=finished_or_in_flight.values("subscriber_id"))
        .values_list("pk", flat=True)
    )
    issue_id = issue.pk
    transaction.on_commit(lambda: [send_digest(issue_id, subscriber_id) for subscriber_id in subscriber_ids])
    return len(subscriber_ids)


def _claim(issue: DigestIssue, subscriber: DigestSubscriber, *, now: dt.datetime) -> DigestDelivery | None:
    # The unique (issue, subscriber) row is the lock: whoever creates it, or takes over a free or dead
    # claim with a conditional update, sends; everyone else backs off.
    with transaction.atomic():
        delivery, created = DigestDelivery.objects.get_or_create(
            issue=issue, subscriber=subscriber, defaults={"claimed_at": now, "attempts": 1}
        )
    if created:
        return delivery
    taken = (
        DigestDelivery.objects.filter(pk=delivery.pk, sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    return delivery if taken else None


def deliver_digest(issue_id: int, subscriber_id: int, *, now: dt.datetime) -> bool:
    """Send one issue to one subscriber, at most once. True if an email went out.

    1. Only a fresh issue, and only to a subscriber of its school who is confirmed right now.
    2. Claim the delivery row; if it is sent, or another worker holds it, stop.
    3. Send; record sent_at only once the mail server accepted the message. On failure release the
       claim and re-raise, so the job's retry (or the sweep) tries again.
    """
    from schoolgate.news.emails import digest_message

    issue = DigestIssue.objects.select_related("school").filter(pk=issue_id).first()
    if issue is None or issue.created_at < now - ISSUE_FRESH_FOR:
        return False
    subscriber = DigestSubscriber.objects.confirmed().filter(pk=subscriber_id, school_id=issue.school_id).first()
    if subscriber is None:
        return False
    delivery = _claim(issue, subscriber, now=now)
    if delivery is None:
        return False
    posts = issue_posts(issue)
    if not posts:
        # Every post in the issue was taken down after it opened: there is nothing left to tell anyone.
        DigestDelivery.objects.filter(pk=delivery.pk).update(
            attempts=MAX_ATTEMPTS, last_error="Every post in this issue was taken down; nothing sent."
        )
        return False
    try:
        digest_message(issue, subscriber, posts).send()
    except Exception as error:
        DigestDelivery.objects.filter(pk=delivery.pk, sent_at__isnull=True).update(
            claimed_at=None, last_error=str(error)[:1000]
        )
        raise
    DigestDelivery.objects.filter(pk=delivery.pk).update(sent_at=timezone.now(), last_error="")
    return True


def send_weekly_digests(*, now: dt.datetime) -> int:
    """Open this week's issues and enqueue every delivery still owed. Returns how many were enqueued."""
    return sum(queue_digest_deliveries(issue, now=now) for issue in open_weekly_issues(now=now))


def retry_unsent_digests(*, now: dt.datetime) -> int:
    """Re-enqueue deliveries of fresh issues whose job was lost or whose worker died mid-send."""
    issues = DigestIssue.objects.filter(created_at__gte=now - ISSUE_FRESH_FOR, created_at__lte=now)
    return sum(queue_digest_deliveries(issue, now=now) for issue in issues)


def forget_stale_addresses(*, now: dt.datetime) -> int:
    """Delete the addresses there is no reason to keep: pending with no sign-up for UNCONFIRMED_KEPT_FOR, or
    unsubscribed UNSUBSCRIBED_KEPT_FOR ago (with their delivery records). One audit entry per school gives the
    counts, never an address. Returns how many addresses were deleted; a second run the same day deletes none."""
    unconfirmed_before, unsubscribed_before = now - UNCONFIRMED_KEPT_FOR, now - UNSUBSCRIBED_KEPT_FOR
    stale = DigestSubscriber.objects.filter(
        Q(
            status=SubscriberStatus.PENDING,
            created_at__lt=unconfirmed_before,
        )
        & (Q(confirmation_requested_at__isnull=True) | Q(confirmation_requested_at__lt=unconfirmed_before))
        | Q(status=SubscriberStatus.UNSUBSCRIBED, unsubscribed_at__lt=unsubscribed_before)
        | Q(status=SubscriberStatus.UNSUBSCRIBED, unsubscribed_at__isnull=True, created_at__lt=unsubscribed_before)
    )
    forgotten = 0
    for school in School.objects.filter(pk__in=stale.values("school")):
        with transaction.atomic():
            # Locked, then counted: a sign-up arriving meanwhile waits, and finds its row gone or kept whole.
            rows = dict(stale.filter(school=school).select_for_update().values_list("pk", "status"))
            if not rows:
                continue  # another worker got there first
            DigestSubscriber.objects.filter(pk__in=rows).delete()
            statuses = list(rows.values())
            audit.log(
                "news.digest.addresses_forgotten",
                actor="system",
                school=school,
                detail={
                    "unconfirmed": statuses.count(SubscriberStatus.PENDING),
                    "unsubscribed": statuses.count(SubscriberStatus.UNSUBSCRIBED),
                },
            )
            forgotten += len(rows)
    return forgotten


def forget_addresses(subscribers, *, by) -> int:
    """Delete these addresses at once, as the nightly sweep does for stale ones: a family asked to be forgotten.

    Only the people hosting Schoolgate (superusers) may; one audit entry per school gives the count, never an
    address. Returns how many were deleted.
    """
    if not getattr(by, "is_superuser", False):
        raise PermissionDenied("Only the people hosting Schoolgate can delete digest addresses.")
    forgotten = 0
    for school in School.objects.filter(pk__in=subscribers.values("school")):
        with transaction.atomic():
            rows = list(subscribers.filter(school=school).select_for_update().values_list("pk", flat=True))
            DigestSubscriber.objects.filter(pk__in=rows).delete()
            audit.log("news.digest.addresses_forgotten", actor=by, school=school, detail={"on_request": len(rows)})
            forgotten += len(rows)
    return forgotten
