"""Reminders before training or the privacy self-check is due, and when overdue: each sent once (AW-STAFF-1/2)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from schoolgate.notifications.models import Notification
from schoolgate.schools.models import Membership
from schoolgate.schools.roles import Role
from schoolgate.testing import make_user
from schoolgate.training.actions import complete_privacy_check, record_attendance, send_deadline_reminder
from schoolgate.training.models import Completion, Deadline, PrivacyCheck
from schoolgate.training.tasks import refresh_training_deadlines, sweep_training_reminders
from schoolgate.training.tests.helpers import all_answers, days, induction, joined, refresher, set_up

pytestmark = pytest.mark.django_db


def notices(user, course_name: str):
    return Notification.objects.filter(user=user, subject__startswith=course_name)


def only_induction_owed(cast, users):
    """Everyone else (and every other duty) up to date, so the reminders counted are the ones under test."""
    others = [p for p in cast.everyone() if p not in users]
    record_attendance(induction(cast), by=cast.head, users=[p for p in others if p != cast.head], completed_on=days(-1))
    record_attendance(induction(cast), by=cast.dsl, users=[cast.head], completed_on=days(-1))
    record_attendance(
        refresher(cast), by=cast.head, users=[p for p in cast.everyone() if p != cast.head], completed_on=days(-1)
    )
    record_attendance(refresher(cast), by=cast.dsl, users=[cast.head], completed_on=days(-1))
    for person in cast.everyone():
        if person not in (cast.governor, cast.chair):
            complete_privacy_check(cast.school, by=person, answers=all_answers())


@pytest.mark.clause("AW-STAFF-1")
def test_it_reminds_once_before_training_is_due_however_often_the_sweep_runs(
    cast, mailoutbox, django_capture_on_commit_callbacks
):
    set_up(cast)
    only_induction_owed(cast, [cast.alice])
    joined(cast, cast.alice, 20)  # induction due in 10 days; reminders go 14 days before

    with django_capture_on_commit_callbacks(execute=True):
        sweep_training_reminders.call_local()
        sweep_training_reminders.call_local()

    (notice,) = notices(cast.alice, "Induction")
    assert "is due by" in notice.subject
    assert [m.to for m in mailoutbox] == [[cast.alice.email]]


@pytest.mark.clause("AW-STAFF-1")
def test_it_reminds_once_when_training_is_overdue_and_not_about_it_being_due_soon(
    cast, mailoutbox, django_capture_on_commit_callbacks
):
    set_up(cast)
    only_induction_owed(cast, [cast.bob])
    joined(cast, cast.bob, 45)  # due 15 days ago

    with django_capture_on_commit_callbacks(execute=True):
        sweep_training_reminders.call_local()
        sweep_training_reminders.call_local()

    (notice,) = notices(cast.bob, "Induction")
    assert "was due on" in notice.subject
    assert len(mailoutbox) == 1


@pytest.mark.clause("AW-STAFF-2")
def test_it_reminds_once_when_the_privacy_self_check_is_due(cast, mailoutbox, django_capture_on_commit_callbacks):
    set_up(cast)
    only_induction_owed(cast, [])
    # Alice's last check was 11 and a half months ago: the next is due within the fortnight.
    PrivacyCheck.objects.filter(user=cast.alice).update(completed_at=timezone.now() - dt.timedelta(days=355))

    with django_capture_on_commit_callbacks(execute=True):
        sweep_training_reminders.call_local()
        sweep_training_reminders.call_local()

    (notice,) = Notification.objects.filter(user=cast.alice, subject__startswith="Your privacy self-check")
    assert "is due by" in notice.subject
    assert "not_yet" not in notice.body and "Done" not in notice.body
    assert len(mailoutbox) == 1


def test_it_sends_nothing_while_nothing_is_due_soon(cast):
    set_up(cast)
    only_induction_owed(cast, [])
    before = Notification.objects.count()

    assert sweep_training_reminders.call_local() == 0
    assert Notification.objects.count() == before


@pytest.mark.clause("AW-STAFF-1")
def test_it_claims_each_reminder_once_when_two_jobs_run(cast):
    set_up(cast)
    joined(cast, cast.alice, 40)  # overdue
    joined(cast, cast.bob, 20)  # due in 10 days
    refresh_training_deadlines.call_local()
    overdue = Deadline.objects.get(user=cast.alice, course=induction(cast))
    soon = Deadline.objects.get(user=cast.bob, course=induction(cast))

    assert send_deadline_reminder(overdue.pk, step="overdue") is True
    assert send_deadline_reminder(overdue.pk, step="overdue") is False
    assert send_deadline_reminder(overdue.pk, step="before") is False
    assert send_deadline_reminder(soon.pk, step="before") is True
    assert send_deadline_reminder(soon.pk, step="before") is False
    assert send_deadline_reminder(soon.pk, step="overdue") is False  # not overdue yet
    assert notices(cast.alice, "Induction").count() == notices(cast.bob, "Induction").count() == 1


def test_it_starts_the_reminders_afresh_for_the_next_due_date_and_clears_the_old_one(cast):
    set_up(cast)
    only_induction_owed(cast, [])
    # Alice's refresher was a year ago: overdue, reminded.
    Completion.objects.filter(user=cast.alice, course=refresher(cast)).update(completed_on=days(-370))
    sweep_training_reminders.call_local()
    (first,) = notices(cast.alice, "Annual refresher")

    record_attendance(refresher(cast), by=cast.head, users=[cast.alice], completed_on=days(0))

    first.refresh_from_db()
    assert first.resolved_at is not None
    deadline = Deadline.objects.get(user=cast.alice, course=refresher(cast))
    assert deadline.due_on > days(300) and deadline.reminded_overdue_at is None


def test_it_keeps_the_stored_due_dates_in_step_with_people_joining(cast):
    set_up(cast)
    refresh_training_deadlines.call_local()
    newcomer = make_user("Nia Newcomer")
    Membership.objects.create(school=cast.school, user=newcomer, role=Role.STAFF)
    refresh_training_deadlines.call_local()

    assert Deadline.objects.filter(user=newcomer).count() == 3  # induction, refresher, privacy self-check
