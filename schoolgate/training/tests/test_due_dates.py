"""Each person's due date per course, from the course's settings and the records (AW-STAFF-1, RS-ROLE-3)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from schoolgate.policy.models import add_months
from schoolgate.schools.roles import Role
from schoolgate.training.actions import (
    confirm_completion,
    record_attendance,
    record_own_completion,
    save_course,
    save_settings,
)
from schoolgate.training.models import Course, CourseKind, TrainingSettings
from schoolgate.training.tests.helpers import days, due_of, induction, joined, refresher, set_up

pytestmark = pytest.mark.django_db


@pytest.mark.clause("AW-STAFF-1")
def test_it_makes_induction_due_the_courses_days_after_a_person_joins(cast):
    set_up(cast)
    start = joined(cast, cast.alice, 10)

    assert due_of(cast, cast.alice, induction(cast)).due_on == start + dt.timedelta(days=30)

    save_course(cast.school, by=cast.head, course=induction(cast), due_within_days=14)

    assert due_of(cast, cast.alice, induction(cast)).due_on == start + dt.timedelta(days=14)


@pytest.mark.clause("AW-STAFF-1")
def test_it_renews_the_refresher_the_courses_months_after_the_last_confirmed_completion(cast):
    set_up(cast)
    done_on = days(-20)
    record_attendance(refresher(cast), by=cast.dsl, users=[cast.alice, cast.bob], completed_on=done_on)

    assert due_of(cast, cast.alice, refresher(cast)).due_on == add_months(done_on, 12)
    assert due_of(cast, cast.alice, refresher(cast)).last_done_on == done_on

    save_course(cast.school, by=cast.leader, course=refresher(cast), renewal_months=6)

    assert due_of(cast, cast.bob, refresher(cast)).due_on == add_months(done_on, 6)


@pytest.mark.clause("AW-STAFF-1")
def test_it_makes_a_one_off_course_done_once_completed(cast):
    set_up(cast)
    record_attendance(induction(cast), by=cast.head, users=[cast.alice], completed_on=days(-400))

    due = due_of(cast, cast.alice, induction(cast))

    assert due.due_on is None
    assert due.state(timezone.localdate(), soon_days=14) == "done"
    assert due_of(cast, cast.bob, induction(cast)).state(timezone.localdate(), soon_days=14) == "overdue"


@pytest.mark.clause("RS-ROLE-3")
def test_it_counts_a_self_recorded_completion_only_once_a_leader_confirms_it(cast):
    set_up(cast)
    completion = record_own_completion(induction(cast), by=cast.alice, completed_on=days(-1), note="Cert 42")

    assert completion.status == "pending"
    assert due_of(cast, cast.alice, induction(cast)).due_on is not None  # still owed

    confirm_completion(completion, by=cast.leader)

    assert due_of(cast, cast.alice, induction(cast)).due_on is None


def test_it_dates_a_course_added_later_from_the_day_it_was_added(cast):
    set_up(cast)
    course = save_course(
        cast.school,
        by=cast.head,
        name="Safeguarding for DSLs",
        kind=CourseKind.OTHER,
        roles=[Role.DSL, Role.DEPUTY_DSL],
        renewal_months=24,
        due_within_days=90,
    )

    assert due_of(cast, cast.dsl, course).due_on == timezone.localdate() + dt.timedelta(days=90)
    assert due_of(cast, cast.alice, course) is None  # not required of staff


def test_it_requires_the_default_courses_of_staff_and_volunteers_but_not_governors(cast):
    set_up(cast)

    assert due_of(cast, cast.volunteer, induction(cast)) is not None
    assert due_of(cast, cast.governor, induction(cast)) is None
    assert due_of(cast, cast.chair, refresher(cast)) is None


def test_it_stops_requiring_a_course_that_is_turned_off(cast):
    set_up(cast)
    save_course(cast.school, by=cast.head, course=refresher(cast), is_active=False)

    assert due_of(cast, cast.alice, refresher(cast)) is None
    assert Course.objects.filter(school=cast.school).count() == 2  # the records stay


def test_it_dates_the_privacy_self_check_from_joining_then_from_the_last_check(cast):
    set_up(cast)
    start = joined(cast, cast.alice, 5)

    assert due_of(cast, cast.alice, None).due_on == start + dt.timedelta(days=30)

    save_settings(cast.school, by=cast.head, privacy_check_due_within_days=10)

    assert due_of(cast, cast.alice, None).due_on == start + dt.timedelta(days=10)


def test_it_creates_the_default_courses_and_settings_once_per_school(cast):
    from schoolgate.testing import make_school

    other = make_school("Other School")
    set_up(cast)
    set_up(cast)
    set_up(other)

    assert Course.objects.filter(school=cast.school).count() == 2
    assert Course.objects.filter(school=other.school).count() == 2
    assert TrainingSettings.objects.count() == 2
    assert {c.kind for c in Course.objects.filter(school=cast.school)} == {CourseKind.INDUCTION, CourseKind.REFRESHER}


@pytest.mark.clause("AW-STAFF-1")
def test_it_gives_a_new_member_their_due_dates_at_once_and_drops_them_when_they_leave(cast):
    from django.test import TestCase

    from schoolgate.schools.actions import add_member, remove_member
    from schoolgate.training.models import Deadline

    set_up(cast)
    with TestCase.captureOnCommitCallbacks(execute=True):
        membership = add_member(
            cast.school, by=cast.head, email="new.teacher@example.org", full_name="Nia New", role=Role.STAFF
        )
    stored = Deadline.objects.get(user=membership.user, course=induction(cast))
    assert stored.due_on == timezone.localdate() + dt.timedelta(days=induction(cast).due_within_days)

    with TestCase.captureOnCommitCallbacks(execute=True):
        remove_member(membership, by=cast.head)
    assert not Deadline.objects.filter(user=membership.user).exists()
