"""Reply deadlines (RS-MON-1): when an item must be answered, on the school's own working calendar.

The policy gives N hours ("within 24 hours … even if only to acknowledge"). The clock runs in working time only:
the days the policy says stop it (weekends, the bank holidays of the school's nation, its closures) do not
count, nor — where the inbox settings say so — the hours outside the working day. An item that arrives outside
working time is due by the end of the next working day.
"""

from __future__ import annotations

import datetime as dt

from schoolgate.policy.calendar import SchoolCalendar
from schoolgate.policy.models import PolicySettings

DEFAULT_HOURS = 24  # both seed schools; used only before a school has a policy in force


def inbox_settings(school):
    from schoolgate.inbox.models import InboxSettings

    # Read only: a school that never changed its settings has the defaults, and reading a page writes nothing.
    return InboxSettings.objects.filter(school=school).first() or InboxSettings(school=school)


def reply_calendar(school, *, policy=None, settings=None) -> SchoolCalendar:
    policy = policy if policy is not None else PolicySettings.objects.in_force_at(school)
    settings = settings or inbox_settings(school)
    if policy is None:
        return SchoolCalendar(school, hours=settings.working_hours)
    return SchoolCalendar(
        school,
        weekends=policy.clock_pauses_weekends,
        bank_holidays=policy.clock_pauses_bank_holidays,
        closures=policy.clock_pauses_closures,
        nation=policy.bank_holiday_nation,
        hours=settings.working_hours,
    )


def reply_deadline(
    school, received_at: dt.datetime, *, policy=None, settings=None, calendar: SchoolCalendar | None = None
) -> tuple[dt.datetime, dt.datetime]:
    """(due_at, at_risk_at) for an item received at `received_at`.

    1. Outside working time: due at the end of the next working day.
    2. Otherwise: the policy's hours later, counted in working time.
    3. At risk once the settings' share of that working time has gone (never a warning at the weekend).
    """
    policy = policy if policy is not None else PolicySettings.objects.in_force_at(school)
    settings = settings or inbox_settings(school)
    calendar = calendar or reply_calendar(school, policy=policy, settings=settings)
    hours = policy.reply_deadline_hours if policy is not None else DEFAULT_HOURS
    starts = calendar.add_working_time(received_at, dt.timedelta(0))  # when the clock starts running
    if calendar.is_working_time(received_at):
        allowed = dt.timedelta(hours=hours)
        due = calendar.add_working_time(received_at, allowed)
    else:
        due = calendar.end_of_next_working_day(received_at)
        allowed = due - starts  # within one working day, so wall time is working time
    at_risk = calendar.add_working_time(starts, allowed * (settings.at_risk_percent / 100))
    return due, min(at_risk, due)
