"""Jobs for imports: apply a confirmed import, and drop files that were uploaded but never confirmed."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from schoolgate.pupils.models import ImportRun, ImportStatus

STALE_AFTER = dt.timedelta(days=1)


@db_task()
def apply_import_run(run_id: int) -> bool:
    """Apply a confirmed import once; a second run finds it no longer waiting and does nothing."""
    from schoolgate.pupils.actions import apply_import

    run = (
        ImportRun.objects.select_related("school", "confirmed_by")
        .filter(pk=run_id, status=ImportStatus.VALIDATED)
        .exclude(confirmed_at=None)
        .first()
    )
    if run is None:
        return False
    try:
        apply_import(run, by=run.confirmed_by)
    except ValidationError:
        return False  # another run of this job claimed it first
    return True


@db_periodic_task(crontab(minute="41", hour="3"))
def discard_stale_imports() -> int:
    from schoolgate.pupils.actions import discard_stale_imports

    return discard_stale_imports(older_than=timezone.now() - STALE_AFTER)
