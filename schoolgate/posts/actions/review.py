"""The review chain: drafting, screening, colleague review and final approval, read from the policy settings."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.connectors.base import check_post
from schoolgate.connectors.registry import CONNECTORS, connector_class
from schoolgate.notifications.actions import notify, resolve
from schoolgate.official_accounts.actions import is_authorised
from schoolgate.policy.models import settings_in_force
from schoolgate.posts.actions.prerequisites import check_training
from schoolgate.posts.actions.publishing import (
    cancel_pending_deliveries,
    publishing_obstacles,
    refuse_if_on_network,
    schedule_deliveries,
    text_for_account,
)
from schoolgate.posts.actions.screening import screen_post, store_screening, unresolved_blocking_findings
from schoolgate.posts.images import image_problems, outgoing_images, post_images
from schoolgate.posts.models import (
    DeliveryStatus,
    ImageConfirmation,
    Post,
    PostImage,
    PostStatus,
    Review,
    ReviewDecision,
    ReviewStage,
    ScreeningOverride,
)
from schoolgate.schools.models import Membership
from schoolgate.schools.permissions import PERMISSIONS, has_permission, has_role
from schoolgate.schools.roles import Role

SUBMITTED = {PostStatus.IN_REVIEW, PostStatus.AWAITING_APPROVAL, PostStatus.APPROVED}


def _url(post: Post) -> str:
    return reverse("posts:detail", args=[post.school.slug, post.pk])


# What a notice asks of its reader about a post; resolved when it is done or no longer needed.
REVIEW, APPROVAL, DECISION = "review", "approval", "decision"


def _about(post: Post, step: str) -> str:
    return f"post:{post.pk}:{step}"


def _resolve_waiting(post: Post, *steps: str, users=None) -> None:
    """Mark the "waiting for you" notices about this post done, so none stays unread after it moved on."""
    for step in steps or (REVIEW, APPROVAL, DECISION):
        resolve(_about(post, step), users=users)


def consent_date(post: Post) -> dt.date:
    """The day the post is meant to go out: consent must hold then (and is checked again when it does)."""
    return timezone.localdate(post.scheduled_for) if post.scheduled_for else timezone.localdate()


def problems_before_review(*, text: str, accounts, scheduled_for: dt.datetime | None, images=(), media=()) -> list[str]:
    """What stops a post from going to review: empty text, network limits (text and images), unusable
    accounts, past times. `media` are the outgoing images when every image has passed the image gate."""
    problems = []
    if not text.strip() and not images:
        problems.append("The post is empty.")
    if not accounts:
        problems.append("Choose at least one official account.")
    for account in accounts:
        if not account.is_approved:
            problems.append(f"{account.name} is not an approved account.")
        elif account.network in CONNECTORS:
            problems += [
                f"{account.name}: {p}"
                for p in check_post(connector_class(account.network), text_for_account(text, account), media)
                if p != "The post is empty."
            ]
    if scheduled_for is not None and scheduled_for <= timezone.now():
        problems.append("The scheduled time is in the past; choose a later time or publish on approval.")
    return problems


def post_problems(post: Post) -> list[str]:
    """Everything that stops this post going to review or being agreed: the checks above plus the image gate."""
    images = post_images(post)
    gate = image_problems(images, on=consent_date(post), text=post.text, school=post.school)
    problems = problems_before_review(
        text=post.text,
        accounts=list(post.accounts.all()),
        scheduled_for=post.scheduled_for,
        images=images,
        media=outgoing_images(images) if images and not gate else (),
    )
    return problems + gate


def _refuse_if_blocked(post: Post) -> None:
    gate = image_problems(post_images(post), on=consent_date(post), text=post.text, school=post.school)
    if gate:
        raise ValidationError(gate)
    blocking = unresolved_blocking_findings(post)
    if blocking:
        listed = "; ".join(f"“{f.text}”: {f.message}" for f in blocking)
        raise ValidationError(
            f"Screening found problems that must be fixed first (or overridden by the final "
            f"approver with a reason): {listed}"
        )


def override_approvers(post: Post) -> list:
    """Who may override blocking findings: the final approver now, or the headteacher where there is none."""
    approvers, _ = final_approvers(post)
    if approvers:
        return approvers
    return list(post.school.members_with_role(Role.HEADTEACHER).exclude(pk=post.author_id))


@transaction.atomic
def override_findings(post: Post, *, by, reason: str) -> ScreeningOverride:
    """The final approver lets this version go ahead despite blocking findings; colleagues are then asked to
    review it (they were not asked while it could not be agreed)."""
    post = Post.objects.select_for_update().select_related("school").get(pk=post.pk)
    if by not in override_approvers(post):
        raise PermissionDenied("Only the final approver can let a post go ahead despite blocking findings.")
    if post.status not in {PostStatus.IN_REVIEW, PostStatus.AWAITING_APPROVAL}:
        raise ValidationError(f"This post is {post.get_status_display().lower()}; only a submitted post is decided.")
    if not reason.strip():
        raise ValidationError({"reason": "Record why the post may go ahead despite the findings."})
    findings = [f.as_dict() for f in screen_post(post) if f.is_blocking]
    if not findings:
        raise ValidationError("There are no blocking findings to override.")
    override = ScreeningOverride.objects.create(
        post=post, revision=post.revision, by=by, reason=reason.strip(), findings=findings, at=timezone.now()
    )
    audit.log(
        "posts.screening_overridden",
        actor=by,
        target=post,
        detail={"reason": reason.strip(), "findings": findings, "revision": post.revision},
    )
    _resolve_waiting(post, DECISION)
    if post.status == PostStatus.IN_REVIEW:
        _ask_reviewers(post)
    return override


def _check_author(by, accounts) -> None:
    """Only staff authorised on every chosen account may write for it (AW-PUB-6)."""
    refused = [a.name for a in accounts if not is_authorised(by, a)]
    if refused:
        raise PermissionDenied(f"You are not authorised to post on {', '.join(refused)}.")


@transaction.atomic
def create_draft(school, *, by, text: str, accounts, scheduled_for=None, images=()) -> Post:
    accounts, images = list(accounts), list(images)
    if any(a.school_id != school.pk for a in accounts):
        raise ValidationError("Choose this school's own accounts.")
    if any(item.school_id != school.pk for item in images):
        raise ValidationError("Choose photos from this school's media library.")
    _check_author(by, accounts)
    check_training(school, by)
    post = Post.objects.create(school=school, author=by, text=text, scheduled_for=scheduled_for)
    post.accounts.set(accounts)
    _set_images(post, images)
    audit.log(
        "posts.drafted",
        actor=by,
        target=post,
        detail={
            "text": text,
            "accounts": [a.pk for a in accounts],
            "scheduled_for": scheduled_for,
            "images": [item.pk for item in images],
        },
    )
    return post


def _set_images(post: Post, media_items) -> None:
    post.images.all().delete()
    PostImage.objects.bulk_create(
        PostImage(post=post, media_item=item, position=position, alt_text=item.alt_text)
        for position, item in enumerate(media_items)
    )


@transaction.atomic
def edit_post(post: Post, *, by, text: str, accounts, scheduled_for=None, images=None) -> Post:
    """Change a post; any review or approval given so far is voided and a submitted post goes back to review."""
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.author_id != by.pk:
        raise PermissionDenied("Only the author edits a post; reviewers return it with a reason instead.")
    if not post.is_editable:
        raise ValidationError(f"This post is {post.get_status_display().lower()} and can no longer be edited.")
    accounts = list(accounts)
    current_images = [i.media_item for i in post_images(post) if i.media_item is not None]
    images = current_images if images is None else list(images)
    if any(item.school_id != post.school_id for item in images):
        raise ValidationError("Choose photos from this school's media library.")
    _check_author(by, accounts)
    before = {
        "text": post.text,
        "accounts": sorted(post.accounts.values_list("pk", flat=True)),
        "scheduled_for": post.scheduled_for,
        "images": [i.media_item_id for i in post_images(post)],
    }
    after = {
        "text": text,
        "accounts": sorted(a.pk for a in accounts),
        "scheduled_for": scheduled_for,
        "images": [item.pk for item in images],
    }
    changes = audit.diff(before, after)
    if not changes:
        return post
    refuse_if_on_network(post, doing="edited")
    # An approved post not yet out goes back to review: its scheduled deliveries are for the old text.
    post.deliveries.all().delete()
    voided = post.current_reviews().update(voided_at=timezone.now())
    _resolve_waiting(post)  # they asked about the old version; the new one is asked about afresh
    was_submitted = post.status in SUBMITTED
    post.text, post.scheduled_for, post.revision = text, scheduled_for, post.revision + 1
    post.status = PostStatus.IN_REVIEW if was_submitted else PostStatus.DRAFT
    post.approved_at = None
    post.save(update_fields=["text", "scheduled_for", "revision", "status", "approved_at", "updated_at"])
    post.accounts.set(accounts)
    if before["images"] != after["images"]:
        _set_images(post, images)
    if was_submitted:
        problems = post_problems(post)
        if problems:
            raise ValidationError(problems)  # rolls the whole edit back
    audit.log(
        "posts.edited",
        actor=by,
        target=post,
        changes=changes,
        detail={"revision": post.revision, "voided_reviews": voided},
    )
    if was_submitted:
        _ask_reviewers(post)
    return post


def eligible_reviewers(post: Post):
    """Colleagues who may review: employed at the school, not the author (AW-PUB-1), and not whoever gives
    this post final approval unless the policy lets one person do both."""
    reviewers = post.school.members_with_role(*PERMISSIONS["posts.review"]).exclude(pk=post.author_id)
    if settings_in_force(post.school).approver_may_also_review:
        return reviewers
    return reviewers.exclude(pk__in=[user.pk for user in final_approvers(post)[0]])


def final_approvers(post: Post, *, today: dt.date | None = None):
    """Who may give final approval now (RS-ROLE-2): the policy's final approver, or its deputy when every
    holder of that role is away, is the author, or (unless the policy allows it) agreed this version as one
    of its colleague reviewers. Never the author."""
    policy = settings_in_force(post.school)
    if not policy.final_post_approver_role:
        return [], ""
    today = today or timezone.localdate()
    excluded = {post.author_id}
    if not policy.approver_may_also_review:
        # Two checks by one person count once: a colleague who agreed this version cannot also approve it.
        excluded |= set(post.colleague_approvals().values_list("reviewer_id", flat=True))
    holders = Membership.objects.filter(
        school=post.school, role=policy.final_post_approver_role, user__is_active=True
    ).select_related("user")
    available = [m.user for m in holders if m.user_id not in excluded and not (m.away_until and m.away_until >= today)]
    if available:
        return available, policy.final_post_approver_role
    if policy.final_approver_deputy_role:
        deputies = post.school.members_with_role(policy.final_approver_deputy_role).exclude(pk__in=excluded)
        return list(deputies), policy.final_approver_deputy_role
    return [], policy.final_post_approver_role


def review_refusal(user, post: Post) -> str:
    """Why this person may not give this version a colleague review now; empty when they may."""
    if post.status != PostStatus.IN_REVIEW:
        return f"This post is {post.get_status_display().lower()}, not waiting for review."
    if user.pk == post.author_id:
        return "Nobody reviews their own post."
    if not has_permission(user, post.school, "posts.review"):
        return "Colleague review is done by staff of the school."
    if post.current_reviews().filter(reviewer=user, stage=ReviewStage.COLLEAGUE).exists():
        return "You have already reviewed this version of the post."
    return ""


def is_final_approver_of(user, post: Post) -> bool:
    """Whether this person would give the post its final approval (so, unless the policy allows it, does not
    also count as one of its colleague reviewers)."""
    return any(approver.pk == user.pk for approver in final_approvers(post)[0])


def _obstacles_note(post: Post) -> str:
    """What the reviewers and approver must know before agreeing: accounts it will not go out on by itself."""
    obstacles = publishing_obstacles(post)
    if not obstacles:
        return ""
    return " Before you agree it: " + " ".join(o["message"] for o in obstacles)


def _ask_reviewers(post: Post) -> None:
    """Ask the colleagues to review, or, while blocking findings stand, ask the person who may override them
    first: nobody is asked to agree a post that cannot be agreed as it is."""
    if unresolved_blocking_findings(post):
        _ask_for_screening_decision(post)
        return
    notify(
        eligible_reviewers(post),
        school=post.school,
        subject="A post is waiting for your review",
        body=f"{post.author} wrote a post for {', '.join(a.name for a in post.accounts.all())}. Read it and "
        "agree it or return it with a reason." + _obstacles_note(post),
        url=_url(post),
        about=_about(post, REVIEW),
    )


def _ask_for_screening_decision(post: Post) -> None:
    notify(
        override_approvers(post),
        school=post.school,
        subject="A post needs your decision on its screening findings",
        body=f"Screening found problems in {post.author}'s post that stop colleagues agreeing it. "
        f"{post.author} asks you to decide: let this version go ahead with a reason, or return it to them.",
        url=_url(post),
        about=_about(post, DECISION),
    )


def blocked_message(post: Post, findings) -> str:
    """What the author reads when screening stops their post, before it goes to anyone."""
    listed = "; ".join(f"“{f.text}”: {f.message.rstrip('.')}" for f in findings)
    deciders = override_approvers(post)
    who = ", ".join(str(person) for person in deciders) or "the headteacher"
    return (
        f"Screening found problems that stop colleagues agreeing this post: {listed}. Fix the post, or send "
        f"it to {who} to decide. If they return it, it comes back to you; colleagues are asked to review only "
        "once it can be agreed."
    )


@transaction.atomic
def submit_for_review(post: Post, *, by, send_for_decision: bool = False) -> Post:
    """Send a draft to review. While blocking findings stand it is refused (code "blocked") unless the author
    chooses to send it to the person who may override them (send_for_decision); reviewers are asked later."""
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.author_id != by.pk:
        raise PermissionDenied("Only the author submits a post for review.")
    if post.status not in {PostStatus.DRAFT, PostStatus.REJECTED}:
        raise ValidationError(f"This post is already {post.get_status_display().lower()}.")
    _check_author(by, list(post.accounts.all()))
    check_training(post.school, by)
    problems = post_problems(post)
    if problems:
        raise ValidationError(problems)
    blocking = [f for f in screen_post(post) if f.is_blocking]
    if blocking and not send_for_decision:
        raise ValidationError(blocked_message(post, blocking), code="blocked")
    if post.status == PostStatus.REJECTED:
        post.revision += 1  # a returned post is reviewed afresh
    post.status, post.submitted_at = PostStatus.IN_REVIEW, timezone.now()
    post.save(update_fields=["status", "submitted_at", "revision", "updated_at"])
    audit.log(
        "posts.submitted",
        actor=by,
        target=post,
        detail={
            "revision": post.revision,
            "findings": store_screening(post).findings,
            "sent_for_screening_decision": bool(blocking),
        },
    )
    _ask_reviewers(post)
    return post


def _advance(post: Post, *, by) -> None:
    policy = settings_in_force(post.school)
    if post.colleague_approvals().count() < policy.required_reviewers:
        return
    if policy.final_post_approver_role:
        if post.status != PostStatus.AWAITING_APPROVAL:
            post.status = PostStatus.AWAITING_APPROVAL
            post.save(update_fields=["status", "updated_at"])
            _resolve_waiting(post, REVIEW)
            approvers, _ = final_approvers(post)
            notify(
                approvers,
                school=post.school,
                subject="A post is waiting for your final approval",
                body=f"Colleagues have agreed {post.author}'s post. It goes live only after your approval."
                + _obstacles_note(post),
                url=_url(post),
                about=_about(post, APPROVAL),
            )
        return
    _approve(post, by=by)


def _approve(post: Post, *, by) -> None:
    post.status, post.approved_at = PostStatus.APPROVED, timezone.now()
    post.save(update_fields=["status", "approved_at", "updated_at"])
    _resolve_waiting(post)
    audit.log("posts.approved", actor=by, target=post, detail={"revision": post.revision, "text": post.text})
    deliveries = schedule_deliveries(post)
    when = f"at {timezone.localtime(post.scheduled_for):%-d %B %Y, %H:%M}" if post.scheduled_for else "now"
    manual = [d.account.name for d in deliveries if d.status == DeliveryStatus.MANUAL]
    notify(
        [post.author],
        school=post.school,
        subject="Your post is approved",
        body=f"Your post has every approval the school's policy requires and goes out {when}."
        + (f" Post it by hand on {', '.join(manual)} and record the link." if manual else ""),
        url=_url(post),
    )


def _check_images_confirmed(post: Post, confirmed_images) -> list[PostImage]:
    """Whoever agrees a post with photos has looked at each one and judged it appropriate (RS-IMG-3)."""
    images = post_images(post)
    confirmed = {int(pk) for pk in confirmed_images}
    missing = [number for number, image in enumerate(images, start=1) if image.pk not in confirmed]
    if missing:
        listed = ", ".join(str(n) for n in missing)
        message = f"Confirm that image {listed} is appropriate to publish, or return the post saying why."
        raise ValidationError({"confirmed_images": message})
    return images


def _record_confirmations(review: Review, images: list[PostImage]) -> None:
    ImageConfirmation.objects.bulk_create(ImageConfirmation(review=review, post_image=image) for image in images)


def _return_to_author(post: Post, *, by, reason: str, stage: str) -> None:
    post.status = PostStatus.REJECTED
    post.save(update_fields=["status", "updated_at"])
    _resolve_waiting(post)
    audit.log(
        "posts.returned", actor=by, target=post, detail={"reason": reason, "stage": stage, "revision": post.revision}
    )
    notify(
        [post.author],
        school=post.school,
        subject="Your post was returned",
        body=f"{by} returned your post: {reason}",
        url=_url(post),
    )


def _record_decision(
    post: Post,
    *,
    by,
    stage: str,
    decision: str,
    reason: str,
    confirmed_images,
    action: str,
    acting_role: str = "",
) -> Review:
    """What agreeing or returning has in common at both stages: a reason to return; screening, the image gate
    and each image confirmed to agree; the review, its image confirmations and the audit entry."""
    if decision == ReviewDecision.REJECTED and not reason.strip():
        raise ValidationError({"reason": "Say why the post is returned, so the author can put it right."})
    images = []
    if decision == ReviewDecision.APPROVED:
        _refuse_if_blocked(post)
        images = _check_images_confirmed(post, confirmed_images)
    review = Review.objects.create(
        post=post,
        reviewer=by,
        stage=stage,
        decision=decision,
        reason=reason.strip(),
        acting_role=acting_role,
        revision=post.revision,
        at=timezone.now(),
    )
    _record_confirmations(review, images)
    detail = {"decision": decision, "reason": reason.strip(), "revision": post.revision}
    if stage == ReviewStage.FINAL:
        detail["acting_role"] = acting_role
    audit.log(action, actor=by, target=post, detail={**detail, "images_confirmed": [i.pk for i in images]})
    return review


@transaction.atomic
def review_post(post: Post, *, by, decision: str, reason: str = "", confirmed_images=()) -> Review:
    """A colleague other than the author agrees the post or returns it with a reason (AW-PUB-1)."""
    post = Post.objects.select_for_update().select_related("school").get(pk=post.pk)
    if by.pk == post.author_id:
        raise PermissionDenied("Nobody reviews their own post.")
    if not has_permission(by, post.school, "posts.review"):
        raise PermissionDenied("Colleague review is done by staff of the school.")
    refusal = review_refusal(by, post)
    if refusal:
        raise ValidationError(refusal)
    policy = settings_in_force(post.school)
    if decision == ReviewDecision.APPROVED and not policy.approver_may_also_review and is_final_approver_of(by, post):
        # Returning it is still open to them; only agreeing would count one person twice.
        raise PermissionDenied(
            "You give this post its final approval, so its colleague reviews must come from other people: "
            "the school's policy keeps reviewing and approving apart. Give your decision when it reaches you."
        )
    review = _record_decision(
        post,
        by=by,
        stage=ReviewStage.COLLEAGUE,
        decision=decision,
        reason=reason,
        confirmed_images=confirmed_images,
        action="posts.reviewed",
    )
    _resolve_waiting(post, REVIEW, users=[by])  # done for them, whatever the others still have to do
    if decision == ReviewDecision.REJECTED:
        _return_to_author(post, by=by, reason=reason.strip(), stage=ReviewStage.COLLEAGUE)
    else:
        _advance(post, by=by)
    return review


@transaction.atomic
def final_approve_post(
    post: Post, *, by, decision: str = ReviewDecision.APPROVED, reason: str = "", confirmed_images=()
) -> Review:
    """The final approver the policy names (or its deputy, when they are away or wrote it) decides (RS-ROLE-2)."""
    post = Post.objects.select_for_update().select_related("school").get(pk=post.pk)
    if by.pk == post.author_id:
        raise PermissionDenied("Nobody approves their own post.")
    if post.status != PostStatus.AWAITING_APPROVAL:
        raise ValidationError(f"This post is {post.get_status_display().lower()}, not waiting for final approval.")
    approvers, acting_role = final_approvers(post)
    if by not in approvers:
        if post.colleague_approvals().filter(reviewer=by).exists():
            raise PermissionDenied(
                "You agreed this version as a colleague reviewer, so its final approval must come from someone "
                "else: the school's policy keeps reviewing and approving apart."
            )
        raise PermissionDenied("The school's policy names someone else for final approval of this post.")
    review = _record_decision(
        post,
        by=by,
        stage=ReviewStage.FINAL,
        decision=decision,
        reason=reason,
        confirmed_images=confirmed_images,
        acting_role=acting_role,
        action="posts.final_decision",
    )
    if decision == ReviewDecision.REJECTED:
        _return_to_author(post, by=by, reason=reason.strip(), stage=ReviewStage.FINAL)
    else:
        _approve(post, by=by)
    return review


@transaction.atomic
def withdraw_post(post: Post, *, by, reason: str = "") -> Post:
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.author_id != by.pk and not has_permission(by, post.school, "accounts.manage"):
        raise PermissionDenied("Only the author or a leader withdraws a post.")
    if post.status == PostStatus.WITHDRAWN:
        return post
    refuse_if_on_network(post, doing="withdrawn")
    post.status = PostStatus.WITHDRAWN
    post.save(update_fields=["status", "updated_at"])
    _resolve_waiting(post)
    cancelled = cancel_pending_deliveries(post, reason="Withdrawn before it went out.")
    audit.log("posts.withdrawn", actor=by, target=post, detail={"reason": reason, "cancelled_deliveries": cancelled})
    return post


@transaction.atomic
def set_away(school, *, by, role: str, until: dt.date | None) -> None:
    """Mark oneself away in a role, so the policy's deputy covers its approvals until then."""
    if not has_role(by, school, role):
        raise PermissionDenied("You do not hold that role here.")
    if until is not None and until < timezone.localdate():
        raise ValidationError("Choose today or a later date.")
    Membership.objects.filter(school=school, user=by, role=role).update(away_until=until)
    audit.log("school.member.away", actor=by, school=school, detail={"role": role, "until": until})
