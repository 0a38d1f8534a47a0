"""Shared helpers for the training tests: a school set up with its default courses, joining dates, dues."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from schoolgate.schools.models import Membership
from schoolgate.training.actions import ensure_defaults
from schoolgate.training.due import compute_dues
from schoolgate.training.models import Course, CourseKind
from schoolgate.training.privacy import ITEM_KEYS, Answer

LONG_AGO = 3 * 365  # days: people (and the default courses) who joined before any of this started


def set_up(cast, *, joined_days_ago: int = LONG_AGO) -> None:
    """The school's default courses, added long ago, and everyone joined `joined_days_ago` days ago."""
    ensure_defaults(cast.school)
    Course.objects.filter(school=cast.school).update(created_at=timezone.now() - dt.timedelta(days=LONG_AGO + 10))
    Membership.objects.filter(school=cast.school).update(created_at=timezone.now() - dt.timedelta(days=joined_days_ago))


def joined(cast, user, days_ago: int) -> dt.date:
    Membership.objects.filter(school=cast.school, user=user).update(
        created_at=timezone.now() - dt.timedelta(days=days_ago)
    )
    return timezone.localdate() - dt.timedelta(days=days_ago)


def induction(cast) -> Course:
    return Course.objects.get(school=cast.school, kind=CourseKind.INDUCTION)


def refresher(cast) -> Course:
    return Course.objects.get(school=cast.school, kind=CourseKind.REFRESHER)


def due_of(cast, user, course: Course | None):
    """The person's Due for the course (None: the privacy self-check); None when it is not required of them."""
    course_id = course.pk if course else None
    return next((d for d in compute_dues(cast.school, users=[user]) if d.course_id == course_id), None)


def days(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)


def all_answers(answer: str = Answer.YES) -> dict:
    return dict.fromkeys(ITEM_KEYS, answer)
