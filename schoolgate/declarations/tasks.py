"""Periodic declaration sweeps: ask for annual declarations, remind reviewers, remind and lapse exceptions."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(hour="7", minute="10"))
def sweep_annual_declarations() -> int:
    from schoolgate.declarations.actions import sweep_annual_declarations as sweep

    return sweep()


@db_periodic_task(crontab(hour="7", minute="15"))
def sweep_relationship_reviews() -> int:
    from schoolgate.declarations.actions import sweep_relationship_reviews as sweep

    return sweep()


# Shortly after midnight, so an exception stops applying on the day after its last day, and again in the morning
# in case the worker was down at night (the sweep is safe to run twice).
@db_periodic_task(crontab(hour="0,7", minute="5"))
def sweep_contact_exceptions() -> int:
    from schoolgate.declarations.actions import sweep_contact_exceptions as sweep

    return sweep()
