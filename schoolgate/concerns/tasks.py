"""Periodic concern jobs: the sweep of clocks (LADO referral, ICO notification) that warns before they run out,
and the nightly refresh of retention review dates (a pupil's date of birth may have come in an import)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="*/15"))
def sweep_concern_clocks() -> int:
    from schoolgate.concerns.actions import sweep_clocks

    return sweep_clocks()


@db_periodic_task(crontab(hour="2", minute="40"))
def refresh_concern_review_dates() -> int:
    from schoolgate.concerns.models import Concern
    from schoolgate.concerns.retention import refresh_review_dates

    return refresh_review_dates(Concern.objects.all())
