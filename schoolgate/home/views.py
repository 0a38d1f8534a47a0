"""The home page, each school's dashboard, notifications and the health check."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from schoolgate.concerns.views import dashboard_summary as concerns_summary
from schoolgate.declarations.views import dashboard_summary as declarations_summary
from schoolgate.home.models import WorkerHeartbeat
from schoolgate.inbox.views import dashboard_summary as inbox_summary
from schoolgate.notifications.actions import mark_read
from schoolgate.notifications.models import Notification
from schoolgate.official_accounts.views import accounts_needing_attention
from schoolgate.policy.models import DocumentKind, DocumentVersion
from schoolgate.policy.views import acknowledgement_summary
from schoolgate.posts.models import Takedown
from schoolgate.posts.views import approver_roles_of, deliveries_needing_attention, waiting_for
from schoolgate.schools.models import School
from schoolgate.schools.permissions import permissions_for
from schoolgate.schools.roles import Role
from schoolgate.schools.views import school_for
from schoolgate.training.views import dashboard_summary as training_summary


@login_required
def index(request):
    schools = list(School.objects.for_user(request.user))
    if len(schools) == 1:
        return redirect("home:dashboard", schools[0].slug)
    return render(request, "home/choose_school.html", {"schools": schools})


@login_required
def dashboard(request, slug):
    school = school_for(request, slug, "school.view")
    today = timezone.localdate()
    can = permissions_for(request.user, school)
    versions = DocumentVersion.objects
    # Every version in force here, read once: the policy's own card and the other documents' reviews.
    in_force = list(versions.at_school(school).current())
    current_policy = next((v for v in in_force if v.document.kind == DocumentKind.SOCIAL_MEDIA_POLICY), None)
    reviews = [
        (v, v.review_state(today))
        for v in in_force
        # Factsheets' reviews show in the guidance library.
        if v is not current_policy and v.document.kind in DocumentKind.values
    ]
    reviews = [(v, state) for v, state in reviews if state != "ok"]
    context = {
        "school": school,
        "can": can,
        "roles": [Role(role).label for role in sorted(school.roles_of(request.user))],
        "awaiting_approval": versions.awaiting_approval_by(request.user, school),
        "to_acknowledge": versions.unacknowledged_by(request.user, school),
        "current_policy": current_policy,
        "review_state": current_policy.review_state(today) if current_policy else None,
        "reviews_needed": reviews if (can["policy_draft"] or can["policy_view_acknowledgements"]) else [],
        "drafts": versions.at_school(school).filter(status="draft") if can["policy_draft"] else [],
        "acknowledgements": acknowledgement_summary(school) if can["policy_view_acknowledgements"] else None,
        "notifications": Notification.objects.filter(user=request.user, school=school).unread()[:5],
        "accounts": accounts_needing_attention(request.user, school, today),
        "posts_waiting": waiting_for(request.user, school),
        "deliveries_stuck": deliveries_needing_attention(request.user, school),
        "approver_roles": approver_roles_of(request.user, school),
        "now": timezone.now(),
        # Counts and the nearest deadline only: the dashboard never shows what a concern says.
        "concerns": concerns_summary(request.user, school),
        # Counts only (waiting, overdue, running out, mine) for those who work an account's inbox.
        "inbox": inbox_summary(request.user, school),
        # The person's own training due soon or overdue (one query); counts for those who keep the records.
        "training": training_summary(request.user, school, today),
        # The member's own due declaration and a reviewer's waiting count: never what a declaration says.
        "declarations": declarations_summary(request.user, school),
        "takedowns_open": Takedown.objects.open().filter(post__school=school).select_related("post")
        if can["posts_take_down"]
        else [],
    }
    return render(request, "home/dashboard.html", context)


@login_required
def notifications(request):
    """The person's notifications, under the menu of the school they came from (?school=) or their only one."""
    slug = request.GET.get("school", "")
    if not slug:
        schools = list(School.objects.for_user(request.user).values_list("slug", flat=True)[:2])
        slug = schools[0] if len(schools) == 1 else ""
    school = school_for(request, slug, "school.view") if slug else None
    items = Notification.objects.filter(user=request.user).select_related("school")[:100]
    return render(request, "home/notifications.html", {"items": items, "school": school})


@login_required
@require_POST
def read_notification(request, pk):
    notification = get_object_or_404(Notification, pk=pk, user=request.user)
    mark_read(notification, by=request.user)
    if notification.url:
        return redirect(notification.url)
    return redirect("home:notifications")


def healthz(request):
    """Database and worker status as JSON; 503 when the database cannot be reached."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        database = f"error: {exc.__class__.__name__}"
    worker = {"status": "unknown", "last_heartbeat": None, "seconds_since": None}
    if database == "ok":
        beat = WorkerHeartbeat.objects.filter(name="huey").first()
        if beat is None:
            worker["status"] = "never_seen"
        else:
            age = (timezone.now() - beat.beat_at).total_seconds()
            worker = {
                "status": "ok" if age <= settings.WORKER_HEARTBEAT_STALE_SECONDS else "stale",
                "last_heartbeat": beat.beat_at.isoformat(),
                "seconds_since": round(age),
            }
    healthy = database == "ok"
    body = {
        "status": "ok" if healthy and worker["status"] == "ok" else ("degraded" if healthy else "error"),
        "database": database,
        "worker": worker,
    }
    return JsonResponse(body, status=200 if healthy else 503)
