"""Publishing approved posts exactly once: one delivery per account, claimed, sent, recorded, recovered.

The order that makes "exactly once" hold across crashes:
1. Claim the delivery with a conditional update (SENDING, a lease) and commit, before any network call.
2. Call the network with the delivery's stable key; the network deduplicates on it (Bluesky: the record key
   is derived from it; Mastodon: Idempotency-Key; others: find_published looks for the key).
3. Commit PUBLISHED with the network's id and URL.
A worker that dies between 2 and 3 leaves SENDING with a lease that runs out; the sweep then claims it again
and asks the network for the key first, so the post is neither doubled nor lost. Where a network forgets
keys (Mastodon after about an hour) and cannot be asked, the delivery becomes UNCERTAIN and a person checks.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.connectors.base import ConnectorError, check_post
from schoolgate.connectors.registry import connector_class
from schoolgate.media.models import MediaNotReady
from schoolgate.notifications.actions import notify
from schoolgate.official_accounts.actions import is_authorised, record_connector_error
from schoolgate.official_accounts.models import ConnectionStatus
from schoolgate.posts.actions.screening import screen_post, unresolved_blocking_findings
from schoolgate.posts.images import archived_images, image_problems, outgoing_images, post_images
from schoolgate.posts.models import (
    Delivery,
    DeliveryStatus,
    Post,
    PostStatus,
    ReviewDecision,
    ScreeningResult,
)
from schoolgate.publiccache import public_pages_changed
from schoolgate.schools.permissions import has_permission
from schoolgate.schools.roles import LEADER_ROLES

# A worker holds a claimed delivery this long; network calls time out long before (connectors/http.py).
LEASE = dt.timedelta(minutes=10)
# Waits between automatic attempts after a transient failure; after the last one a person is asked.
RETRY_BACKOFF = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=15), dt.timedelta(minutes=30))
# Statuses in which the post may be (or is) on the network: editing or withdrawing must not pretend otherwise.
ON_OR_MAYBE_ON_NETWORK = {
    DeliveryStatus.SENDING,
    DeliveryStatus.PUBLISHED,
    DeliveryStatus.UNCERTAIN,
    DeliveryStatus.REMOVING,
}


def _url(post: Post) -> str:
    return reverse("posts:detail", args=[post.school.slug, post.pk])


def text_for_account(text: str, account) -> str:
    """The text as it goes out on one account: the post plus the account's sign-off, if it has one."""
    return f"{text.rstrip()}\n\n{account.sign_off}" if account.sign_off.strip() else text


def connection_problem(account) -> str:
    """Why Schoolgate cannot publish on this account now (empty when it can, or when it has no connector)."""
    if not account.has_connector:
        return ""
    connection = getattr(account, "connection", None)
    if connection is None or connection.status == ConnectionStatus.DISCONNECTED:
        return f"{account.name} is not connected to Schoolgate"
    if connection.status != ConnectionStatus.CONNECTED:
        reason = f" ({connection.broken_reason})" if connection.broken_reason else ""
        return f"{account.name}'s connection is broken{reason}"
    return ""


def publishing_obstacles(post: Post) -> list[dict]:
    """Accounts this post will not go out on by itself once approved, and what to do: said at drafting and at
    every approval step, so nobody agrees a post believing it will publish when it cannot."""
    obstacles = []
    for account in post.accounts.select_related("connection").order_by("name"):
        problem = connection_problem(account)
        if problem:
            message = (
                f"{problem}, so this post will not go out there when it is approved. Connect the account on its "
                "page (a leader or its authorised staff can), then it publishes as approved."
            )
        elif not account.has_connector:
            message = (
                f"Schoolgate cannot post to {account.network_label} itself: once approved, someone authorised on "
                f"{account.name} posts it there by hand and records the link."
            )
        else:
            continue
        obstacles.append({"account": account, "message": message, "by_hand": not account.has_connector})
    return obstacles


def schedule_deliveries(post: Post) -> list[Delivery]:
    """One delivery per account for the approved revision; due at the post's time, or now (called by approval)."""
    now = timezone.now()
    due_at = max(post.scheduled_for or now, now)
    Delivery.objects.filter(post=post).exclude(status__in=ON_OR_MAYBE_ON_NETWORK).delete()
    already_out = set(post.deliveries.values_list("account_id", flat=True))
    deliveries = []
    for account in post.accounts.exclude(pk__in=already_out):
        status = DeliveryStatus.SCHEDULED if account.has_connector else DeliveryStatus.MANUAL
        delivery = Delivery.objects.create(
            post=post,
            account=account,
            status=status,
            created_at=now,
            due_at=due_at,
            text=text_for_account(post.text, account),
        )
        deliveries.append(delivery)
    audit.log(
        "posts.scheduled",
        actor="system",
        target=post,
        detail={"due_at": due_at, "deliveries": {d.account.name: d.status for d in deliveries}},
    )
    due_now = [d.pk for d in deliveries if d.status == DeliveryStatus.SCHEDULED and d.due_at <= now]
    if due_now:
        from schoolgate.posts.tasks import publish_delivery

        transaction.on_commit(lambda: [publish_delivery(pk) for pk in due_now])
    return deliveries


def cancel_pending_deliveries(post: Post, *, reason: str) -> int:
    """Stop deliveries that have not reached the network (withdrawal, an edit after approval)."""
    return (
        Delivery.objects.filter(post=post)
        .pending()
        .update(status=DeliveryStatus.CANCELLED, last_error=reason, next_attempt_at=None)
    )


def refuse_if_on_network(post: Post, *, doing: str) -> None:
    live = [d for d in post.deliveries.select_related("account") if d.status in ON_OR_MAYBE_ON_NETWORK]
    if live:
        names = ", ".join(f"{d.account.name} ({d.get_status_display().lower()})" for d in live)
        raise ValidationError(f"This post cannot be {doing}: it is already going out or out on {names}.")


def _people_to_tell(delivery: Delivery) -> list:
    post = delivery.post
    return [post.author, *post.school.members_with_role(*LEADER_ROLES)]


def _claim(delivery_id: int, *, now: dt.datetime) -> Delivery | None:
    """Take a due delivery for this worker, or None when it is not due or another worker holds it."""
    delivery = Delivery.objects.filter(pk=delivery_id).due(now).select_related("post__school", "account").first()
    if delivery is None:
        return None
    unknown_since = delivery.outcome_unknown_since
    if delivery.status == DeliveryStatus.SENDING:
        # The worker that claimed it died or hung after (perhaps) calling the network.
        unknown_since = unknown_since or delivery.sending_started_at or now
    claimed = Delivery.objects.filter(
        pk=delivery.pk, status=delivery.status, lease_expires_at=delivery.lease_expires_at, attempts=delivery.attempts
    ).update(
        status=DeliveryStatus.SENDING,
        sending_started_at=now,
        lease_expires_at=now + LEASE,
        outcome_unknown_since=unknown_since,
        attempts=delivery.attempts + 1,
        next_attempt_at=None,
    )
    if not claimed:
        return None
    delivery.refresh_from_db()
    return delivery


def _problems_at_publish_time(delivery: Delivery) -> tuple[str, list[str], list]:
    """Re-check at the moment of publishing what approval checked: things change after approval.

    Returns (status, problems, media): CANCELLED when the post must not go at all, FAILED when a person must
    act; and the photos to send, read once here for both the size check and the network.
    """
    post, account = delivery.post, delivery.account
    if post.status == PostStatus.WITHDRAWN or post.removed_at:
        return DeliveryStatus.CANCELLED, ["The post was withdrawn before it went out."], []
    if post.status not in {PostStatus.APPROVED, PostStatus.PUBLISHED}:
        return DeliveryStatus.CANCELLED, [f"The post is {post.get_status_display().lower()}, no longer approved."], []
    problems = []
    if not account.is_approved:
        problems.append(f"{account.name} is {account.get_status_display().lower()}, no longer an approved account.")
    problem = connection_problem(account)
    if problem:
        problems.append(f"{problem}: connect it on the account's page, then retry.")
    # Consent may have been withdrawn, or a face added, since approval (RS-IMG-2): check on the day it goes out.
    images = post_images(post)
    gate = image_problems(images, on=timezone.localdate(), text=post.text, school=post.school)
    problems += gate
    media = []
    if images and not gate:
        try:
            media = outgoing_images(images)
        except MediaNotReady as error:  # a face was added to a photo in the moment since the gate looked
            problems.append(str(error))
    problems += [f"{account.name}: {p}" for p in check_post(connector_class(account.network), delivery.text, media)]
    # The roster or the school's rules may have changed since approval (a new pupil, a stricter naming rule).
    problems += [f"Screening: “{f.text}”: {f.message}" for f in unresolved_blocking_findings(post)]
    return (DeliveryStatus.FAILED, problems, media) if problems else ("", [], media)


@transaction.atomic
def _finish_without_sending(delivery: Delivery, *, status: str, problems: list[str]) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=status, lease_expires_at=None, last_error="\n".join(problems), next_attempt_at=None
    )
    audit.log(
        "posts.delivery.failed" if status == DeliveryStatus.FAILED else "posts.delivery.cancelled",
        actor="system",
        target=delivery.post,
        detail={"account": delivery.account.name, "delivery": delivery.pk, "problems": problems},
    )
    if status == DeliveryStatus.FAILED:
        notify(
            _people_to_tell(delivery),
            school=delivery.post.school,
            subject=f"A post did not go out on {delivery.account.name}",
            body="Schoolgate stopped the post at publishing time: " + " ".join(problems),
            url=_url(delivery.post),
        )


def archive_snapshot(post: Post) -> dict:
    """The published revision as it was: text, approvals, screening findings and overrides (AW-PUB-3)."""
    stored = ScreeningResult.objects.filter(post=post, revision=post.revision).first()
    findings = [f.as_dict() for f in screen_post(post)] if stored is None else stored.findings
    return {
        "revision": post.revision,
        "text": post.text,
        "author": {"id": post.author_id, "name": str(post.author)},
        "accounts": [a.name for a in post.accounts.all()],
        "scheduled_for": post.scheduled_for.isoformat() if post.scheduled_for else None,
        "approved_at": post.approved_at.isoformat() if post.approved_at else None,
        "reviews": [
            {
                "reviewer": str(r.reviewer),
                "reviewer_id": r.reviewer_id,
                "stage": r.stage,
                "decision": r.decision,
                "acting_role": r.acting_role,
                "at": r.at.isoformat(),
            }
            for r in post.current_reviews().filter(decision=ReviewDecision.APPROVED)
        ],
        "findings": findings,
        "overrides": [
            {"by": str(o.by), "reason": o.reason, "findings": o.findings, "at": o.at.isoformat()}
            for o in post.overrides.filter(revision=post.revision).select_related("by")
        ],
        "images": archived_images(post_images(post)),
    }


@transaction.atomic
def _record_published(delivery: Delivery, *, remote_id: str, url: str, by=None) -> None:
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PUBLISHED,
        remote_id=remote_id,
        url=url,
        published_at=now,
        lease_expires_at=None,
        next_attempt_at=None,
        last_error="",
        recorded_by=by,
    )
    post = Post.objects.select_for_update().select_related("author", "school").get(pk=delivery.post_id)
    public_pages_changed(post.school_id)
    audit.log(
        "posts.delivery.published",
        actor=by or "system",
        target=post,
        detail={"account": delivery.account.name, "delivery": delivery.pk, "remote_id": remote_id, "url": url},
    )
    if post.published_at is None:
        post.published_at, post.status, post.archive = now, PostStatus.PUBLISHED, archive_snapshot(post)
        post.save(update_fields=["published_at", "status", "archive", "updated_at"])
        audit.log("posts.published", actor=by or "system", target=post, detail=post.archive)
        notify(
            [post.author],
            school=post.school,
            subject="Your post is live",
            body=f"Your post is now on {delivery.account.name}: {url}",
            url=_url(post),
            email=False,
        )


@transaction.atomic
def _record_failure(delivery: Delivery, error: ConnectorError, *, outcome_unknown: bool) -> str:
    now = timezone.now()
    delivery = Delivery.objects.select_for_update().select_related("post__school", "account").get(pk=delivery.pk)
    unknown_since = delivery.outcome_unknown_since or (delivery.sending_started_at if outcome_unknown else None)
    retry_in = None
    if not error.permanent and delivery.attempts <= len(RETRY_BACKOFF):
        retry_in = RETRY_BACKOFF[delivery.attempts - 1]
        if error.retry_after:
            retry_in = max(retry_in, dt.timedelta(seconds=error.retry_after))
    status = DeliveryStatus.RETRYING if retry_in else DeliveryStatus.FAILED
    delivery.status, delivery.last_error, delivery.lease_expires_at = status, error.message, None
    delivery.outcome_unknown_since = unknown_since
    delivery.next_attempt_at = now + retry_in if retry_in else None
    delivery.save(
        update_fields=["status", "last_error", "lease_expires_at", "outcome_unknown_since", "next_attempt_at"]
    )
    audit.log(
        "posts.delivery.retrying" if retry_in else "posts.delivery.failed",
        actor="system",
        target=delivery.post,
        detail={
            "account": delivery.account.name,
            "delivery": delivery.pk,
            "error": error.message,
            "attempt": delivery.attempts,
            "next_attempt_at": delivery.next_attempt_at,
        },
    )
    if status == DeliveryStatus.FAILED:
        connection = getattr(delivery.account, "connection", None)
        if connection is not None:
            record_connector_error(connection, error)
        notify(
            _people_to_tell(delivery),
            school=delivery.post.school,
            subject=f"A post failed to publish on {delivery.account.name}",
            body=f"{delivery.account.name} said: {error.message}. Open the post to retry it.",
            url=_url(delivery.post),
        )
    return status


@transaction.atomic
def _mark_uncertain(delivery: Delivery, *, reason: str) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.UNCERTAIN, lease_expires_at=None, last_error=reason, next_attempt_at=None
    )
    audit.log(
        "posts.delivery.uncertain",
        actor="system",
        target=delivery.post,
        detail={"account": delivery.account.name, "delivery": delivery.pk, "reason": reason},
    )
    notify(
        _people_to_tell(delivery),
        school=delivery.post.school,
        subject=f"Check {delivery.account.name}: did the post go out?",
        body=reason,
        url=_url(delivery.post),
    )


def send_delivery(delivery_id: int) -> str:
    """Publish one due delivery (safe to run twice, concurrently, or after a crash). Returns the new status."""
    now = timezone.now()
    delivery = _claim(delivery_id, now=now)
    if delivery is None:
        return ""
    recovering = delivery.outcome_unknown_since is not None
    status, problems, media = _problems_at_publish_time(delivery)
    if problems and not recovering:
        _finish_without_sending(delivery, status=status, problems=problems)
        return status
    connection = getattr(delivery.account, "connection", None)
    if connection is None or connection.status != ConnectionStatus.CONNECTED:
        _finish_without_sending(delivery, status=DeliveryStatus.FAILED, problems=problems)
        return DeliveryStatus.FAILED
    connector = connection.connector()
    try:
        published = connector.find_published(delivery.key) if recovering else None
        if published is None and recovering:
            if problems:
                # Not on the network after all, and it must no longer go: stop here.
                _finish_without_sending(delivery, status=status, problems=problems)
                return status
            remembered_for = type(connector).key_remembered_for
            if remembered_for is not None and now - delivery.outcome_unknown_since > remembered_for:
                _mark_uncertain(
                    delivery,
                    reason=f"An attempt at {timezone.localtime(delivery.outcome_unknown_since):%-d %B %Y, %H:%M} "
                    "may have reached "
                    f"{delivery.account.name}, and {connector.label} cannot be asked whether it did. Look at the "
                    "account: record the link if the post is there, or send it if it is not.",
                )
                return DeliveryStatus.UNCERTAIN
        if published is None:
            published = connector.publish(delivery.text, media=media, key=delivery.key)
    except ConnectorError as error:
        # Without a status the request may have reached the network (timeout, dropped connection).
        outcome_unknown = error.status is None or error.status >= 500
        return _record_failure(delivery, error, outcome_unknown=outcome_unknown and not error.permanent)
    _record_published(delivery, remote_id=published.remote_id, url=published.url)
    return DeliveryStatus.PUBLISHED


def may_publish_on(user, account) -> bool:
    """Who retries, records or checks a delivery: the account's authorised staff, or the school's leaders."""
    return has_permission(user, account.school, "accounts.manage") or is_authorised(user, account)


def _require_publisher(delivery: Delivery, by) -> None:
    if not may_publish_on(by, delivery.account):
        raise PermissionDenied("Only the account's authorised staff or the school's leaders can do this.")


@transaction.atomic
def retry_delivery(delivery: Delivery, *, by) -> Delivery:
    """A person asks for another attempt after a failure (after fixing the connection, say)."""
    delivery = Delivery.objects.select_for_update().select_related("post__school", "account").get(pk=delivery.pk)
    _require_publisher(delivery, by)
    if delivery.status not in {DeliveryStatus.FAILED, DeliveryStatus.RETRYING}:
        raise ValidationError(f"This delivery is {delivery.get_status_display().lower()}; there is nothing to retry.")
    problem = connection_problem(delivery.account)
    if problem:
        # Another attempt would fail the same way: say what to fix instead of trying.
        raise ValidationError(f"{problem}: connect it on the account's page, then retry.")
    now = timezone.now()
    delivery.status, delivery.next_attempt_at, delivery.attempts = DeliveryStatus.RETRYING, now, 0
    delivery.save(update_fields=["status", "next_attempt_at", "attempts"])
    audit.log("posts.delivery.retry", actor=by, target=delivery.post, detail={"delivery": delivery.pk})
    from schoolgate.posts.tasks import publish_delivery

    transaction.on_commit(lambda: publish_delivery(delivery.pk))
    return delivery


def _post_link_problem(account, url: str) -> str:
    """Why the link is not the account's own post (asking the network when the account is connected)."""
    # Imported here: the registry loads connector modules, which publishing needs only for this check.
    from schoolgate.connectors.registry import post_link_problem

    connection = getattr(account, "connection", None)
    connector = None
    if connection is not None and connection.status == ConnectionStatus.CONNECTED:
        try:
            connector = connection.connector()
        except ConnectorError:
            connector = None  # the link's address and owner are still checked
    return post_link_problem(account, url, connector=connector)


def record_manual_publication(delivery: Delivery, *, by, url: str) -> Delivery:
    """Someone posted by hand (a network without a connector, or an uncertain attempt that did go out).

    1. Permission first, then the link: it becomes the public "View on ..." link and the take-down target,
       so it must be a post of this account on its network (asked of the network when connected; outside
       the transaction, so no row stays locked while the network answers).
    2. Lock the delivery, check its state again and record it.
    """
    delivery = Delivery.objects.select_related("post__school", "account").get(pk=delivery.pk)
    _require_publisher(delivery, by)
    url = url.strip()
    if not url.startswith(("https://", "http://")):
        raise ValidationError({"url": "Paste the link to the post on the network, starting https://."})
    if problem := _post_link_problem(delivery.account, url):
        raise ValidationError({"url": problem})
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().select_related("post__school", "account").get(pk=delivery.pk)
        if delivery.status not in {DeliveryStatus.MANUAL, DeliveryStatus.UNCERTAIN, DeliveryStatus.FAILED}:
            raise ValidationError(f"This delivery is {delivery.get_status_display().lower()}.")
        if delivery.post.status not in {PostStatus.APPROVED, PostStatus.PUBLISHED}:
            raise ValidationError("Only an approved post can be recorded as published.")
        _record_published(delivery, remote_id=url, url=url, by=by)
    delivery.refresh_from_db()
    return delivery


@transaction.atomic
def resolve_uncertain_delivery(delivery: Delivery, *, by, url: str = "") -> Delivery:
    """After checking the account: it is there (give the link), or it is not (send it now)."""
    delivery = Delivery.objects.select_for_update().select_related("post__school", "account").get(pk=delivery.pk)
    _require_publisher(delivery, by)
    if delivery.status != DeliveryStatus.UNCERTAIN:
        raise ValidationError("Only a delivery whose outcome is unknown needs checking.")
    if url.strip():
        return record_manual_publication(delivery, by=by, url=url)
    # A person looked and it is not there: a fresh attempt is safe, so forget the unknown earlier attempt.
    delivery.status, delivery.outcome_unknown_since, delivery.attempts = DeliveryStatus.RETRYING, None, 0
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "outcome_unknown_since", "attempts", "next_attempt_at"])
    audit.log("posts.delivery.checked_absent", actor=by, target=delivery.post, detail={"delivery": delivery.pk})
    from schoolgate.posts.tasks import publish_delivery

    transaction.on_commit(lambda: publish_delivery(delivery.pk))
    return delivery
