"""Policy reviews (RS-LIFE-1): reminder steps, the daily sweep, and the overdue flag on the pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from schoolgate.audit.models import AuditEntry
from schoolgate.notifications.models import Notification
from schoolgate.policy.actions import start_new_version
from schoolgate.policy.models import (
    Document,
    DocumentKind,
    DocumentVersion,
    ReviewReminder,
    VersionStatus,
    add_months,
)
from schoolgate.policy.reviews import reminder_key
from schoolgate.policy.tasks import remind_policy_review, sweep_policy_reviews
from schoolgate.testing import make_school

pytestmark = [pytest.mark.django_db, pytest.mark.clause("RS-LIFE-1")]


def review_in(version: DocumentVersion, days: int) -> DocumentVersion:
    """Put the next review `days` from today (negative: past), as if approved one cycle before."""
    next_review_on = timezone.localdate() + dt.timedelta(days=days)
    version.next_review_on = next_review_on
    version.reviewed_on = add_months(next_review_on, -version.review_cycle_months)
    version.save(update_fields=["next_review_on", "reviewed_on"])
    return version


def reminded(cast) -> set:
    return set(
        Notification.objects.filter(school=cast.school, subject__contains="review").values_list("user_id", flat=True)
    )


def leaders_and_approvers(cast) -> set:
    return {cast.head.pk, cast.leader.pk, cast.chair.pk}


# Which reminder a day owes


JUNE_1 = dt.date(2025, 6, 1)


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [
        (365, None),
        (31, None),
        (30, "due-in-30"),
        (20, "due-in-30"),
        (8, "due-in-30"),
        (7, "due-in-7"),
        (1, "due-in-7"),
        (0, "due-in-7"),
    ],
)
def test_it_names_the_reminder_step_before_the_review_date(days_left, expected):
    assert reminder_key(JUNE_1 + dt.timedelta(days=days_left), JUNE_1) == expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2025, 6, 4), "overdue-2025-W23"),
        (dt.date(2025, 1, 6), "overdue-2025-W02"),
        # ISO weeks, not calendar years: 1 January 2027 is in week 53 of 2026.
        (dt.date(2027, 1, 1), "overdue-2026-W53"),
    ],
)
def test_it_names_one_overdue_reminder_per_iso_week(today, expected):
    assert reminder_key(dt.date(2024, 12, 1), today) == expected


def test_it_owes_the_same_overdue_reminder_all_week_and_a_new_one_the_next_week():
    due = dt.date(2025, 5, 1)
    monday, sunday, next_monday = dt.date(2025, 6, 2), dt.date(2025, 6, 8), dt.date(2025, 6, 9)

    assert reminder_key(due, monday) == reminder_key(due, sunday)
    assert reminder_key(due, next_monday) != reminder_key(due, sunday)


def test_it_calls_a_review_overdue_only_after_the_review_date(cast):
    version = cast.policy
    version.next_review_on = JUNE_1

    assert version.review_state(JUNE_1 - dt.timedelta(days=31)) == "ok"
    assert version.review_state(JUNE_1 - dt.timedelta(days=30)) == "due"
    assert version.review_state(JUNE_1) == "due"
    assert version.review_state(JUNE_1 + dt.timedelta(days=1)) == "overdue"
    version.next_review_on = None
    assert version.review_state(JUNE_1) == "ok"


# The sweep and the reminder job


def test_it_reminds_leaders_and_approvers_once_per_step_when_the_sweep_runs_twice(cast):
    review_in(cast.policy, 20)

    assert sweep_policy_reviews.call_local() == 1
    assert sweep_policy_reviews.call_local() == 1

    assert list(ReviewReminder.objects.values_list("version_id", "key")) == [(cast.policy.pk, "due-in-30")]
    notices = Notification.objects.filter(school=cast.school)
    assert sorted(notices.values_list("user_id", flat=True)) == sorted(leaders_and_approvers(cast))
    when = cast.policy.next_review_on
    assert {n.subject for n in notices} == {f"Social media policy review due ({when.day} {when:%B %Y})"}
    assert {n.url for n in notices} == {f"/s/{cast.school.slug}/policy/"}
    assert AuditEntry.objects.filter(action="policy.review.reminded").count() == 1


def test_it_does_not_tell_staff_governors_or_safeguarding_leads_about_reviews(cast):
    review_in(cast.policy, 5)

    sweep_policy_reviews.call_local()

    told = reminded(cast)
    for person in (cast.dsl, cast.deputy_dsl, cast.alice, cast.bob, cast.volunteer, cast.governor):
        assert person.pk not in told


def test_it_sends_the_next_step_when_the_review_date_comes_closer(cast):
    review_in(cast.policy, 25)
    sweep_policy_reviews.call_local()

    review_in(cast.policy, 6)
    sweep_policy_reviews.call_local()
    sweep_policy_reviews.call_local()

    assert set(ReviewReminder.objects.values_list("key", flat=True)) == {"due-in-30", "due-in-7"}
    for person in (cast.head, cast.leader, cast.chair):
        assert Notification.objects.filter(user=person, subject__contains="review due").count() == 2


def test_it_reminds_weekly_once_the_review_is_overdue(cast):
    review_in(cast.policy, -3)

    sweep_policy_reviews.call_local()
    sweep_policy_reviews.call_local()

    year, week, _ = timezone.localdate().isocalendar()
    assert list(ReviewReminder.objects.values_list("key", flat=True)) == [f"overdue-{year}-W{week:02d}"]
    notices = Notification.objects.filter(school=cast.school)
    assert sorted(notices.values_list("user_id", flat=True)) == sorted(leaders_and_approvers(cast))
    assert all("review overdue" in n.subject for n in notices)
    assert all("was due for review on" in n.body for n in notices)


def test_it_reminds_nobody_while_the_review_is_more_than_thirty_days_away(cast):
    review_in(cast.policy, 31)

    assert sweep_policy_reviews.call_local() == 0

    assert not ReviewReminder.objects.exists()
    assert not Notification.objects.exists()


def test_it_reminds_only_the_school_whose_review_is_due(cast):
    other = make_school("Other School")
    review_in(cast.policy, 10)
    review_in(other.policy, 200)

    sweep_policy_reviews.call_local()

    assert reminded(cast) == leaders_and_approvers(cast)
    assert not Notification.objects.filter(user__in=[other.head, other.leader, other.chair]).exists()


def test_it_sends_a_reminder_from_the_job_once(cast):
    review_in(cast.policy, 7)

    assert remind_policy_review.call_local(cast.policy.pk) is True
    assert remind_policy_review.call_local(cast.policy.pk) is False

    assert ReviewReminder.objects.get().key == "due-in-7"
    for person in (cast.head, cast.leader, cast.chair):
        assert Notification.objects.filter(user=person).count() == 1


def test_it_does_not_remind_about_a_version_that_is_no_longer_in_force(cast):
    review_in(cast.policy, -10)
    DocumentVersion.objects.filter(pk=cast.policy.pk).update(status=VersionStatus.SUPERSEDED)

    assert remind_policy_review.call_local(cast.policy.pk) is False
    assert sweep_policy_reviews.call_local() == 0
    assert not Notification.objects.exists()


def test_it_does_not_remind_about_a_draft(cast):
    draft = start_new_version(cast.policy.document, by=cast.head)
    DocumentVersion.objects.filter(pk=draft.pk).update(next_review_on=timezone.localdate())

    assert remind_policy_review.call_local(draft.pk) is False
    assert not ReviewReminder.objects.exists()


def test_it_reminds_about_related_documents_too(cast):
    conduct = Document.objects.create(
        school=cast.school, kind=DocumentKind.CODE_OF_CONDUCT, title="Staff code of conduct"
    )
    version = DocumentVersion.objects.create(
        document=conduct, number=1, status=VersionStatus.CURRENT, text="Be kind.", drafted_at=timezone.now()
    )
    review_in(version, 3)

    assert sweep_policy_reviews.call_local() == 1

    assert ReviewReminder.objects.get().version == version
    assert Notification.objects.filter(user=cast.head, subject__startswith="Staff code of conduct review due")


# What the pages show


def test_it_shows_the_next_review_date_on_the_policy_page(client, cast):
    review_in(cast.policy, 200)
    client.force_login(cast.alice)

    page = client.get(f"/s/{cast.school.slug}/policy/").content.decode()

    when, last = cast.policy.next_review_on, cast.policy.reviewed_on
    assert f"{when.day} {when:%B %Y}" in page
    assert f"{last.day} {last:%B %Y}" in page
    assert "Up to date" in page
    assert "Review overdue" not in page


def test_it_flags_an_overdue_review_on_the_policy_page(client, cast):
    review_in(cast.policy, -1)
    client.force_login(cast.alice)

    page = client.get(f"/s/{cast.school.slug}/policy/").content.decode()

    assert "Review overdue" in page
    assert "Up to date" not in page


def test_it_flags_a_review_due_soon_on_the_policy_page(client, cast):
    review_in(cast.policy, 10)
    client.force_login(cast.alice)

    page = client.get(f"/s/{cast.school.slug}/policy/").content.decode()

    assert "Review due soon" in page
    assert "Review overdue" not in page


def test_it_flags_an_overdue_review_on_the_dashboard(client, cast):
    review_in(cast.policy, -40)
    client.force_login(cast.head)

    page = client.get(f"/s/{cast.school.slug}/").content.decode()

    when = cast.policy.next_review_on
    assert "Review overdue" in page
    assert f"{when.day} {when:%B %Y}" in page


def test_it_shows_an_up_to_date_review_on_the_dashboard(client, cast):
    review_in(cast.policy, 100)
    client.force_login(cast.head)

    page = client.get(f"/s/{cast.school.slug}/").content.decode()

    assert "Up to date" in page
    assert "Review overdue" not in page
