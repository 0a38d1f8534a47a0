"""Training actions: courses and settings, recording and confirming completions, the privacy self-check, stored due
dates and their reminders. Each checks permission, writes, audits and notifies.

Audit entries and notifications about the privacy self-check say only that it was done, never what was answered.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.notifications.actions import notify, resolve
from schoolgate.schools.permissions import PERMISSIONS, has_permission, require_permission
from schoolgate.training.due import compute_dues, settings_for
from schoolgate.training.models import (
    Completion,
    CompletionStatus,
    Course,
    CourseKind,
    Deadline,
    PrivacyCheck,
    TrainingSettings,
    staff_roles,
)
from schoolgate.training.privacy import ITEM_KEYS, Answer

MANAGE = "training.manage"
COURSE_FIELDS = ["name", "kind", "description", "roles", "renewal_months", "due_within_days", "is_active"]
SETTINGS_FIELDS = [
    "privacy_check_months",
    "privacy_check_due_within_days",
    "privacy_check_roles",
    "reminder_days_before",
]
# The courses every school starts with (AW §2): safe use of social media at induction, then revisited yearly.
DEFAULT_COURSES = [
    {
        "name": "Induction: safe use of social media",
        "kind": CourseKind.INDUCTION,
        "description": "The social media policy, the code of conduct and acceptable use, professional boundaries "
        "with pupils and families online, and keeping your own accounts private and safe.",
        "renewal_months": None,
        "due_within_days": 30,
    },
    {
        "name": "Annual refresher: social media and online safety",
        "kind": CourseKind.REFRESHER,
        "description": "What has changed in the policy and on the sites pupils use; recent concerns and lessons.",
        "renewal_months": 12,
        "due_within_days": 365,
    },
]


def _confirm_about(completion: Completion) -> str:
    return f"training:completion:{completion.pk}:confirm"


def _check_day(completed_on: dt.date) -> None:
    if completed_on > timezone.localdate():
        raise ValidationError({"completed_on": "That date is in the future. Give the day the training took place."})
    if completed_on.year < 2000:
        raise ValidationError({"completed_on": "Check the year: that date is too long ago."})


@transaction.atomic
def ensure_defaults(school) -> TrainingSettings:
    """The school's training settings and default courses, created the first time they are needed."""
    settings, created = TrainingSettings.objects.get_or_create(school=school)
    if created:
        for spec in DEFAULT_COURSES:
            Course.objects.get_or_create(school=school, name=spec["name"], defaults={**spec, "roles": staff_roles()})
        audit.log("training.defaults.created", actor="system", target=school, detail={"courses": len(DEFAULT_COURSES)})
    return settings


@transaction.atomic
def save_course(school, *, by, course: Course | None = None, **fields) -> Course:
    """Add a course or change one; everyone's due dates follow the new settings."""
    require_permission(by, school, MANAGE)
    unknown = set(fields) - set(COURSE_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown course fields: {', '.join(sorted(unknown))}")
    if course is not None and course.school_id != school.pk:
        raise PermissionDenied("That course belongs to another school.")
    before = {f: getattr(course, f) for f in COURSE_FIELDS} if course else {}
    course = course or Course(school=school)
    for field, value in fields.items():
        setattr(course, field, value)
    course.name = " ".join(course.name.split())
    course.full_clean(exclude=["school"])
    clash = Course.objects.filter(school=school, name__iexact=course.name).exclude(pk=course.pk)
    if clash.exists():
        raise ValidationError({"name": f"There is already a course called “{course.name}”."})
    created = course.pk is None
    course.save()
    after = {f: getattr(course, f) for f in COURSE_FIELDS}
    if created:
        audit.log("training.course.added", actor=by, target=course, detail=after)
    else:
        changes = audit.diff(before, after)
        if changes:
            audit.log("training.course.changed", actor=by, target=course, changes=changes)
    refresh_deadlines(school)
    return course


@transaction.atomic
def save_settings(school, *, by, **fields) -> TrainingSettings:
    require_permission(by, school, MANAGE)
    settings = ensure_defaults(school)
    before = {f: getattr(settings, f) for f in SETTINGS_FIELDS}
    for field, value in fields.items():
        if field not in SETTINGS_FIELDS:
            raise ValidationError(f"Unknown training setting: {field}")
        setattr(settings, field, value)
    settings.full_clean(exclude=["school"])
    changes = audit.diff(before, {f: getattr(settings, f) for f in SETTINGS_FIELDS})
    if changes:
        settings.save(update_fields=SETTINGS_FIELDS)
        audit.log("training.settings.changed", actor=by, target=school, changes=changes)
        refresh_deadlines(school, settings=settings)
    return settings


def _new_completion(course: Course, *, user, by, completed_on: dt.date, note: str) -> Completion:
    """A record by a leader about someone else counts at once; a record about oneself waits for someone else."""
    now = timezone.now()
    confirmed = user.pk != by.pk and has_permission(by, course.school, MANAGE)
    completion = Completion.objects.create(
        course=course,
        user=user,
        completed_on=completed_on,
        note=note.strip(),
        status=CompletionStatus.CONFIRMED if confirmed else CompletionStatus.PENDING,
        recorded_by=by,
        recorded_at=now,
        decided_by=by if confirmed else None,
        decided_at=now if confirmed else None,
    )
    audit.log(
        "training.completion.recorded",
        actor=by,
        target=completion,
        school=course.school,
        detail={"user": user.email, "course": course.name, "completed_on": completed_on, "status": completion.status},
    )
    if not confirmed:
        managers = [m for m in course.school.members_with_role(*PERMISSIONS[MANAGE]) if m.pk != user.pk]
        notify(
            managers,
            school=course.school,
            subject=f"Please confirm a training record: {user}",
            body=f"{user} recorded completing “{course.name}” on {completed_on:%-d %B %Y}. "
            "It counts once a leader or safeguarding lead confirms it.",
            url=reverse("training:records", args=[course.school.slug]) + "#waiting",
            about=_confirm_about(completion),
        )
    return completion


@transaction.atomic
def record_attendance(course: Course, *, by, users, completed_on: dt.date, note: str = "") -> list[Completion]:
    """A leader or safeguarding lead records who attended a course; it counts at once for everyone but themselves."""
    school = course.school
    require_permission(by, school, MANAGE)
    _check_day(completed_on)
    people = list(school.members().filter(pk__in=[u.pk for u in users]))
    if not people:
        raise ValidationError({"users": "Choose who attended."})
    if len(people) != len({u.pk for u in users}):
        raise ValidationError({"users": "Everyone recorded must be a member of the school."})
    # Recording the same session twice (a double click, two leaders) adds nobody twice.
    already = set(
        Completion.objects.filter(course=course, completed_on=completed_on, user__in=people)
        .exclude(status=CompletionStatus.DECLINED)
        .values_list("user_id", flat=True)
    )
    people = [p for p in people if p.pk not in already]
    if not people:
        raise ValidationError({"users": "Their attendance on that day is already recorded."})
    completions = [_new_completion(course, user=p, by=by, completed_on=completed_on, note=note) for p in people]
    refresh_deadlines(school, users=people)
    return completions


@transaction.atomic
def record_own_completion(course: Course, *, by, completed_on: dt.date, note: str = "") -> Completion:
    """A member records training they have done; it counts once a leader or safeguarding lead confirms it."""
    school = course.school
    require_permission(by, school, "school.view")
    if not course.is_active:
        raise ValidationError({"course": "That course is no longer required."})
    _check_day(completed_on)
    if Completion.objects.pending().filter(course=course, user=by).exists():
        raise ValidationError({"course": "You have already recorded this course; it is waiting for confirmation."})
    return _new_completion(course, user=by, by=by, completed_on=completed_on, note=note)


def _decide(completion: Completion, *, by, status: str, reason: str = "") -> Completion:
    school = completion.course.school
    require_permission(by, school, MANAGE)
    if completion.user_id == by.pk:
        raise PermissionDenied("Someone else confirms your own training record.")
    claimed = Completion.objects.filter(pk=completion.pk, status=CompletionStatus.PENDING).update(
        status=status, decided_by=by, decided_at=timezone.now(), decline_reason=reason
    )
    if not claimed:
        raise ValidationError("This record has already been confirmed or turned down.")
    completion.refresh_from_db()
    audit.log(
        f"training.completion.{status}",
        actor=by,
        target=completion,
        school=school,
        detail={"user": completion.user.email, "course": completion.course.name, "reason": reason or None},
    )
    resolve(_confirm_about(completion))
    return completion


@transaction.atomic
def confirm_completion(completion: Completion, *, by) -> Completion:
    completion = _decide(completion, by=by, status=CompletionStatus.CONFIRMED)
    refresh_deadlines(completion.course.school, users=[completion.user])
    return completion


@transaction.atomic
def decline_completion(completion: Completion, *, by, reason: str) -> Completion:
    """Turn down a record someone made of their own training (it did not happen, or not as recorded), with why."""
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": "Say why, so that they can put it right."})
    completion = _decide(completion, by=by, status=CompletionStatus.DECLINED, reason=reason)
    notify(
        [completion.user],
        school=completion.course.school,
        subject=f"Your training record was not confirmed: {completion.course.name}",
        body=f"{by} did not confirm your record of “{completion.course.name}”: {reason}",
        url=reverse("training:mine", args=[completion.course.school.slug]),
    )
    return completion


@transaction.atomic
def complete_privacy_check(school, *, by, answers: dict) -> PrivacyCheck:
    """Record that the person has been through the privacy self-check. The answers are for them: nothing about
    them goes into the audit log or any notification."""
    require_permission(by, school, "school.view")
    settings = settings_for(school)
    if not settings.requires_privacy_check(school.roles_of(by)):
        raise ValidationError("The privacy self-check is for the school's staff and volunteers.")
    missing = [key for key in ITEM_KEYS if answers.get(key) not in Answer.values]
    if missing:
        raise ValidationError(dict.fromkeys(missing, "Choose an answer."))
    check = PrivacyCheck.objects.create(
        school=school, user=by, completed_at=timezone.now(), answers={key: answers[key] for key in ITEM_KEYS}
    )
    audit.log("training.privacy_check.completed", actor=by, target=check, school=school)
    refresh_deadlines(school, users=[by])
    return check


def own_privacy_checks(school, *, user, by):
    """A person's own self-checks, answers included; nobody else's, whatever their role."""
    if by.pk != user.pk:
        raise PermissionDenied("The answers to the privacy self-check belong to the person who gave them.")
    return PrivacyCheck.objects.filter(school=school, user=user)


@transaction.atomic
def refresh_deadlines(school, *, users=None, settings: TrainingSettings | None = None) -> int:
    """Store each person's next due date per duty, as computed from the records; rows for duties that are done (or
    no longer required) go. A changed due date starts its reminders afresh. Returns how many rows changed."""
    dues = {(d.user_id, d.course_id): d.due_on for d in compute_dues(school, users=users, settings=settings)}
    existing = Deadline.objects.filter(school=school)
    if users is not None:
        existing = existing.filter(user__in=[getattr(u, "pk", u) for u in users])
    rows = {(d.user_id, d.course_id): d for d in existing}
    changed = 0
    for key, row in rows.items():
        due_on = dues.get(key)
        if due_on is None:
            resolve(row.about())
            row.delete()
            changed += 1
        elif row.due_on != due_on:
            resolve(row.about())
            row.due_on, row.reminded_before_at, row.reminded_overdue_at = due_on, None, None
            row.save(update_fields=["due_on", "reminded_before_at", "reminded_overdue_at"])
            changed += 1
    new = [
        Deadline(school=school, user_id=user_id, course_id=course_id, due_on=due_on)
        for (user_id, course_id), due_on in dues.items()
        if due_on is not None and (user_id, course_id) not in rows
    ]
    Deadline.objects.bulk_create(new)
    return changed + len(new)


def reminders_owed(school, today: dt.date) -> list[tuple[int, str]]:
    """(deadline id, "before" or "overdue") for every reminder not yet sent."""
    settings = settings_for(school)
    horizon = today + dt.timedelta(days=settings.reminder_days_before)
    rows = Deadline.objects.filter(school=school, user__is_active=True).filter(
        Q(due_on__lt=today, reminded_overdue_at__isnull=True)
        | Q(due_on__gte=today, due_on__lte=horizon, reminded_before_at__isnull=True)
    )
    return [(pk, "overdue" if due_on < today else "before") for pk, due_on in rows.values_list("pk", "due_on")]


@transaction.atomic
def send_deadline_reminder(deadline_id: int, *, step: str) -> bool:
    """Remind the person once before a duty is due and once when it is overdue. The conditional update claims the
    reminder for this due date, so a second run (or a second worker) sends nothing."""
    deadline = Deadline.objects.select_related("school", "user", "course").filter(pk=deadline_id).first()
    if deadline is None or not deadline.user.is_active:
        return False
    today, now = timezone.localdate(), timezone.now()
    unclaimed = Deadline.objects.filter(pk=deadline.pk, due_on=deadline.due_on)
    if step == "overdue":
        if deadline.due_on >= today:
            return False
        # Someone already overdue when the duty appeared gets only this one, not a "due soon" after it.
        claimed = unclaimed.filter(reminded_overdue_at__isnull=True).update(
            reminded_overdue_at=now, reminded_before_at=Coalesce("reminded_before_at", now)
        )
    elif step == "before":
        horizon = today + dt.timedelta(days=settings_for(deadline.school).reminder_days_before)
        if not today <= deadline.due_on <= horizon:
            return False
        claimed = unclaimed.filter(reminded_before_at__isnull=True).update(reminded_before_at=now)
    else:
        raise ValueError(f"Unknown reminder step: {step}")
    if not claimed:
        return False
    when = f"{deadline.due_on:%-d %B %Y}"
    what = deadline.duty_name if deadline.course_id else "Your privacy self-check"
    subject = f"{what} was due on {when}" if step == "overdue" else f"{what} is due by {when}"
    if deadline.course_id:
        body = (
            f"“{deadline.course.name}” was due on {when}. Book a place, or record it if you have done it."
            if step == "overdue"
            else f"“{deadline.course.name}” is due by {when}. Book a place, or record it once you have done it."
        )
    else:
        body = "It takes two minutes: check the privacy of your personal accounts against the list, and confirm." + (
            f" It was due on {when}." if step == "overdue" else f" Please do it by {when}."
        )
    notify(
        [deadline.user],
        school=deadline.school,
        subject=subject,
        body=body,
        url=reverse("training:mine", args=[deadline.school.slug]),
        about=deadline.about(),
    )
    audit.log(
        "training.reminder.sent",
        actor="system",
        target=deadline,
        school=deadline.school,
        detail={"step": step, "user": deadline.user.email, "due_on": deadline.due_on},
    )
    return True
