"""Post pages: the list and queue, writing and editing, reviewing and final approval."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from schoolgate.posts import actions
from schoolgate.posts.forms import PostForm, ReviewForm
from schoolgate.posts.models import Post, PostStatus, ReviewStage
from schoolgate.schools.permissions import has_permission
from schoolgate.schools.views import school_for


def can_review(user, post: Post) -> bool:
    """A colleague (not the author) who has not yet reviewed this version of a post waiting for review."""
    return (
        post.status == PostStatus.IN_REVIEW
        and post.author_id != user.pk
        and has_permission(user, post.school, "posts.review")
        and not post.current_reviews().filter(reviewer=user, stage=ReviewStage.COLLEAGUE).exists()
    )


def waiting_for(user, school) -> list[Post]:
    """Posts this person can act on now: colleague reviews and final approvals."""
    posts = (
        Post.objects.at_school(school)
        .filter(status__in=[PostStatus.IN_REVIEW, PostStatus.AWAITING_APPROVAL])
        .exclude(author=user)
        .select_related("author", "school")
    )
    return [
        post
        for post in posts
        if can_review(user, post)
        or (post.status == PostStatus.AWAITING_APPROVAL and user in actions.final_approvers(post)[0])
    ]


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


def _post(school, pk) -> Post:
    return get_object_or_404(Post.objects.select_related("author", "school"), pk=pk, school=school)


def _message_for(error) -> str:
    return " ".join(getattr(error, "messages", [str(error)]))


@login_required
def post_list(request, slug):
    school = school_for(request, slug, "school.view")
    mine = Post.objects.at_school(school).filter(author=request.user).prefetch_related("accounts")[:50]
    recent = Post.objects.at_school(school).exclude(author=request.user).select_related("author")[:50]
    return render(
        request,
        "posts/list.html",
        {"school": school, "waiting": waiting_for(request.user, school), "mine": mine, "recent": recent},
    )


@login_required
def new_post(request, slug):
    school = school_for(request, slug, "school.view")
    form = PostForm(request.POST or None, user=request.user, school=school)
    if request.method == "POST" and form.is_valid():
        try:
            post = actions.create_draft(school, by=request.user, **form.cleaned_data)
            if "submit" in request.POST:
                actions.submit_for_review(post, by=request.user)
        except (ValidationError, PermissionDenied) as error:
            form.add_error(None, _message_for(error))
        else:
            messages.success(request, "Sent for review." if post.status != PostStatus.DRAFT else "Draft saved.")
            return redirect("posts:detail", slug, post.pk)
    return render(request, "posts/edit.html", {"school": school, "form": form, "post": None})


@login_required
def edit_post(request, slug, pk):
    school = school_for(request, slug, "school.view")
    post = _post(school, pk)
    initial = {"text": post.text, "accounts": post.accounts.all(), "scheduled_for": post.scheduled_for}
    form = PostForm(request.POST or None, user=request.user, school=school, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.edit_post(post, by=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            form.add_error(None, _message_for(error))
        else:
            messages.success(request, "Saved. Any earlier reviews no longer count; it goes back to review.")
            return redirect("posts:detail", slug, pk)
    return render(request, "posts/edit.html", {"school": school, "form": form, "post": post})


@login_required
def detail(request, slug, pk):
    school = school_for(request, slug, "school.view")
    post = _post(school, pk)
    approvers, acting_role = actions.final_approvers(post) if post.status == PostStatus.AWAITING_APPROVAL else ([], "")
    findings = actions.screen_post(post)
    override = post.overrides.filter(revision=post.revision).select_related("by").first()
    blocking = [f for f in findings if f.is_blocking]
    context = {
        "findings": findings,
        "pieces": highlighted(post.text, findings),
        "override": override,
        "can_override": bool(blocking)
        and override is None
        and post.status in {PostStatus.IN_REVIEW, PostStatus.AWAITING_APPROVAL}
        and request.user in actions.override_approvers(post),
        "school": school,
        "post": post,
        "reviews": post.reviews.select_related("reviewer").order_by("at"),
        "is_author": post.author_id == request.user.pk,
        "can_review": can_review(request.user, post),
        "can_approve": request.user in approvers,
        "acting_role": acting_role,
        "review_form": ReviewForm(),
        "approvals_needed": actions.settings_in_force(school).required_reviewers,
        "approvals_given": post.colleague_approvals().count(),
    }
    return render(request, "posts/detail.html", context)


@login_required
@require_POST
def submit(request, slug, pk):
    school = school_for(request, slug, "school.view")
    try:
        actions.submit_for_review(_post(school, pk), by=request.user)
        messages.success(request, "Sent for review.")
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _message_for(error))
    return redirect("posts:detail", slug, pk)


@login_required
@require_POST
def review(request, slug, pk):
    school = school_for(request, slug, "school.view")
    post = _post(school, pk)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose to agree or return the post.")
        return redirect("posts:detail", slug, pk)
    act = actions.final_approve_post if post.status == PostStatus.AWAITING_APPROVAL else actions.review_post
    try:
        act(post, by=request.user, decision=form.cleaned_data["decision"], reason=form.cleaned_data["reason"])
        messages.success(request, "Your decision is recorded.")
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _message_for(error))
    return redirect("posts:detail", slug, pk)


@login_required
@require_POST
def withdraw(request, slug, pk):
    school = school_for(request, slug, "school.view")
    try:
        actions.withdraw_post(_post(school, pk), by=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, "Withdrawn: it will not be published.")
    except PermissionDenied as error:
        messages.error(request, _message_for(error))
    return redirect("posts:detail", slug, pk)


@login_required
@require_POST
def override(request, slug, pk):
    school = school_for(request, slug, "school.view")
    try:
        actions.override_findings(_post(school, pk), by=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, "Override recorded: reviewers may now agree this version.")
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _message_for(error))
    return redirect("posts:detail", slug, pk)
