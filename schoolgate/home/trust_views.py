"""A trust's own pages: every school's state on one page (counts only), adding a school, taking one out."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from schoolgate.concerns.models import Concern
from schoolgate.concerns.models import Status as ConcernStatus
from schoolgate.inbox.models import InboxItem, ItemStatus
from schoolgate.policy.models import DocumentKind, DocumentVersion, VersionStatus
from schoolgate.posts.models import Post, PostStatus, Takedown
from schoolgate.schools import actions
from schoolgate.schools.forms import AddSchoolForm
from schoolgate.schools.models import School, Trust
from schoolgate.schools.views import errors_to_form


def trust_for(request, pk: int) -> Trust:
    """The trust in the URL, for its administrators only (the host appoints themselves one to act for a trust);
    anyone else sees no such page."""
    trust = get_object_or_404(Trust, pk=pk)
    if not trust.admins.filter(pk=request.user.pk).exists():
        raise Http404("No such trust.")
    return trust


@dataclass(frozen=True)
class SchoolState:
    """What a trust administrator sees of one school: states and counts, never a concern's or a comment's words."""

    school: School
    policy: DocumentVersion | None
    review_state: str
    documents_to_approve: int
    posts_waiting: int
    takedowns_open: int
    takedowns_overdue: int
    replies_overdue: int
    concerns_open: int


def school_states(trust: Trust) -> list[SchoolState]:
    """Each school of the trust, in a fixed number of queries however many schools it has."""
    schools = list(trust.schools.order_by("name"))
    ids = [s.pk for s in schools]
    now, today = timezone.now(), timezone.localdate()
    policies = {
        v.document.school_id: v
        for v in DocumentVersion.objects.filter(
            document__school__in=ids, document__kind=DocumentKind.SOCIAL_MEDIA_POLICY, status=VersionStatus.CURRENT
        ).select_related("document")
    }

    def counts(queryset, field: str, **annotations) -> dict[int, dict]:
        return {row[field]: row for row in queryset.values(field).annotate(**annotations)}

    drafts = counts(
        DocumentVersion.objects.filter(document__school__in=ids, status=VersionStatus.DRAFT),
        "document__school",
        n=Count("pk"),
    )
    posts = counts(
        Post.objects.filter(school__in=ids, status__in=[PostStatus.IN_REVIEW, PostStatus.AWAITING_APPROVAL]),
        "school",
        n=Count("pk"),
    )
    takedowns = counts(
        Takedown.objects.open().filter(post__school__in=ids),
        "post__school",
        n=Count("pk"),
        overdue=Count("pk", filter=Q(due_at__lt=now)),
    )
    replies = counts(
        InboxItem.objects.filter(school__in=ids, status=ItemStatus.OPEN, due_at__lt=now), "school", n=Count("pk")
    )
    concerns = counts(
        Concern.objects.filter(school__in=ids).exclude(status=ConcernStatus.CLOSED), "school", n=Count("pk")
    )
    states = []
    for school in schools:
        policy = policies.get(school.pk)
        states.append(
            SchoolState(
                school=school,
                policy=policy,
                review_state=policy.review_state(today) if policy else "none",
                documents_to_approve=drafts.get(school.pk, {}).get("n", 0),
                posts_waiting=posts.get(school.pk, {}).get("n", 0),
                takedowns_open=takedowns.get(school.pk, {}).get("n", 0),
                takedowns_overdue=takedowns.get(school.pk, {}).get("overdue", 0),
                replies_overdue=replies.get(school.pk, {}).get("n", 0),
                concerns_open=concerns.get(school.pk, {}).get("n", 0),
            )
        )
    return states


@login_required
def trust_dashboard(request, pk):
    trust = trust_for(request, pk)
    return render(request, "home/trust.html", {"trust": trust, "states": school_states(trust)})


@login_required
def add_school(request, pk):
    trust = trust_for(request, pk)
    form = AddSchoolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            school = actions.create_school(by=request.user, trust=trust, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            errors_to_form(error if isinstance(error, ValidationError) else ValidationError(str(error)), form)
        else:
            messages.success(
                request,
                f"{school.name} is set up. {school.memberships.get(role='headteacher').user} has been told how to "
                "sign in; they write the first policy version, which the headteacher and chair approve.",
            )
            return redirect("home:trust", trust.pk)
    return render(request, "home/trust_add_school.html", {"trust": trust, "form": form})


@login_required
@require_POST
def leave_trust(request, pk):
    trust = trust_for(request, pk)
    school = School.objects.filter(slug=request.POST.get("school", ""), trust=trust).first()
    if school is None:
        return HttpResponseBadRequest("Choose one of the trust's schools.")
    try:
        actions.leave_trust(school, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{school.name} has left {trust.name}; it goes on as a school of its own.")
    return redirect("home:trust", trust.pk)
