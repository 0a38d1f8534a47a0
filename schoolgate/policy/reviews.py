"""When a policy review is due, and which reminder step a day falls in."""

from __future__ import annotations

import datetime as dt

REMINDER_WINDOW_DAYS = 30  # reminders start this many days before the review date
REMINDER_STEPS = (30, 7)  # one reminder when each step is reached, then weekly once overdue


def reminder_key(next_review_on: dt.date, today: dt.date) -> str | None:
    """The reminder owed today, named so that sending it twice is impossible; None when none is owed."""
    days_left = (next_review_on - today).days
    if days_left < 0:
        year, week, _ = today.isocalendar()
        return f"overdue-{year}-W{week:02d}"
    due_steps = [step for step in REMINDER_STEPS if days_left <= step]
    if not due_steps:
        return None
    return f"due-in-{min(due_steps)}"
