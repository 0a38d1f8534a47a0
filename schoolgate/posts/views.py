"""Post pages: the list and queue, writing and editing, reviewing, final approval and publishing."""

from __future__ import annotations

import datetime as dt
import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from schoolgate.audit.models import AuditEntry
from schoolgate.policy.models import PolicySettings, settings_in_force
from schoolgate.posts import actions
from schoolgate.posts.actions.publishing import connection_problem, may_publish_on, publishing_obstacles
from schoolgate.posts.actions.review import blocked_message, consent_date, is_final_approver_of, review_refusal
from schoolgate.posts.actions.takedown import can_delete_through_api, why_not_through_api
from schoolgate.posts.forms import PostFilterForm, PostForm, ReviewForm
from schoolgate.posts.images import image_problems, post_images
from schoolgate.posts.models import (
    Delivery,
    DeliveryStatus,
    Post,
    PostStatus,
    ScreeningOverride,
    ScreeningResult,
    Takedown,
)
from schoolgate.schools.permissions import has_permission
from schoolgate.schools.views import school_for
from schoolgate.screening.engine import BLOCKING


def can_review(user, post: Post) -> bool:
    """A colleague (not the author) who has not yet reviewed this version of a post waiting for review, and
    who is not its final approver unless the policy lets one person do both."""
    if review_refusal(user, post):
        return False
    return settings_in_force(post.school).approver_may_also_review or not is_final_approver_of(user, post)


def blocked_on_screening(posts: list[Post]) -> set[int]:
    """The posts whose current revision has blocking findings no one has overridden, read from the screening
    stored when each was submitted (what its reviewers are shown), so a list does not screen every post against
    the whole roll again; a post with no stored screening is screened now."""
    if not posts:
        return set()
    current = {post.pk: post.revision for post in posts}
    stored = {
        result.post_id: result.findings
        for result in ScreeningResult.objects.filter(post__in=posts)
        if current[result.post_id] == result.revision
    }
    overridden = {
        o.post_id for o in ScreeningOverride.objects.filter(post__in=posts) if current[o.post_id] == o.revision
    }
    blocked = set()
    for post in posts:
        if post.pk in overridden:
            continue
        if post.pk in stored:
            if any(finding["severity"] == BLOCKING for finding in stored[post.pk]):
                blocked.add(post.pk)
        elif actions.unresolved_blocking_findings(post):
            blocked.add(post.pk)
    return blocked


def waiting_for(user, school) -> list[Post]:
    """Posts this person can act on now, each with what it waits for (`waiting_label`): a colleague review,
    a final approval, or a decision on screening findings that stop colleagues agreeing it."""
    posts = (
        Post.objects.at_school(school)
        .filter(status__in=[PostStatus.IN_REVIEW, PostStatus.AWAITING_APPROVAL])
        .exclude(author=user)
        .select_related("author", "school")
    )
    posts = list(posts)
    blocked_ids = blocked_on_screening([p for p in posts if p.status == PostStatus.IN_REVIEW])
    waiting = []
    for post in posts:
        blocked = post.pk in blocked_ids
        if blocked:
            # Not sent to colleagues until it can be agreed: only whoever may override decides it.
            label = "Waiting for your decision on screening" if user in actions.override_approvers(post) else ""
        elif can_review(user, post):
            label = "Waiting for your review"
        elif post.status == PostStatus.AWAITING_APPROVAL and user in actions.final_approvers(post)[0]:
            label = "Waiting for your final approval"
        else:
            label = ""
        if label:
            post.waiting_label = label
            waiting.append(post)
    return waiting


def highlighted(text: str, findings) -> list[tuple[str, object]]:
    """The text cut into plain and flagged pieces, so findings are marked where they are (overlaps skipped)."""
    pieces, cursor = [], 0
    for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
        if finding.start < cursor:
            continue
        if finding.start > cursor:
            pieces.append((text[cursor : finding.start], None))
        pieces.append((text[finding.start : finding.end], finding))
        cursor = finding.end
    if cursor < len(text):
        pieces.append((text[cursor:], None))
    return pieces


# How each audited step reads in a post's history (AW-PUB-3); anything else shows its action name.
HISTORY_LABELS = {
    "posts.drafted": "Drafted",
    "posts.edited": "Edited",
    "posts.submitted": "Sent for review",
    "posts.reviewed": "Colleague review",
    "posts.final_decision": "Final decision",
    "posts.returned": "Returned to the author",
    "posts.screening_overridden": "Screening findings overridden",
    "posts.approved": "Approved",
    "posts.scheduled": "Scheduled",
    "posts.delivery.published": "Published",
    "posts.published": "Archived as published",
    "posts.delivery.retrying": "Attempt failed; will retry",
    "posts.delivery.failed": "Failed",
    "posts.delivery.cancelled": "Cancelled",
    "posts.delivery.uncertain": "Outcome unknown; a person must check",
    "posts.delivery.retry": "Retry asked",
    "posts.delivery.checked_absent": "Checked: not on the network; sending again",
    "posts.withdrawn": "Withdrawn",
    "posts.takedown.requested": "Take-down asked; off the news page",
    "posts.delivery.removed": "Taken down",
    "posts.takedown.completed": "Take-down complete",
    "posts.takedown.overdue": "Take-down overdue",
}


def history_of(post: Post) -> list[dict]:
    """Every audited step of the post, oldest first, from the tamper-evident audit log."""
    entries = AuditEntry.objects.filter(object_type="posts.post", object_id=str(post.pk)).select_related("actor")
    history = []
    for entry in entries.order_by("seq"):
        detail = entry.detail or {}
        note = detail.get("reason") or detail.get("error") or detail.get("note") or detail.get("url") or ""
        if isinstance(detail.get("problems"), list):
            note = " ".join(detail["problems"])
        history.append(
            {
                "at": entry.at,
                "what": HISTORY_LABELS.get(entry.action, entry.action),
                "who": entry.actor.full_name if entry.actor else "Schoolgate",
                "account": detail.get("account", ""),
                "decision": detail.get("decision", ""),
                "revision": detail.get("revision"),
                "note": note,
                "seq": entry.seq,
            }
        )
    return history


def _post(school, pk) -> Post:
    return get_object_or_404(Post.objects.select_related("author", "school"), pk=pk, school=school)


def _message_for(error) -> str:
    return " ".join(getattr(error, "messages", [str(error)]))


def _carry_out(request, act, *, success: str) -> bool:
    """Run an action for a form post; its refusal, or `success`, becomes the message on the next page."""
    try:
        act()
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _message_for(error))
        return False
    messages.success(request, success)
    return True


@login_required
def post_list(request, slug):
    """What waits for this person, then every post filtered by state, account and author (htmx swaps the list)."""
    school = school_for(request, slug, "school.view")
    filters = PostFilterForm(request.GET or None, school=school)
    posts = filters.filter(Post.objects.at_school(school), user=request.user)
    posts = posts.select_related("author").prefetch_related("accounts", "deliveries__account")[:100]
    context = {"school": school, "filters": filters, "posts": posts}
    if request.headers.get("HX-Request"):
        return render(request, "posts/_list_results.html", context)
    return render(request, "posts/list.html", {**context, "waiting": waiting_for(request.user, school)})


@login_required
def new_post(request, slug):
    school = school_for(request, slug, "school.view")
    form = PostForm(request.POST or None, user=request.user, school=school)
    if request.method == "POST" and form.is_valid():
        blocked = False
        try:
            # One transaction: a draft refused at submission is not left behind to be saved twice.
            with transaction.atomic():
                post = actions.create_draft(school, by=request.user, **form.cleaned_data)
                if "submit" in request.POST:
                    try:
                        post = actions.submit_for_review(post, by=request.user)
                    except ValidationError as error:
                        if getattr(error, "code", None) != "blocked":
                            raise
                        # Kept as a draft: the author decides (fix it, or send it on to be decided) on its page.
                        blocked = True
        except (ValidationError, PermissionDenied) as error:
            form.add_error(None, _message_for(error))
        else:
            if blocked:
                messages.error(request, "Saved as a draft, not sent: screening found problems (below).")
            else:
                messages.success(request, "Sent for review." if post.status != PostStatus.DRAFT else "Draft saved.")
            return redirect("posts:detail", slug, post.pk)
    context = {
        "school": school,
        "form": form,
        "post": None,
        "training_problem": actions.training_problem(school, request.user),
    }
    return render(request, "posts/edit.html", context)


@login_required
def edit_post(request, slug, pk):
    school = school_for(request, slug, "school.view")
    post = _post(school, pk)
    initial = {
        "text": post.text,
        "accounts": post.accounts.all(),
        "scheduled_for": post.scheduled_for,
        "images": [i.media_item for i in post_images(post) if i.media_item],
    }
    form = PostForm(request.POST or None, user=request.user, school=school, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            edited = actions.edit_post(post, by=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            form.add_error(None, _message_for(error))
        else:
            if edited.status == PostStatus.IN_REVIEW:
                messages.success(request, "Saved. Any earlier reviews no longer count; it goes back to review.")
            else:
                messages.success(request, "Saved.")
            return redirect("posts:detail", slug, pk)
    return render(request, "posts/edit.html", {"school": school, "form": form, "post": post})


@login_required
def detail(request, slug, pk):
    school = school_for(request, slug, "school.view")
    post = _post(school, pk)
    return render(request, "posts/detail.html", _detail_context(request, school, post))


def _detail_context(request, school, post: Post, *, review_form: ReviewForm | None = None) -> dict:
    approvers, acting_role = actions.final_approvers(post) if post.status == PostStatus.AWAITING_APPROVAL else ([], "")
    findings = actions.screen_post(post)
    deliveries = list(post.deliveries.select_related("account__school", "account__connection", "recorded_by"))
    images = post_images(post)
    override = post.overrides.filter(revision=post.revision).select_related("by").first()
    blocking = [f for f in findings if f.is_blocking] if override is None else []
    is_author = post.author_id == request.user.pk
    reviewing = can_review(request.user, post)
    state, tone = post.state()
    context = {
        "findings": findings,
        "pieces": highlighted(post.text, findings),
        "override": override,
        "can_override": bool(blocking)
        and post.status in {PostStatus.IN_REVIEW, PostStatus.AWAITING_APPROVAL}
        and request.user in actions.override_approvers(post),
        "school": school,
        "post": post,
        "state": state,
        "state_tone": tone,
        "reviews": post.reviews.select_related("reviewer").order_by("at"),
        "is_author": is_author,
        # The author's choice before it goes to anyone: fix it, or send it on to be decided.
        "blocked_draft": blocked_message(post, blocking)
        if is_author and blocking and post.status in {PostStatus.DRAFT, PostStatus.REJECTED}
        else "",
        "waiting_for_decision": bool(blocking) and post.status == PostStatus.IN_REVIEW,
        "override_deciders": actions.override_approvers(post) if blocking else [],
        "can_review": reviewing,
        # The final approver (kept apart from colleague review) may still return a post early.
        "may_return_only": not reviewing
        and not review_refusal(request.user, post)
        and is_final_approver_of(request.user, post),
        "can_approve": request.user in approvers,
        "acting_role": acting_role,
        "approvers": approvers,
        "obstacles": publishing_obstacles(post)
        if post.status not in {PostStatus.PUBLISHED, PostStatus.WITHDRAWN} and not deliveries
        else [],
        "review_form": review_form or ReviewForm(images=images),
        "images": images,
        "image_problems": image_problems(images, on=consent_date(post), text=post.text, school=school)
        if images and post.status not in {PostStatus.PUBLISHED, PostStatus.WITHDRAWN}
        else [],
        "approvals_needed": settings_in_force(school).required_reviewers,
        "approvals_given": post.colleague_approvals().count(),
        "deliveries": deliveries,
        # Retrying these would fail the same way: the page offers to connect the account instead.
        "not_connected": {d.pk for d in deliveries if connection_problem(d.account)},
        "can_publish": {d.pk for d in deliveries if may_publish_on(request.user, d.account)},
        "history": history_of(post),
        "can_take_down": post.published_at is not None and has_permission(request.user, school, "posts.take_down"),
        "takedowns": post.takedowns.all(),
    }
    return context


@login_required
@require_POST
def submit(request, slug, pk):
    """Send for review; with blocking findings, only when the author chooses to send it on to be decided."""
    school = school_for(request, slug, "school.view")
    post = _post(school, pk)
    to_decide = request.POST.get("send_for_decision") == "1"
    success = (
        "Sent to be decided: screening found problems, so colleagues are asked to review only once the final "
        "approver has let it go ahead. If they return it, it comes back to you."
        if to_decide
        else "Sent for review."
    )
    try:
        actions.submit_for_review(post, by=request.user, send_for_decision=to_decide)
    except (ValidationError, PermissionDenied) as error:
        if getattr(error, "code", None) != "blocked":
            messages.error(request, _message_for(error))
        # A blocked post: its page shows the findings and the two choices.
    else:
        (messages.warning if to_decide else messages.success)(request, success)
    return redirect("posts:detail", slug, pk)


@login_required
@require_POST
def review(request, slug, pk):
    """Record a colleague review or the final decision; a refusal shows the form again as it was filled in."""
    school = school_for(request, slug, "school.view")
    post = _post(school, pk)
    form = ReviewForm(request.POST, images=post_images(post))
    if form.is_valid():
        act = actions.final_approve_post if post.status == PostStatus.AWAITING_APPROVAL else actions.review_post
        try:
            act(
                post,
                by=request.user,
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
                confirmed_images=form.cleaned_data["confirmed_images"],
            )
        except (ValidationError, PermissionDenied) as error:
            if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, _message_for(error))
        else:
            messages.success(request, "Your decision is recorded.")
            return redirect("posts:detail", slug, pk)
    elif "decision" in form.errors:
        form.errors["decision"] = form.error_class(["Choose to agree or return the post."])
    post.refresh_from_db()
    context = _detail_context(request, school, post, review_form=form)
    return render(request, "posts/detail.html", context, status=400)


@login_required
@require_POST
def withdraw(request, slug, pk):
    school = school_for(request, slug, "school.view")
    _carry_out(
        request,
        lambda: actions.withdraw_post(_post(school, pk), by=request.user, reason=request.POST.get("reason", "")),
        success="Withdrawn: it will not be published.",
    )
    return redirect("posts:detail", slug, pk)


@login_required
@require_POST
def override(request, slug, pk):
    school = school_for(request, slug, "school.view")
    _carry_out(
        request,
        lambda: actions.override_findings(_post(school, pk), by=request.user, reason=request.POST.get("reason", "")),
        success="Override recorded: reviewers may now agree this version.",
    )
    return redirect("posts:detail", slug, pk)


def _delivery(school, pk, delivery_pk) -> Delivery:
    return get_object_or_404(
        Delivery.objects.select_related("post__school", "account"), pk=delivery_pk, post__pk=pk, post__school=school
    )


@login_required
@require_POST
def retry_delivery(request, slug, pk, delivery_pk):
    school = school_for(request, slug, "school.view")
    delivery = _delivery(school, pk, delivery_pk)
    _carry_out(request, lambda: actions.retry_delivery(delivery, by=request.user), success="Trying again now.")
    return redirect("posts:detail", slug, pk)


@login_required
@require_POST
def record_delivery(request, slug, pk, delivery_pk):
    """Record the link of a post made by hand, or answer an uncertain delivery: there (link) or not there."""
    school = school_for(request, slug, "school.view")
    delivery = _delivery(school, pk, delivery_pk)
    url = request.POST.get("url", "")
    uncertain = delivery.status == DeliveryStatus.UNCERTAIN
    act = actions.resolve_uncertain_delivery if uncertain else actions.record_manual_publication
    _carry_out(
        request,
        functools.partial(act, delivery, by=request.user, url=url),
        success="Sending it now." if uncertain and not url.strip() else "Recorded as published.",
    )
    return redirect("posts:detail", slug, pk)


def deliveries_needing_attention(user, school) -> list[Delivery]:
    """Failed, uncertain and by-hand deliveries on accounts this person may publish to."""
    stuck = Delivery.objects.filter(
        post__school=school, status__in=[DeliveryStatus.FAILED, DeliveryStatus.UNCERTAIN, DeliveryStatus.MANUAL]
    ).select_related("post__school", "account__school")
    allowed = {account.pk: may_publish_on(user, account) for account in {d.account for d in stuck}}
    return [d for d in stuck if allowed[d.account_id]]


def approver_roles_of(user, school) -> list[dict]:
    """The roles in which this person gives final approval under the policy in force, with their away dates."""
    policy = PolicySettings.objects.in_force_at(school)  # a new school's dashboard has no policy yet
    if policy is None or not policy.final_post_approver_role:
        return []
    return [
        {
            "role": m.role,
            "label": m.get_role_display(),
            "away_until": m.away_until,
            "deputy": policy.final_approver_deputy_role,
        }
        for m in school.memberships.filter(user=user, role=policy.final_post_approver_role)
    ]


@login_required
@require_POST
def set_away(request, slug):
    school = school_for(request, slug, "school.view")
    until = request.POST.get("until", "").strip()
    try:
        until_date = dt.date.fromisoformat(until) if until else None
    except ValueError:
        messages.error(request, "Give the date you are back, e.g. 2026-12-04.")
        return redirect("home:dashboard", slug)
    _carry_out(
        request,
        lambda: actions.set_away(school, by=request.user, role=request.POST.get("role", ""), until=until_date),
        success=f"Away until {until_date:%-d %B %Y}: the deputy covers final approvals."
        if until_date
        else "Welcome back.",
    )
    return redirect("home:dashboard", slug)


@login_required
def takedowns(request, slug):
    """The take-down worklist: every live post that must come down, its deadline, and what is left (RS-IMG-5)."""
    school = school_for(request, slug, "posts.take_down")
    now = timezone.now()
    open_items = []
    for takedown in Takedown.objects.open().filter(post__school=school).select_related("post", "pupil"):
        copies = takedown.post.deliveries.filter(
            status__in=[DeliveryStatus.PUBLISHED, DeliveryStatus.REMOVING, DeliveryStatus.REMOVED]
        ).select_related("account__connection")
        open_items.append(
            {
                "takedown": takedown,
                "overdue": takedown.due_at <= now,
                "copies": [(d, can_delete_through_api(d), why_not_through_api(d)) for d in copies],
            }
        )
    done = Takedown.objects.filter(post__school=school, completed_at__isnull=False).select_related("post", "pupil")
    return render(
        request,
        "posts/takedowns.html",
        {"school": school, "open_items": open_items, "done": done.order_by("-completed_at")[:20]},
    )


@login_required
@require_POST
def request_takedown(request, slug, pk):
    school = school_for(request, slug, "posts.take_down")
    if _carry_out(
        request,
        lambda: actions.request_takedown(_post(school, pk), by=request.user, reason=request.POST.get("reason", "")),
        success="Taken off the news page; now remove it from the networks.",
    ):
        return redirect("posts:takedowns", slug)
    return redirect("posts:detail", slug, pk)


@login_required
@require_POST
def take_down(request, slug, pk):
    school = school_for(request, slug, "posts.take_down")
    left = actions.take_down(_post(school, pk), by=request.user)
    if left:
        messages.error(request, "Not everything could be removed automatically: " + " ".join(left))
    else:
        messages.success(request, "Removed everywhere.")
    return redirect("posts:takedowns", slug)


@login_required
@require_POST
def record_removal(request, slug, pk, delivery_pk):
    school = school_for(request, slug, "posts.take_down")
    delivery = _delivery(school, pk, delivery_pk)
    note = request.POST.get("note", "")
    _carry_out(
        request, lambda: actions.record_manual_removal(delivery, by=request.user, note=note), success="Recorded."
    )
    return redirect("posts:takedowns", slug)
