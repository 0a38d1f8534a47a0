"""Jobs for imports: check an uploaded file, apply a confirmed one, resume stalled ones, drop unconfirmed files."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from schoolgate.pupils import actions
from schoolgate.pupils.models import ImportRun, ImportStatus

STALE_AFTER = dt.timedelta(days=1)


@db_task()
def check_import_run(run_id: int) -> bool:
    """Check an uploaded file once; a second run finds it checked (or being checked) and does nothing."""
    run = ImportRun.objects.select_related("school").filter(pk=run_id, status=ImportStatus.CHECKING).first()
    if run is None:
        return False
    return actions.check_import(run).status != ImportStatus.CHECKING


@db_task()
def apply_import_run(run_id: int) -> bool:
    """Apply a confirmed import once; a second run finds it no longer waiting and does nothing."""
    run = (
        ImportRun.objects.select_related("school", "confirmed_by")
        .filter(pk=run_id, status__in=[ImportStatus.VALIDATED, ImportStatus.APPLYING])
        .exclude(confirmed_at=None)
        .first()
    )
    if run is None:
        return False
    try:
        actions.apply_import(run, by=run.confirmed_by)
    except PermissionDenied:
        actions.finish_unrunnable_import(
            run, "The person who confirmed this import may no longer import pupil data, so nothing was written."
        )
        return False
    except ValidationError:
        return False  # another run of this job has it
    return True


@db_periodic_task(crontab(minute="*/5"))
def resume_stalled_imports() -> int:
    """Start again the checks and imports whose worker died (their lease ran out); the jobs are idempotent."""
    stalled = actions.stalled_imports()
    for run_id, status in stalled:
        (check_import_run if status == ImportStatus.CHECKING else apply_import_run)(run_id)
    return len(stalled)


@db_periodic_task(crontab(minute="41", hour="3"))
def discard_stale_imports() -> int:
    return actions.discard_stale_imports(older_than=timezone.now() - STALE_AFTER)
