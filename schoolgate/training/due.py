"""When each person's training and privacy self-check fall due, computed from the school's records and settings.

One rule for every duty: first due a number of days after the person joined the school (or after the course was
added, if later); once done, due again after the renewal interval, or never for a course taken once. A record
counts only once confirmed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max
from django.utils import timezone

from schoolgate.policy.models import add_months
from schoolgate.schools.models import Membership
from schoolgate.training.models import Completion, Course, PrivacyCheck, TrainingSettings

PRIVACY_CHECK = "Privacy self-check"


@dataclass(frozen=True)
class Due:
    """One duty of one person: when it was last done and when it is next due (None: done, nothing due)."""

    user_id: int
    course: Course | None  # None: the privacy self-check
    joined_on: dt.date
    last_done_on: dt.date | None
    due_on: dt.date | None

    @property
    def name(self) -> str:
        return self.course.name if self.course else PRIVACY_CHECK

    @property
    def course_id(self) -> int | None:
        return self.course.pk if self.course else None

    def state(self, today: dt.date, *, soon_days: int) -> str:
        """'done' (nothing due), 'overdue', 'due' (within `soon_days`) or 'ok'."""
        if self.due_on is None:
            return "done"
        if self.due_on < today:
            return "overdue"
        if (self.due_on - today).days <= soon_days:
            return "due"
        return "ok"


def course_due_on(course: Course, *, joined_on: dt.date, last_done_on: dt.date | None) -> dt.date | None:
    if last_done_on is None:
        start = max(joined_on, timezone.localdate(course.created_at))
        return start + dt.timedelta(days=course.due_within_days)
    if course.renewal_months:
        return add_months(last_done_on, course.renewal_months)
    return None


def privacy_check_due_on(settings: TrainingSettings, *, joined_on: dt.date, last_done_on: dt.date | None) -> dt.date:
    if last_done_on is None:
        return joined_on + dt.timedelta(days=settings.privacy_check_due_within_days)
    return add_months(last_done_on, settings.privacy_check_months)


def settings_for(school) -> TrainingSettings:
    """The school's settings, or the defaults (unsaved) before it has any."""
    return TrainingSettings.objects.filter(school=school).first() or TrainingSettings(school=school)


def compute_dues(school, *, users=None, settings: TrainingSettings | None = None) -> list[Due]:
    """Every duty of every active member (or of `users`) at the school, in five queries whatever its size.

    A person's start is their earliest membership in a role the duty is required of (Membership.created_at).
    """
    settings = settings or settings_for(school)
    memberships = Membership.objects.filter(school=school, user__is_active=True)
    completions = Completion.objects.confirmed().filter(course__school=school)
    checks = PrivacyCheck.objects.filter(school=school)
    if users is not None:
        ids = [getattr(user, "pk", user) for user in users]
        memberships, completions, checks = (
            memberships.filter(user__in=ids),
            completions.filter(user__in=ids),
            checks.filter(user__in=ids),
        )
    joined: dict[int, dict[str, dt.date]] = {}
    for user_id, role, created_at in memberships.values_list("user_id", "role", "created_at"):
        day = timezone.localdate(created_at)
        roles = joined.setdefault(user_id, {})
        roles[role] = min(day, roles.get(role, day))
    last_course = {
        (row["user_id"], row["course_id"]): row["last"]
        for row in completions.values("user_id", "course_id").annotate(last=Max("completed_on"))
    }
    last_check = {
        row["user_id"]: timezone.localdate(row["last"])
        for row in checks.values("user_id").annotate(last=Max("completed_at"))
    }
    courses = list(Course.objects.filter(school=school, is_active=True))
    dues = []
    for user_id, roles in joined.items():
        for course in courses:
            starts = [day for role, day in roles.items() if role in course.roles]
            if not starts:
                continue
            last = last_course.get((user_id, course.pk))
            due_on = course_due_on(course, joined_on=min(starts), last_done_on=last)
            dues.append(Due(user_id, course, min(starts), last, due_on))
        starts = [day for role, day in roles.items() if role in settings.privacy_check_roles]
        if starts:
            last = last_check.get(user_id)
            due_on = privacy_check_due_on(settings, joined_on=min(starts), last_done_on=last)
            dues.append(Due(user_id, None, min(starts), last, due_on))
    return dues


def missing_for_drafting(school, user, *, rule: str) -> list[str]:
    """What the policy's training-before-drafting rule (policy.models.DraftingTraining) still asks of this person:
    the induction courses required of their roles with no confirmed completion, or every overdue duty."""
    from schoolgate.policy.models import DraftingTraining

    if rule == DraftingTraining.NONE:
        return []
    today = timezone.localdate()
    dues = compute_dues(school, users=[user])
    if rule == DraftingTraining.INDUCTION:
        from schoolgate.training.models import CourseKind

        return [d.name for d in dues if d.course and d.course.kind == CourseKind.INDUCTION and d.last_done_on is None]
    return [d.name for d in dues if d.state(today, soon_days=0) == "overdue"]
