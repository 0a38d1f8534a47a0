"""A school's working calendar: weekends, the bank holidays of its nation, its closures, and (where the policy
says so) its working hours. The reply clock (inbox) and the statutory clocks (concerns) both count in it."""

from __future__ import annotations

import datetime as dt
import functools

import holidays
from django.utils import timezone

from schoolgate.policy.models import Nation, PolicySettings


@functools.cache
def _bank_holidays(nation: str, year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("GB", subdiv=nation, years=year))


def nation_of(school) -> str:
    policy = PolicySettings.objects.in_force_at(school)
    return policy.bank_holiday_nation if policy else Nation.ENGLAND


class SchoolCalendar:
    """Which days count as working days at one school, and (optionally) which hours of them.

    `weekends`, `bank_holidays` and `closures` say which days stop the clock; `hours` is (start, end) of the
    working day when only working hours count, or None when the whole of a working day counts.
    """

    def __init__(
        self,
        school,
        *,
        closures: bool = True,
        weekends: bool = True,
        bank_holidays: bool = True,
        hours: tuple[dt.time, dt.time] | None = None,
        nation: str | None = None,
    ):
        self.nation = nation or nation_of(school)
        self.weekends = weekends
        self.bank_holidays = bank_holidays
        self.closures = list(school.closures.values_list("starts_on", "ends_on")) if closures else []
        self.hours = hours

    def is_working_day(self, day: dt.date) -> bool:
        if self.weekends and day.weekday() >= 5:
            return False
        if self.bank_holidays and day in _bank_holidays(self.nation, day.year):
            return False
        return not any(start <= day <= end for start, end in self.closures)

    def next_working_day(self, day: dt.date) -> dt.date:
        day += dt.timedelta(days=1)
        for _ in range(3660):  # a closure can be long, but never ten years
            if self.is_working_day(day):
                return day
            day += dt.timedelta(days=1)
        raise ValueError("No working day in the next ten years: check the school's closures.")

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
        return _aware(day, local.time().replace(tzinfo=None))

    # Working time: the whole of each working day, or only its working hours.

    def _span(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """When working time starts and ends on a working day."""
        if self.hours is None:
            return _aware(day, dt.time.min), _aware(day + dt.timedelta(days=1), dt.time.min)
        return _aware(day, self.hours[0]), _aware(day, self.hours[1])

    def is_working_time(self, moment: dt.datetime) -> bool:
        day = timezone.localtime(moment).date()
        if not self.is_working_day(day):
            return False
        start, end = self._span(day)
        return start <= moment < end

    def end_of_next_working_day(self, moment: dt.datetime) -> dt.datetime:
        """The end of the working day that comes next after `moment` (a moment before a working day's hours
        start belongs to that same day)."""
        day = timezone.localtime(moment).date()
        if self.is_working_day(day) and moment < self._span(day)[0]:
            return self._span(day)[1]
        return self._span(self.next_working_day(day))[1]

    def add_working_time(self, moment: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """`moment` plus `duration` counted only in working time (the clock stops outside it)."""
        remaining = duration
        day = timezone.localtime(moment).date()
        current = moment
        for _ in range(3660):
            if self.is_working_day(day):
                start, end = self._span(day)
                current = max(current, start)
                if current < end:
                    if current + remaining <= end:
                        return current + remaining
                    remaining -= end - current
            day = self.next_working_day(day)
            current = self._span(day)[0]
        raise ValueError("The clock does not end within ten years: check the school's closures.")


def _aware(day: dt.date, time: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, time), timezone.get_current_timezone())
