"""Reply deadlines on the school's working calendar (RS-MON-1): Friday evening, a bank holiday Monday and a
closure week, for both seed schools' settings, and an item that arrives outside working hours."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from schoolgate.inbox.deadlines import inbox_settings, reply_deadline
from schoolgate.schools.demo_data import SCHOOLS
from schoolgate.schools.models import Closure
from schoolgate.testing import make_school

pytestmark = pytest.mark.django_db

SEED_SETTINGS = {spec["slug"]: spec["settings"] for spec in SCHOOLS}


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=timezone.get_current_timezone())


def local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment)


@pytest.fixture(params=sorted(SEED_SETTINGS))
def seed_cast(request):
    return make_school(settings=SEED_SETTINGS[request.param])


@pytest.mark.clause("RS-MON-1")
def test_it_gives_24_hours_on_a_working_day(seed_cast):
    due, _ = reply_deadline(seed_cast.school, at(2026, 5, 19, 10, 30))  # a Tuesday
    assert local(due) == at(2026, 5, 20, 10, 30)


@pytest.mark.clause("RS-MON-1")
def test_it_stops_the_clock_over_a_weekend_and_a_bank_holiday_monday(seed_cast):
    # Friday 22 May 2026, evening; Monday 25 May is the Spring bank holiday in England. The hours left on
    # Friday count, the weekend and the Monday do not: due Tuesday evening.
    due, _ = reply_deadline(seed_cast.school, at(2026, 5, 22, 19, 0))
    assert local(due) == at(2026, 5, 26, 19, 0)
    # Received on the Saturday: due by the end of the next working day (Tuesday; Monday is a bank holiday).
    due, _ = reply_deadline(seed_cast.school, at(2026, 5, 23, 11, 0))
    assert local(due) == at(2026, 5, 27, 0, 0)


@pytest.mark.clause("RS-MON-1")
def test_it_stops_the_clock_for_a_closure_week(seed_cast):
    Closure.objects.create(
        school=seed_cast.school, starts_on=dt.date(2026, 6, 1), ends_on=dt.date(2026, 6, 5), label="Half term"
    )
    # Friday 29 May, 10:00: 14 hours count on Friday, then the weekend and half term pass; 10 more on 8 June.
    due, _ = reply_deadline(seed_cast.school, at(2026, 5, 29, 10, 0))
    assert local(due) == at(2026, 6, 8, 10, 0)
    # Received during the closure: the end of the first day back.
    due, _ = reply_deadline(seed_cast.school, at(2026, 6, 3, 9, 0))
    assert local(due) == at(2026, 6, 9, 0, 0)


@pytest.mark.clause("RS-MON-1")
def test_it_follows_what_the_policy_says_stops_the_clock():
    cast = make_school(
        settings={"reply_deadline_hours": 24, "clock_pauses_weekends": False, "clock_pauses_bank_holidays": False}
    )
    due, _ = reply_deadline(cast.school, at(2026, 5, 22, 19, 0))
    assert local(due) == at(2026, 5, 23, 19, 0)
    # Weekends stop the clock but the bank holiday Monday does not.
    cast = make_school(settings={"clock_pauses_bank_holidays": False})
    due, _ = reply_deadline(cast.school, at(2026, 5, 22, 19, 0))
    assert local(due) == at(2026, 5, 25, 19, 0)
    cast = make_school(settings={"reply_deadline_hours": 4})
    due, _ = reply_deadline(cast.school, at(2026, 5, 19, 10, 0))
    assert local(due) == at(2026, 5, 19, 14, 0)


@pytest.mark.clause("RS-MON-1")
def test_it_counts_the_bank_holidays_of_the_schools_nation():
    # 4 August 2025 is a bank holiday in Scotland only; 17 March (St Patrick's Day) in Northern Ireland only.
    scotland = make_school(settings={"bank_holiday_nation": "SCT"})
    england = make_school(settings={"bank_holiday_nation": "ENG"})
    assert local(reply_deadline(scotland.school, at(2025, 8, 1, 12, 0))[0]) == at(2025, 8, 5, 12, 0)
    assert local(reply_deadline(england.school, at(2025, 8, 1, 12, 0))[0]) == at(2025, 8, 4, 12, 0)


@pytest.mark.clause("RS-MON-1")
def test_it_gives_the_end_of_the_next_working_day_to_an_item_received_out_of_hours(seed_cast):
    settings = inbox_settings(seed_cast.school)
    settings.working_hours_only = True
    settings.working_day_starts = dt.time(8, 0)
    settings.working_day_ends = dt.time(17, 0)
    settings.save()
    # Friday 22 May, 19:00: after hours, and Monday is a bank holiday: due at the end of Tuesday's working day.
    due, _ = reply_deadline(seed_cast.school, at(2026, 5, 22, 19, 0))
    assert local(due) == at(2026, 5, 26, 17, 0)
    # Tuesday 06:30, before hours: the end of that same day.
    due, _ = reply_deadline(seed_cast.school, at(2026, 5, 19, 6, 30))
    assert local(due) == at(2026, 5, 19, 17, 0)
    # Tuesday 15:00 in hours: 24 working hours (9 a day) run Tuesday 2, Wednesday 9, Thursday 9, Friday 4.
    due, _ = reply_deadline(seed_cast.school, at(2026, 5, 19, 15, 0))
    assert local(due) == at(2026, 5, 22, 12, 0)


def test_it_warns_after_the_set_share_of_the_working_time_and_never_at_the_weekend(seed_cast):
    # Friday 16:00 + 24 hours, with the weekend stopped: due Monday 16:00. 75 % of 24 working hours is 18, so
    # the warning comes on Monday at 10:00, not on Sunday.
    due, at_risk = reply_deadline(seed_cast.school, at(2026, 5, 15, 16, 0))
    assert local(due) == at(2026, 5, 18, 16, 0)
    assert local(at_risk) == at(2026, 5, 18, 10, 0)
    settings = inbox_settings(seed_cast.school)
    settings.at_risk_percent = 50
    settings.save()
    _, at_risk = reply_deadline(seed_cast.school, at(2026, 5, 15, 16, 0))
    assert local(at_risk) == at(2026, 5, 18, 4, 0)


@pytest.mark.clause("RS-MON-1")
def test_it_follows_what_the_policy_says_closures_stop():
    cast = make_school(settings={"clock_pauses_closures": False})
    Closure.objects.create(
        school=cast.school, starts_on=dt.date(2026, 6, 1), ends_on=dt.date(2026, 6, 5), label="Half term"
    )
    # Friday 29 May 10:00: the weekend stops the clock, half term does not.
    due, _ = reply_deadline(cast.school, at(2026, 5, 29, 10, 0))
    assert local(due) == at(2026, 6, 1, 10, 0)
