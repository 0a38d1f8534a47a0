"""Training pages: my training, recording it, the privacy self-check; for leaders the records, the overdue list,
attendance, confirmations, courses and settings; the dashboard cards."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from schoolgate.policy.models import DocumentVersion, GuidanceKind
from schoolgate.schools.permissions import has_permission, permissions_for
from schoolgate.schools.views import errors_to_form, school_for
from schoolgate.training import actions
from schoolgate.training.due import compute_dues
from schoolgate.training.forms import (
    AttendanceForm,
    CourseForm,
    DeclineForm,
    OwnCompletionForm,
    PrivacyCheckForm,
    TrainingSettingsForm,
)
from schoolgate.training.models import Completion, CompletionStatus, Course, Deadline
from schoolgate.training.privacy import ITEMS, Answer

# The dashboard shows a person what falls due within this many days (and everything overdue).
DASHBOARD_WINDOW_DAYS = 30


def _with_states(dues, today: dt.date, soon_days: int) -> list[dict]:
    return [{"due": d, "state": d.state(today, soon_days=soon_days)} for d in dues]


@login_required
def mine(request, slug):
    """What I must do (and by when), what I have done, and the factsheets I have not read yet."""
    school = school_for(request, slug, "school.view")
    settings = actions.ensure_defaults(school)
    today = timezone.localdate()
    dues = sorted(
        compute_dues(school, users=[request.user], settings=settings),
        key=lambda d: (d.due_on is None, d.due_on or today),
    )
    rows = _with_states(dues, today, settings.reminder_days_before)
    completions = Completion.objects.filter(course__school=school, user=request.user).select_related(
        "course", "decided_by"
    )
    to_read = (
        DocumentVersion.objects.unacknowledged_by(request.user, school)
        .filter(document__kind=GuidanceKind.FACTSHEET)
        .order_by("document__title")
    )
    return render(
        request,
        "training/mine.html",
        {
            "school": school,
            "can": permissions_for(request.user, school),
            "courses": [r for r in rows if r["due"].course],
            "privacy": next((r for r in rows if r["due"].course is None), None),
            "completions": completions,
            "to_read": to_read,
        },
    )


@login_required
def record_own(request, slug):
    school = school_for(request, slug, "school.view")
    form = OwnCompletionForm(request.POST or None, school=school, initial={"course": request.GET.get("course")})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                actions.record_own_completion(
                    data["course"], by=request.user, completed_on=data["completed_on"], note=data["note"]
                )
            except ValidationError as error:
                errors_to_form(error, form)
            else:
                messages.success(request, "Recorded. It counts once a leader or safeguarding lead confirms it.")
                return redirect("training:mine", slug)
        status = 400
    return render(request, "training/record_own.html", {"school": school, "form": form}, status=status)


@login_required
def privacy_check(request, slug):
    """The checklist. The answers are stored for the person; no one else's page shows them."""
    school = school_for(request, slug, "school.view")
    settings = actions.ensure_defaults(school)
    required = settings.requires_privacy_check(school.roles_of(request.user))
    last = actions.own_privacy_checks(school, user=request.user, by=request.user).first()
    form = PrivacyCheckForm(request.POST or None, initial=last.answers if last else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.complete_privacy_check(school, by=request.user, answers=form.cleaned_data)
            except ValidationError as error:
                errors_to_form(error, form)
            else:
                to_do = [item for item in ITEMS if form.cleaned_data[item.key] == Answer.NOT_YET]
                messages.success(
                    request,
                    "Thank you: your privacy self-check is recorded."
                    + (
                        f" {len(to_do)} thing{'s' if len(to_do) != 1 else ''} still to do: see the advice."
                        if to_do
                        else ""
                    ),
                )
                return redirect("training:privacy_check", slug)
        status = 400
    due = next((d for d in compute_dues(school, users=[request.user], settings=settings) if d.course is None), None)
    to_do = [item for item in ITEMS if last and last.answers.get(item.key) == Answer.NOT_YET]
    return render(
        request,
        "training/privacy_check.html",
        {
            "school": school,
            "form": form,
            "required": required,
            "last": last,
            "due": due,
            "to_do": to_do,
            "settings": settings,
        },
        status=status,
    )


def _people(school) -> dict:
    return {user.pk: user for user in school.members()}


@login_required
def overdue(request, slug):
    """Everyone's overdue (and soon due) training and privacy self-checks: who, what and since when; never answers."""
    school = school_for(request, slug, "training.view_records")
    settings = actions.ensure_defaults(school)
    today = timezone.localdate()
    people = _people(school)
    rows = [
        {**row, "person": people[row["due"].user_id], "days_late": (today - row["due"].due_on).days}
        for row in _with_states(compute_dues(school, settings=settings), today, settings.reminder_days_before)
        if row["state"] in ("overdue", "due") and row["due"].user_id in people
    ]
    rows.sort(key=lambda r: (r["due"].due_on, r["person"].full_name))
    return render(
        request,
        "training/overdue.html",
        {
            "school": school,
            "overdue": [r for r in rows if r["state"] == "overdue"],
            "due_soon": [r for r in rows if r["state"] == "due"],
            "soon_days": settings.reminder_days_before,
            "can": permissions_for(request.user, school),
        },
    )


@login_required
def records(request, slug):
    """Per course: everyone who must take it, when they last did and when it is next due; records waiting for
    confirmation; the privacy self-check (done when, due when)."""
    school = school_for(request, slug, "training.view_records")
    settings = actions.ensure_defaults(school)
    today = timezone.localdate()
    people = _people(school)
    by_duty = defaultdict(list)
    for row in _with_states(compute_dues(school, settings=settings), today, settings.reminder_days_before):
        if row["due"].user_id in people:
            by_duty[row["due"].course_id].append({**row, "person": people[row["due"].user_id]})
    for duty_rows in by_duty.values():
        duty_rows.sort(key=lambda r: r["person"].full_name)
    courses = [
        {"course": course, "rows": by_duty.get(course.pk, [])}
        for course in Course.objects.filter(school=school, is_active=True)
    ]
    waiting = Completion.objects.at_school(school).pending().select_related("course", "user", "recorded_by")
    can = permissions_for(request.user, school)
    return render(
        request,
        "training/records.html",
        {
            "school": school,
            "courses": courses,
            "privacy_rows": by_duty.get(None, []),
            "waiting": waiting,
            "recent": Completion.objects.at_school(school)
            .exclude(status=CompletionStatus.PENDING)
            .select_related("course", "user", "decided_by")[:20],
            "can": can,
            "decline_form": DeclineForm(),
            "me": request.user.pk,
        },
    )


@login_required
def attendance(request, slug):
    school = school_for(request, slug, actions.MANAGE)
    form = AttendanceForm(request.POST or None, school=school, initial={"course": request.GET.get("course")})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                made = actions.record_attendance(
                    data["course"],
                    by=request.user,
                    users=list(data["users"]),
                    completed_on=data["completed_on"],
                    note=data["note"],
                )
            except ValidationError as error:
                errors_to_form(error, form)
            else:
                mine = [c for c in made if c.user_id == request.user.pk]
                messages.success(
                    request,
                    f"Attendance recorded for {len(made)} {'person' if len(made) == 1 else 'people'}."
                    + (" Your own record waits for a colleague to confirm it." if mine else ""),
                )
                return redirect("training:records", slug)
        status = 400
    return render(request, "training/attendance.html", {"school": school, "form": form}, status=status)


def _completion(school, pk) -> Completion:
    return get_object_or_404(Completion.objects.select_related("course__school", "user"), pk=pk, course__school=school)


@login_required
@require_POST
def confirm(request, slug, pk):
    school = school_for(request, slug, actions.MANAGE)
    completion = _completion(school, pk)
    try:
        actions.confirm_completion(completion, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Confirmed: {completion.user} completed “{completion.course}”.")
    return redirect("training:records", slug)


@login_required
@require_POST
def decline(request, slug, pk):
    school = school_for(request, slug, actions.MANAGE)
    completion = _completion(school, pk)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the record is not confirmed, so that they can put it right.")
        return redirect("training:records", slug)
    try:
        actions.decline_completion(completion, by=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Not confirmed; {completion.user} has been told why.")
    return redirect("training:records", slug)


@login_required
def courses(request, slug):
    school = school_for(request, slug, "training.view_records")
    settings = actions.ensure_defaults(school)
    return render(
        request,
        "training/courses.html",
        {
            "school": school,
            "courses": Course.objects.filter(school=school),
            "settings": settings,
            "can": permissions_for(request.user, school),
        },
    )


def _course_form(request, school, course: Course | None):
    form = CourseForm(request.POST or None, instance=course)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.save_course(school, by=request.user, course=course, **form.cleaned_data)
            except ValidationError as error:
                errors_to_form(error, form)
            else:
                messages.success(request, "Course saved. Everyone's due dates follow it.")
                return redirect("training:courses", school.slug)
        status = 400
    return render(
        request, "training/course_form.html", {"school": school, "form": form, "course": course}, status=status
    )


@login_required
def new_course(request, slug):
    school = school_for(request, slug, actions.MANAGE)
    return _course_form(request, school, None)


@login_required
def edit_course(request, slug, pk):
    school = school_for(request, slug, actions.MANAGE)
    return _course_form(request, school, get_object_or_404(Course, pk=pk, school=school))


@login_required
def training_settings(request, slug):
    school = school_for(request, slug, actions.MANAGE)
    settings = actions.ensure_defaults(school)
    form = TrainingSettingsForm(request.POST or None, instance=settings)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.save_settings(school, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                errors_to_form(error, form)
            else:
                messages.success(request, "Training settings saved.")
                return redirect("training:courses", slug)
        status = 400
    return render(request, "training/settings.html", {"school": school, "form": form}, status=status)


def dashboard_summary(user, school, today: dt.date) -> dict:
    """The dashboard's training cards: the person's own items due soon or overdue (one query), and for those who
    keep the records, how many items and people are overdue and how many records wait (two queries)."""
    mine = list(
        Deadline.objects.filter(
            school=school, user=user, due_on__lte=today + dt.timedelta(days=DASHBOARD_WINDOW_DAYS)
        ).select_related("course")
    )
    summary = {"mine": mine, "today": today, "records": None}
    if has_permission(user, school, "training.view_records"):
        counts = (
            Deadline.objects.filter(school=school)
            .overdue(today)
            .aggregate(overdue=Count("pk"), people=Count("user", distinct=True))
        )
        counts["waiting"] = Completion.objects.at_school(school).pending().count()
        summary["records"] = counts
    return summary
