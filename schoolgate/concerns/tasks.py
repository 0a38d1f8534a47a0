"""The periodic sweep of concern clocks (LADO referral, ICO notification): warn before they run out."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="*/15"))
def sweep_concern_clocks() -> int:
    from schoolgate.concerns.actions import sweep_clocks

    return sweep_clocks()
