"""The statutory clocks on concerns and the school calendar they count in.

LADO: a referral is due one working day after an allegation against staff is recorded (KCSIE; working days skip
weekends, the bank holidays of the school's nation and, where the settings say so, the school's closures).
ICO: a personal-data breach is notified within 72 clock hours of the school becoming aware of it (UK GDPR
Art. 33), weekends included, or the decision not to is recorded with its reason.
"""

from __future__ import annotations

import datetime as dt

from schoolgate.concerns.models import ClockKind
from schoolgate.policy.calendar import SchoolCalendar, nation_of

__all__ = ["SchoolCalendar", "due_at", "nation_of"]


def due_at(kind: str, school, started_at: dt.datetime) -> dt.datetime:
    from schoolgate.concerns.access import concern_settings

    settings = concern_settings(school)
    if kind == ClockKind.LADO:
        calendar = SchoolCalendar(school, closures=settings.closures_stop_working_days)
        return calendar.add_working_days(started_at, settings.lado_referral_working_days)
    return started_at + dt.timedelta(hours=settings.breach_notification_hours)
