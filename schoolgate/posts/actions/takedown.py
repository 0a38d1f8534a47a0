"""Taking live posts down everywhere by a deadline: through each network's API where it allows, by hand where not.

A take-down starts when consent is lost for a pupil a post shows (RS-IMG-5) or when a leader asks (a
compromising image, RS-IMG-4). The news page and feeds drop the post at once; each network copy is then
deleted through its connector, or a person records what they did where the API cannot delete.

Deleting a copy survives a crash the way publishing does:
1. Claim the copy (REMOVING, with a lease) and commit, before calling the network.
2. Ask the network to delete it (deleting a post that is already gone is not an error).
3. Commit REMOVED, and complete the take-down once no copy is live.
A process killed between 1 and 3 leaves REMOVING; once the lease runs out the sweep claims it again and
finishes it, so the copy is deleted, recorded once, and the take-down completed once.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.connectors.base import Capability, ConnectorError
from schoolgate.connectors.registry import CONNECTORS, connector_class
from schoolgate.notifications.actions import notify
from schoolgate.official_accounts.actions import record_connector_error
from schoolgate.policy.models import settings_in_force
from schoolgate.posts.actions.publishing import connection_problem
from schoolgate.posts.models import Delivery, DeliveryStatus, Post, Takedown
from schoolgate.publiccache import public_pages_changed
from schoolgate.schools.permissions import PERMISSIONS, has_permission

# A process holds a copy it is deleting this long; network calls time out long before (connectors/http.py).
REMOVAL_LEASE = dt.timedelta(minutes=10)
# Copies that are, or may still be, on the network.
STILL_LIVE = (DeliveryStatus.PUBLISHED, DeliveryStatus.REMOVING)


def _worklist_url(post: Post) -> str:
    return reverse("posts:takedowns", args=[post.school.slug])


def _require_taker(user, school) -> None:
    if not has_permission(user, school, "posts.take_down"):
        raise PermissionDenied("Only leaders and the safeguarding leads take posts down.")


def _people_who_take_down(school):
    return school.members_with_role(*PERMISSIONS["posts.take_down"])


@transaction.atomic
def request_takedown(post: Post, *, reason: str, by=None, pupil=None) -> Takedown | None:
    """Open a take-down of a live post (None when it is not live). `by` is None when consent changes start it."""
    post = Post.objects.select_for_update().select_related("school").get(pk=post.pk)
    if by is not None:
        _require_taker(by, post.school)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the post must come down."})
    if post.published_at is None:
        return None
    existing = Takedown.objects.open().filter(post=post, pupil=pupil).first()
    if existing is not None:
        return existing
    now = timezone.now()
    hours = settings_in_force(post.school).takedown_deadline_hours
    takedown = Takedown.objects.create(
        post=post,
        pupil=pupil,
        reason=reason.strip(),
        requested_at=now,
        requested_by=by,
        due_at=now + dt.timedelta(hours=hours),
    )
    if post.removed_at is None:
        # Our own news page and feeds are ours to change at once.
        post.removed_at, post.removed_reason = now, reason.strip()
        post.save(update_fields=["removed_at", "removed_reason", "updated_at"])
        public_pages_changed(post.school_id)
    audit.log(
        "posts.takedown.requested",
        actor=by or "system",
        target=post,
        detail={
            "takedown": takedown.pk,
            "reason": reason.strip(),
            "pupil": pupil.pk if pupil else None,
            "due_at": takedown.due_at,
        },
    )
    # No pupil's name in the message: notifications are emailed.
    notify(
        _people_who_take_down(post.school),
        school=post.school,
        subject=f"A post must be taken down within {hours} hours",
        body=f"{reason.strip()} It has left the news page; remove it from the networks on the take-down list.",
        url=_worklist_url(post),
    )
    return takedown


def live_deliveries(post: Post):
    return post.deliveries.filter(status__in=STILL_LIVE).select_related("account")


def why_not_through_api(delivery: Delivery) -> str:
    """Why Schoolgate cannot delete this copy itself (empty when it can), read from the connector's stated
    capabilities and the account's connection, so the take-down card and the account page agree."""
    account = delivery.account
    network = account.network_label
    if account.network not in CONNECTORS:
        return f"Schoolgate cannot delete posts on {network} itself: delete it there by hand, then say what you did"
    if not connector_class(account.network).can(Capability.DELETE_OWN):
        return f"{network}'s API does not let Schoolgate delete posts: delete it there by hand, then say what you did"
    if delivery.recorded_by_id or not delivery.remote_id:
        # A post made by hand has only a link, no id the API knows.
        return (
            f"It was posted by hand, so Schoolgate cannot delete it on {network}: delete it there, then say what "
            "you did"
        )
    problem = connection_problem(account)
    if problem:
        return (
            f"{problem}: connect it again and take the post down here, or delete it on {network} by hand "
            "and say what you did"
        )
    return ""


def can_delete_through_api(delivery: Delivery) -> bool:
    return not why_not_through_api(delivery)


def _complete_if_done(post: Post) -> None:
    if live_deliveries(post).exists():
        return
    now = timezone.now()
    for takedown in Takedown.objects.open().filter(post=post):
        takedown.completed_at = now
        takedown.save(update_fields=["completed_at"])
        audit.log("posts.takedown.completed", actor="system", target=post, detail={"takedown": takedown.pk})


def _mark_removed(delivery: Delivery, *, by, note: str) -> bool:
    """Record a copy as taken down, once: False when it already was (a second process got there first)."""
    marked = Delivery.objects.filter(pk=delivery.pk, status__in=STILL_LIVE).update(
        status=DeliveryStatus.REMOVED,
        removed_at=timezone.now(),
        removed_by=by or delivery.removed_by,
        removal_note=note,
        last_error="",
        lease_expires_at=None,
    )
    if marked:
        public_pages_changed(delivery.post.school_id)
        audit.log(
            "posts.delivery.removed",
            actor=by or "system",
            target=delivery.post,
            detail={"account": delivery.account.name, "delivery": delivery.pk, "note": note, "url": delivery.url},
        )
    return bool(marked)


def _claim_for_removal(delivery_id: int, *, by, now: dt.datetime) -> Delivery | None:
    """Take a live copy for this process, or None when another holds it or it is already down."""
    claimed = (
        Delivery.objects.filter(pk=delivery_id)
        .filter(
            models.Q(status=DeliveryStatus.PUBLISHED)
            | models.Q(status=DeliveryStatus.REMOVING, lease_expires_at__lte=now)
        )
        .update(status=DeliveryStatus.REMOVING, lease_expires_at=now + REMOVAL_LEASE, removed_by=by)
        if by is not None
        else Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.REMOVING, lease_expires_at__lte=now).update(
            lease_expires_at=now + REMOVAL_LEASE
        )
    )
    if not claimed:
        return None
    return Delivery.objects.select_related("post__school", "account__connection", "removed_by").get(pk=delivery_id)


def _delete_copy(delivery_id: int, *, by) -> str:
    """Delete one copy through its connector (steps 1-3 above); an error message, or empty when done."""
    delivery = _claim_for_removal(delivery_id, by=by, now=timezone.now())  # committed: outside any transaction
    if delivery is None:
        return ""
    connection = delivery.account.connection
    try:
        connection.connector().delete_own(delivery.remote_id)
    except ConnectorError as error:
        record_connector_error(connection, error)
        # Still live: give it back, so the next attempt (by a person, or after reconnecting) can take it.
        Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.REMOVING).update(
            status=DeliveryStatus.PUBLISHED, lease_expires_at=None, last_error=error.message
        )
        return error.message
    with transaction.atomic():
        _mark_removed(delivery, by=by, note=f"Deleted through the {delivery.account.get_network_display()} API.")
    return ""


def take_down(post: Post, *, by) -> list[str]:
    """Delete every live copy the networks let us delete; return what is left for a person to do by hand."""
    _require_taker(by, post.school)
    left = []
    for delivery in live_deliveries(post).select_related("account__connection"):
        name = delivery.account.name
        reason = why_not_through_api(delivery)
        if reason:
            left.append(f"{name}: {reason}.")
            continue
        error = _delete_copy(delivery.pk, by=by)
        if error:
            left.append(f"{name}: {error}")
    with transaction.atomic():
        _complete_if_done(post)
    return left


def resume_removal(delivery_id: int) -> bool:
    """Finish deleting a copy whose process died mid-take-down (its lease ran out). Safe to run twice."""
    delivery = Delivery.objects.filter(pk=delivery_id).select_related("post").first()
    if delivery is None or delivery.status != DeliveryStatus.REMOVING:
        return False
    if _delete_copy(delivery_id, by=None):
        return False
    with transaction.atomic():
        _complete_if_done(delivery.post)
    return True


@transaction.atomic
def record_manual_removal(delivery: Delivery, *, by, note: str) -> Delivery:
    """Where the API cannot delete (or the post was made by hand): what a person did instead, and when."""
    delivery = Delivery.objects.select_for_update().select_related("post__school", "account").get(pk=delivery.pk)
    _require_taker(by, delivery.post.school)
    if delivery.status not in STILL_LIVE:
        raise ValidationError(f"This copy is {delivery.get_status_display().lower()}, not live.")
    if not note.strip():
        raise ValidationError({"note": "Record what was done, e.g. “Deleted in the Facebook app by Mrs Moore”."})
    _mark_removed(delivery, by=by, note=note.strip())
    _complete_if_done(delivery.post)
    delivery.refresh_from_db()
    return delivery


def remind_overdue(takedown_id: int) -> bool:
    """Tell the people who take posts down, once, that a take-down passed its deadline."""
    with transaction.atomic():
        takedown = (
            Takedown.objects.select_for_update()
            .select_related("post__school")
            .filter(
                pk=takedown_id, completed_at__isnull=True, overdue_notified_at__isnull=True, due_at__lte=timezone.now()
            )
            .first()
        )
        if takedown is None:
            return False
        takedown.overdue_notified_at = timezone.now()
        takedown.save(update_fields=["overdue_notified_at"])
        audit.log("posts.takedown.overdue", actor="system", target=takedown.post, detail={"takedown": takedown.pk})
        notify(
            _people_who_take_down(takedown.post.school),
            school=takedown.post.school,
            subject="A take-down is overdue",
            body="A post that must come down is still live on at least one network. Open the take-down list.",
            url=_worklist_url(takedown.post),
            urgent=True,
        )
    return True


def open_takedowns_for_lost_consent(pupil_id: int, use: str) -> None:
    """Consent for a use a live post relies on was refused or withdrawn: every such post must come down.

    A photo use (social media, website) for every live post showing the pupil; "name published with a photo"
    for those of them whose text also names the pupil."""
    from schoolgate.posts.images import PHOTO_USES, live_posts_showing
    from schoolgate.pupils.models import ConsentUse, Pupil
    from schoolgate.screening.school import roster_for_school

    if use not in PHOTO_USES and use != ConsentUse.NAME_WITH_PHOTO:
        return
    pupil = Pupil.objects.filter(pk=pupil_id).first()
    if pupil is None:
        return
    posts = list(live_posts_showing(pupil_id))
    if use not in PHOTO_USES:
        roster = roster_for_school(pupil.school)
        posts = [post for post in posts if any(pupil_id in m.pupil_ids for m in roster.find(post.text))]
    for post in posts:
        request_takedown(post, reason="Consent was withdrawn for a pupil shown in this post.", pupil=pupil)


def detach_deleted_photo(item) -> None:
    """Before a photo is deleted from the library: note it on its posts and take live ones down."""
    from schoolgate.posts.models import PostImage

    images = PostImage.objects.filter(media_item=item).select_related("post")
    images.update(deleted_note=f"The photo was deleted from the media library on {timezone.localdate():%-d %B %Y}.")
    public_pages_changed(item.school_id)
    for post in {image.post for image in images if image.post.published_at and not image.post.removed_at}:
        request_takedown(post, reason="A photo in this post was deleted from the media library.")
