"""A real worker process killed mid-import: nothing lost, nothing doubled, and the job finishes it once."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from django.conf import settings
from django.db import connection as db_connection
from django.utils import timezone

from conftest import TEST_ENCRYPTION_KEY
from schoolgate.audit.models import AuditEntry
from schoolgate.pupils import actions, tasks
from schoolgate.pupils.models import ImportRun, ImportStatus, Pupil
from schoolgate.pupils.tests.exports import SIMS_PUPIL_HEADERS, pupil_rows, to_csv

ROWS = 12_000  # about 0.9 MB: twenty-four batches to write, long enough to be killed in the middle

WORKER = textwrap.dedent(
    """
    import os, signal, sys
    import django
    from django.conf import settings
    settings.DATABASES["default"]["NAME"] = sys.argv[1]
    settings.ENCRYPTION_KEYS = [sys.argv[2]]
    settings.MEDIA_ROOT = sys.argv[3]
    django.setup()
    from huey.contrib.djhuey import HUEY
    HUEY.immediate = True
    from schoolgate.pupils.models import Pupil
    from schoolgate.pupils import tasks
    mode, run_id = sys.argv[4], int(sys.argv[5])
    if mode == "die-mid-write":
        # Killed inside the writing transaction, with some batches of pupils already sent to the database.
        real_bulk_create = type(Pupil.objects).bulk_create
        calls = []
        def bulk_create_then_die(self, objs, *args, **kwargs):
            calls.append(1)
            if len(calls) == 15:
                os.kill(os.getpid(), signal.SIGKILL)
            return real_bulk_create(self, objs, *args, **kwargs)
        type(Pupil.objects).bulk_create = bulk_create_then_die
    if mode == "apply":
        print(tasks.apply_import_run.call_local(run_id), flush=True)
    elif mode == "check":
        print(tasks.check_import_run.call_local(run_id), flush=True)
    elif mode == "die-mid-write":
        tasks.apply_import_run.call_local(run_id)
    elif mode == "resume":
        print(tasks.resume_stalled_imports.call_local(), flush=True)
    """
)


def worker(mode: str, run_id: int) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "schoolgate.settings"}
    args = [db_connection.settings_dict["NAME"], TEST_ENCRYPTION_KEY, str(settings.MEDIA_ROOT), mode, str(run_id)]
    return subprocess.Popen(  # noqa: S603 - our own interpreter running our own script
        [sys.executable, "-c", WORKER, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=180)
    return process.returncode, out.strip(), err


def kill_when(process: subprocess.Popen, run: ImportRun, ready, *, after: float = 0) -> None:
    """SIGKILL the worker from outside once `ready(run)` holds, as an out-of-memory killer or a deploy would."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        run.refresh_from_db()
        if ready(run):
            time.sleep(after)
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    returncode, _, err = finish(process)
    assert returncode == -signal.SIGKILL, f"the worker was not killed mid-way: {err[-2000:]}"


def expire_lease(run: ImportRun) -> None:
    """Stand in for the lease running out: the dead worker never renews it."""
    ImportRun.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))


def assert_resumed_exactly_once(run: ImportRun, *, then: str) -> None:
    returncode, out, err = finish(worker("resume", run.pk))  # the lease still holds: nobody takes it over
    assert (returncode, out) == (0, "0"), err
    assert Pupil.objects.count() == 0
    expire_lease(run)
    returncode, out, err = finish(worker("resume", run.pk))
    assert (returncode, out) == (0, "1"), err
    run.refresh_from_db()
    assert run.status == then, run.problems
    returncode, out, err = finish(worker("resume", run.pk))  # nothing left stalled
    assert (returncode, out) == (0, "0"), err


@pytest.fixture
def large_run(cast, transactional_db, monkeypatch) -> ImportRun:
    """A large pupil file, checked and confirmed; its apply job is left for the worker process to run."""
    run = actions.validate_import(
        cast.school, by=cast.head, kind="pupils", filename="roll.csv", data=to_csv(SIMS_PUPIL_HEADERS, pupil_rows(ROWS))
    )
    assert run.status == ImportStatus.VALIDATED, run.problems[:3]
    monkeypatch.setattr(tasks, "apply_import_run", lambda run_id: None)  # not run here: the worker runs it
    actions.confirm_import(run, by=cast.head)
    run.refresh_from_db()
    assert run.is_queued
    return run


def applied_once(run: ImportRun) -> None:
    run.refresh_from_db()
    assert (run.status, run.created_count) == (ImportStatus.APPLIED, ROWS)
    assert Pupil.objects.count() == ROWS
    assert AuditEntry.objects.filter(action="pupils.import.applied", object_id=str(run.pk)).count() == 1
    assert not (settings.MEDIA_ROOT / "imports").exists() or not any((settings.MEDIA_ROOT / "imports").rglob("*.csv"))


def test_it_writes_nothing_when_the_worker_is_killed_mid_write_and_finishes_once_on_resume(large_run):
    returncode, _, err = finish(worker("die-mid-write", large_run.pk))
    assert returncode == -signal.SIGKILL, err[-2000:]
    large_run.refresh_from_db()
    assert large_run.status == ImportStatus.APPLYING
    assert Pupil.objects.count() == 0  # fourteen batches had been sent: all rolled back with the transaction
    assert (settings.MEDIA_ROOT / large_run.upload.name).is_file()  # the file is still there to finish from
    assert_resumed_exactly_once(large_run, then=ImportStatus.APPLIED)
    applied_once(large_run)


def test_it_finishes_once_when_the_worker_is_killed_from_outside_while_importing(large_run):
    # Applying takes seconds for this file; a moment after it starts, the worker is inside the transaction.
    kill_when(worker("apply", large_run.pk), large_run, lambda run: run.status == ImportStatus.APPLYING, after=0.5)
    large_run.refresh_from_db()
    assert large_run.status == ImportStatus.APPLYING and Pupil.objects.count() == 0
    assert_resumed_exactly_once(large_run, then=ImportStatus.APPLIED)
    applied_once(large_run)
    returncode, out, err = finish(worker("apply", large_run.pk))  # the job run again, later: nothing doubles
    assert (returncode, out) == (0, "False"), err
    assert Pupil.objects.count() == ROWS


def test_it_checks_the_file_again_when_the_worker_is_killed_while_checking(cast, transactional_db):
    with pytest.MonkeyPatch.context() as held:
        held.setattr(tasks, "check_import_run", lambda run_id: None)  # not run here: the worker runs it
        run = actions.upload_import(
            cast.school,
            by=cast.head,
            kind="pupils",
            filename="roll.csv",
            file=to_csv(SIMS_PUPIL_HEADERS, pupil_rows(ROWS)),
        )
    kill_when(worker("check", run.pk), run, lambda run: run.progress_done > 0)
    run.refresh_from_db()
    assert run.status == ImportStatus.CHECKING and run.preview == []
    assert_resumed_exactly_once(run, then=ImportStatus.VALIDATED)
    assert run.rows == ROWS and run.created_count == ROWS and len(run.preview) == actions.importing.PREVIEW_ROWS
    assert Pupil.objects.count() == 0
