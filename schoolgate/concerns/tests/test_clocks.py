"""The LADO (one working day) and ICO (72 clock hours) clocks, across weekends, bank holidays and closures,
and the sweep that warns the readers, without content, before they run out (RS-CON-1)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from schoolgate.concerns import access, actions
from schoolgate.concerns.clocks import SchoolCalendar
from schoolgate.concerns.models import Category, Clock, ConcernSettings
from schoolgate.concerns.tests.helpers import SECRET, report
from schoolgate.notifications.models import Notification
from schoolgate.schools.models import Closure

pytestmark = pytest.mark.django_db


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=timezone.get_current_timezone())


def reported_at(cast, moment, **kwargs):
    from unittest import mock

    with mock.patch("django.utils.timezone.now", return_value=moment):
        return report(cast, happened_on=moment.date(), **kwargs)


def test_it_makes_a_lado_referral_due_one_working_day_later_across_a_weekend_and_a_bank_holiday(cast):
    # Friday 22 May 2026, 15:00; Monday 25 May is the Spring bank holiday in England: due Tuesday 15:00.
    concern = reported_at(cast, at(2026, 5, 22, 15, 0), staff=[cast.bob], category=Category.STAFF_CONDUCT)
    assert timezone.localtime(concern.clocks.get(kind="lado").due_at) == at(2026, 5, 26, 15, 0)
    # Recorded on the Saturday: counted from the start of the next working day, so due at the end of it.
    saturday = reported_at(cast, at(2026, 5, 23, 10, 0), staff=[cast.bob], category=Category.STAFF_CONDUCT)
    assert timezone.localtime(saturday.clocks.get().due_at) == at(2026, 5, 27, 0, 0)


def test_it_counts_the_bank_holidays_of_the_schools_nation(cast):
    # 4 August 2025 is a bank holiday in Scotland only.
    cast.policy.settings.bank_holiday_nation = "SCT"
    cast.policy.settings.save(update_fields=["bank_holiday_nation"])
    assert SchoolCalendar(cast.school).add_working_days(at(2025, 8, 1, 9, 0), 1) == at(2025, 8, 5, 9, 0)
    cast.policy.settings.bank_holiday_nation = "ENG"
    cast.policy.settings.save(update_fields=["bank_holiday_nation"])
    assert SchoolCalendar(cast.school).add_working_days(at(2025, 8, 1, 9, 0), 1) == at(2025, 8, 4, 9, 0)


def test_it_counts_school_closures_as_working_days_for_the_lado_unless_the_school_says_otherwise(cast):
    # The LADO works through school holidays, so by default a closure does not delay the referral.
    Closure.objects.create(
        school=cast.school, starts_on=dt.date(2026, 6, 1), ends_on=dt.date(2026, 6, 2), label="INSET"
    )
    concern = reported_at(cast, at(2026, 5, 29, 11, 0), staff=[cast.bob], category=Category.COLLEAGUE_ABUSE)
    assert timezone.localtime(concern.clocks.get().due_at) == at(2026, 6, 1, 11, 0)

    ConcernSettings.objects.update_or_create(school=cast.school, defaults={"closures_stop_working_days": True})
    del cast.school._concern_settings  # read once per school object, as in a request
    concern = reported_at(cast, at(2026, 5, 29, 11, 0), staff=[cast.bob], category=Category.COLLEAGUE_ABUSE)
    assert timezone.localtime(concern.clocks.get().due_at) == at(2026, 6, 3, 11, 0)


@pytest.mark.clause("RS-CON-1")
def test_it_gives_a_data_breach_72_clock_hours_weekend_and_bank_holiday_included(cast):
    concern = reported_at(cast, at(2026, 5, 22, 15, 0), category=Category.DATA_BREACH)
    clock = concern.clocks.get()
    assert clock.kind == "ico" and clock.due_at == at(2026, 5, 25, 15, 0)


@pytest.mark.clause("RS-CON-1")
def test_it_warns_the_readers_before_a_clock_runs_out_and_again_when_it_has_once_each(cast):
    concern = reported_at(cast, at(2026, 5, 22, 15, 0), category=Category.DATA_BREACH, text=SECRET)
    due = concern.clocks.get().due_at
    assert actions.sweep_clocks(due - dt.timedelta(hours=7)) == 0
    assert actions.sweep_clocks(due - dt.timedelta(hours=5)) == 1
    assert actions.sweep_clocks(due - dt.timedelta(hours=4)) == 0
    assert actions.sweep_clocks(due + dt.timedelta(minutes=1)) == 1
    assert actions.sweep_clocks(due + dt.timedelta(hours=1)) == 0
    notices = Notification.objects.filter(subject__contains="deadline")
    assert {n.user for n in notices if "near" in n.subject} == {cast.head, cast.dsl, cast.deputy_dsl}
    assert notices.filter(subject="A safeguarding deadline has passed").count() == 3
    assert all(SECRET not in n.body and "breach" not in n.body.lower() for n in notices)


@pytest.mark.clause("RS-CON-1")
def test_it_stops_the_ico_clock_only_with_a_notification_or_a_reasoned_decision(cast):
    concern = report(cast, category=Category.DATA_BREACH)
    with pytest.raises(actions.ValidationError, match="reason"):
        actions.add_entry(concern, by=cast.dsl, kind="agency", agency="ico", agency_decision="not_referred")
    assert Clock.objects.running().filter(concern=concern).exists()
    entry = actions.add_entry(
        concern,
        by=cast.dsl,
        kind="agency",
        agency="ico",
        agency_decision="not_referred",
        reason="Only the pupil's first name was visible for two minutes; no risk to their rights.",
    )
    clock = concern.clocks.get()
    assert clock.stopped_by == entry and not Clock.objects.running().exists()
    assert actions.sweep_clocks(clock.due_at + dt.timedelta(hours=1)) == 0


def test_it_shows_the_clocks_on_the_dsls_dashboard_without_content(client, cast):
    concern = report(cast, category=Category.DATA_BREACH, text=SECRET)
    client.force_login(cast.dsl)
    page = client.get(f"/s/{cast.school.slug}/").content.decode()
    assert "1 new concern needs your attention" in page and "1 deadline running" in page
    due = timezone.localtime(concern.clocks.get().due_at)
    assert f"{due.day} {due:%B %Y, %H:%M}" in page or f"{due.day} {due:%b %H:%M}" in page
    assert SECRET not in page
    client.force_login(cast.alice)
    assert "deadline running" not in client.get(f"/s/{cast.school.slug}/").content.decode()
    detail = client.get(f"/s/{cast.school.slug}/concerns/{concern.pk}/")
    assert detail.status_code == 404


def test_it_shows_the_nearest_deadline_and_its_kind_on_the_dashboard_card_cheaply(
    client, cast, django_assert_max_num_queries
):
    from schoolgate.concerns.views import dashboard_summary

    report(cast, category=Category.DATA_BREACH, text=SECRET)
    report(cast, category=Category.STAFF_CONDUCT, staff=[cast.bob])
    nearest = min(Clock.objects.all(), key=lambda c: c.due_at)
    dsl = type(cast.dsl).objects.get(pk=cast.dsl.pk)
    cast.school.roles_of(dsl)
    access.concern_settings(cast.school)
    with django_assert_max_num_queries(2):
        summary = dashboard_summary(dsl, cast.school)
    assert summary["clocks"] == 2 and summary["nearest"] == nearest.due_at
    assert summary["nearest_kind"] == nearest.get_kind_display() and summary["unread"] == 2
    client.force_login(cast.dsl)
    page = client.get(f"/s/{cast.school.slug}/").content.decode()
    assert f"2 deadlines running; the nearest ({nearest.get_kind_display()})" in page and SECRET not in page
