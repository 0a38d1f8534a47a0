"""The statutory clocks on concerns and the school calendar they count in.

LADO: a referral is due one working day after an allegation against staff is recorded (KCSIE; working days skip
weekends, the bank holidays of the school's nation and, where the settings say so, the school's closures).
ICO: a personal-data breach is notified within 72 clock hours of the school becoming aware of it (UK GDPR
Art. 33), weekends included, or the decision not to is recorded with its reason.
"""

from __future__ import annotations

import datetime as dt
import functools

import holidays
from django.utils import timezone

from schoolgate.concerns.models import ClockKind
from schoolgate.policy.models import Nation, PolicySettings


@functools.cache
def _bank_holidays(nation: str, year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("GB", subdiv=nation, years=year))


def nation_of(school) -> str:
    policy = PolicySettings.objects.in_force_at(school)
    return policy.bank_holiday_nation if policy else Nation.ENGLAND


class SchoolCalendar:
    """Which days count as working days at one school."""

    def __init__(self, school, *, closures: bool = True):
        self.nation = nation_of(school)
        self.closures = list(school.closures.values_list("starts_on", "ends_on")) if closures else []

    def is_working_day(self, day: dt.date) -> bool:
        if day.weekday() >= 5 or day in _bank_holidays(self.nation, day.year):
            return False
        return not any(start <= day <= end for start, end in self.closures)

    def next_working_day(self, day: dt.date) -> dt.date:
        day += dt.timedelta(days=1)
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def add_working_days(self, moment: dt.datetime, days: int) -> dt.datetime:
        """The same time of day `days` working days later. A moment on a day that is not a working day counts
        from the start of the next one (recorded on Saturday: due at the end of Monday, for one day)."""
        local = timezone.localtime(moment)
        day = local.date()
        if not self.is_working_day(day):
            day = self.next_working_day(day)
            local = local.replace(hour=0, minute=0, second=0, microsecond=0)
        for _ in range(days):
            day = self.next_working_day(day)
        naive = dt.datetime.combine(day, local.time().replace(tzinfo=None))
        return timezone.make_aware(naive, timezone.get_current_timezone())


def due_at(kind: str, school, started_at: dt.datetime) -> dt.datetime:
    from schoolgate.concerns.access import concern_settings

    settings = concern_settings(school)
    if kind == ClockKind.LADO:
        calendar = SchoolCalendar(school, closures=settings.closures_stop_working_days)
        return calendar.add_working_days(started_at, settings.lado_referral_working_days)
    return started_at + dt.timedelta(hours=settings.breach_notification_hours)
