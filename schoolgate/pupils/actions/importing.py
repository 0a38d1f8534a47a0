"""Importing pupils and their parents/carers from CSV exports: check everything, then write it all or nothing.

An uploaded file is kept in private storage (like a photo's original, never served) and read as a stream by
a job, a batch of rows at a time, so memory stays bounded however long the file is:

1. `upload_import` stores the file and queues `check_import` (the page shows its progress).
2. `check_import` cleans every row, lists problems and probable duplicates, counts what importing would
   create, update and leave unchanged, and keeps a preview of the first rows as they would be stored.
3. `confirm_import` queues `apply_import`, which checks the file again against the school as it is then
   and writes every row in one transaction, or nothing.

Both jobs hold a lease on the run: a job whose worker was killed is picked up again once its lease has run
out (`resume_stalled_imports`), and a job that lost its lease writes nothing, so a run is applied once.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.pupils import imports
from schoolgate.pupils.actions.import_writers import WRITERS, Counts
from schoolgate.pupils.models import ImportMapping, ImportRun, ImportStatus, Pupil
from schoolgate.schools.models import School
from schoolgate.schools.permissions import require_permission

logger = logging.getLogger(__name__)

# Pupil data belongs with the school's leaders and whoever runs its records (schools/permissions.py).
IMPORT_PERMISSION = "pupils.import"
VIEW_PERMISSION = "pupils.view"

# 5 MB is about 100,000 pupil rows, twenty times the largest school's roll: checked in about half a minute
# and written in under two (bench/pupil_import.py). At 20 MB a check took nearly two minutes and the process
# grew by almost 300 MB, for files no school has.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
BATCH = 500
PREVIEW_ROWS = 20
# Longer than the slowest write of a file at the size limit (bench/pupil_import.py measures it).
LEASE = dt.timedelta(minutes=10)
PROGRESS_EVERY = 2000  # rows between progress updates
COUNT_FIELDS = ["created_count", "updated_count", "unchanged_count", "left_count", "missing_count", "links_count"]


class LostLease(Exception):
    """Another job took this run over (this one was too slow, or thought dead): write nothing more."""


class StaleCheck(Exception):
    """The school changed since the file was checked: roll the writes back and show the problems."""


# Reading the stored file: one pass, checking and (when writing) writing in batches.


def _storage():
    return ImportRun._meta.get_field("upload").storage


def _open(run: ImportRun) -> BinaryIO:
    return _storage().open(run.upload.name, "rb")


def _delete_upload_on_commit(name: str) -> None:
    # Only once the run no longer points at it, so a rollback never leaves a run without its file.
    if name:
        transaction.on_commit(lambda: _storage().delete(name))


def remembered_mapping(school: School, kind: str) -> dict[str, str]:
    saved = ImportMapping.objects.filter(school=school, kind=kind).first()
    return dict(saved.mapping) if saved else {}


def _existing_people(school: School, kind: str) -> dict:
    if kind != imports.PUPILS:
        return {}
    people = {}
    for upn, forename, surname, born in (
        Pupil.objects.filter(school=school)
        .exclude(date_of_birth=None)
        .values_list("upn", "legal_forename", "legal_surname", "date_of_birth")
    ):
        people.setdefault(imports.person_hash(forename, surname, born), (upn, f"{forename} {surname}"))
    return people


def _batches(rows: Iterator[dict], size: int) -> Iterator[list[dict]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _display(value) -> str:
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return imports.shown(str(value or ""), 80)


@dataclass
class Pass:
    """What one read of the file found: its shape, problems, warnings, counts and preview."""

    encoding: str = ""
    delimiter: str = ""
    headers: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    rows: int = 0
    problems: list[imports.Problem] = field(default_factory=list)
    warnings: list[imports.Problem] = field(default_factory=list)
    counts: Counts | None = None  # None when the file has problems
    preview: list[dict] = field(default_factory=list)


def _read(run: ImportRun, *, write: bool, progress: Callable[[int], None] | None = None) -> Pass:
    """Check the stored file against the school as it is now and, with `write`, write it batch by batch.

    Writing stops at the first batch with a problem (StaleCheck): the caller's transaction rolls back.
    """
    with _open(run) as source:
        table = imports.open_table(source)
        mapping = run.mapping or imports.suggest_mapping(
            run.kind, table.headers, remembered_mapping(run.school, run.kind)
        )
        known_upns = (
            Pupil.objects.filter(school=run.school).values_list("upn", flat=True)
            if run.kind == imports.CONTACTS
            else ()
        )
        checker = imports.Checker(
            run.kind,
            table,
            mapping,
            known_upns=known_upns,
            existing_people=_existing_people(run.school, run.kind),
            today=timezone.localdate(),
        )
        found = Pass(table.encoding, table.delimiter, table.headers, checker.mapping)
        writer = None
        if checker.start():
            writer = WRITERS[run.kind](run.school, checker.mapping, write=write)
            specs = [spec for spec in imports.fields_for(run.kind) if spec.name in checker.mapping]
            next_progress = PROGRESS_EVERY
            for batch in _batches(checker.rows(), BATCH):
                good = [row for row in batch if row["ok"]]
                if write and len(good) < len(batch):
                    raise StaleCheck
                outcomes = dict(zip((r["line"] for r in good), writer.add(good), strict=True)) if good else {}
                for row in batch:
                    if len(found.preview) < PREVIEW_ROWS:
                        action, changed = outcomes.get(row["line"], ("", []))
                        found.preview.append(
                            {
                                "line": row["line"],
                                "action": action,
                                "changed": [spec.label for spec in specs if spec.name in changed],
                                "cells": [_display(row.get(spec.name)) for spec in specs],
                            }
                        )
                if progress and checker.count >= next_progress:
                    progress(table.bytes_read())
                    next_progress += PROGRESS_EVERY
        found.problems, found.warnings = checker.finish()
        found.rows = checker.count
        if write and found.problems:
            raise StaleCheck
        if writer is not None and not found.problems:
            found.counts = writer.finish(mark_missing_as_left=write and run.mark_missing_as_left)
    return found


def _record(run: ImportRun, found: Pass) -> None:
    run.encoding, run.delimiter, run.headers, run.mapping = (
        found.encoding,
        found.delimiter,
        found.headers,
        found.mapping,
    )
    run.problems = [problem.as_dict() for problem in found.problems]
    run.warnings = [warning.as_dict() for warning in found.warnings]
    run.rows = found.rows
    run.preview = found.preview
    run.status = ImportStatus.VALIDATED if found.counts is not None else ImportStatus.INVALID
    counts = found.counts.as_fields() if found.counts else dict.fromkeys(COUNT_FIELDS, 0)
    for name, value in counts.items():
        setattr(run, name, value)


# Leases: a conditional update claims a run for one job at a time.


def _claim(run: ImportRun, waiting: Q, *, stalled: str, **changes) -> str | None:
    """Take the run when it matches `waiting`, or when the job that had it (in status `stalled`) stopped
    renewing its lease: its worker died. Returns this job's lease token, or None when the run is not free."""
    now = timezone.now()
    token = secrets.token_hex(16)
    free = waiting | Q(status=stalled, lease_expires_at__lt=now)
    claimed = ImportRun.objects.filter(Q(pk=run.pk) & free).update(
        lease_token=token, lease_expires_at=now + LEASE, **changes
    )
    return token if claimed else None


def _renew(run: ImportRun, token: str, **changes) -> None:
    if not ImportRun.objects.filter(pk=run.pk, lease_token=token).update(
        lease_expires_at=timezone.now() + LEASE, **changes
    ):
        raise LostLease


def _release(run: ImportRun, token: str, fields: list[str]) -> None:
    """Save the run's outcome, only while this job still holds it."""
    values = {name: getattr(run, name) for name in fields}
    if not ImportRun.objects.filter(pk=run.pk, lease_token=token).update(
        lease_token="", lease_expires_at=None, **values
    ):
        raise LostLease
    run.lease_token, run.lease_expires_at = "", None


RESULT_FIELDS = [
    "encoding",
    "delimiter",
    "headers",
    "mapping",
    "problems",
    "warnings",
    "rows",
    "preview",
    "status",
    *COUNT_FIELDS,
    "progress_done",
]


def _clean_filename(filename: str) -> str:
    return imports.shown(filename.replace("/", " ").replace("\\", " ").strip(), 255) or "export.csv"


def upload_import(
    school: School,
    *,
    by,
    kind: str,
    filename: str,
    file: File | bytes,
    mapping: dict[str, str] | None = None,
    check_now: bool = False,
) -> ImportRun:
    """Keep an uploaded export for checking; nothing about pupils or carers is written.

    1. The file goes to private storage under a random name (the person's file name is only shown).
    2. The check runs as a job once this is committed (`check_now` runs it here instead, for scripts).
    """
    require_permission(by, school, IMPORT_PERMISSION)
    imports.fields_for(kind)
    content = ContentFile(file) if isinstance(file, bytes) else file
    if content.size > MAX_UPLOAD_BYTES:
        raise ValidationError(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    name = _storage().save(f"imports/{school.pk}/{secrets.token_hex(16)}.csv", content)
    run = ImportRun.objects.create(
        school=school,
        kind=kind,
        uploaded_by=by,
        filename=_clean_filename(filename),
        upload=name,
        size=content.size,
        mapping=mapping or {},
        status=ImportStatus.CHECKING,
        progress_total=content.size,
    )
    if check_now:
        return check_import(run)
    _enqueue_check(run)
    return run


def validate_import(
    school: School, *, by, kind: str, filename: str, data: bytes, mapping: dict[str, str] | None = None
) -> ImportRun:
    """Upload and check in one call (scripts, the bench and tests); the web page checks in a job."""
    return upload_import(school, by=by, kind=kind, filename=filename, file=data, mapping=mapping, check_now=True)


def _enqueue_check(run: ImportRun) -> None:
    from schoolgate.pupils.tasks import check_import_run  # a job module imports its actions, not the reverse

    transaction.on_commit(lambda: check_import_run(run.pk))


def check_import(run: ImportRun) -> ImportRun:
    """The check job: read the stored file and record what importing it would do. Safe to run twice."""
    token = _claim(run, Q(status=ImportStatus.CHECKING, lease_token=""), stalled=ImportStatus.CHECKING, progress_done=0)
    if token is None:
        run.refresh_from_db()
        return run
    run.refresh_from_db()
    try:
        found = _read(run, write=False, progress=lambda done: _renew(run, token, progress_done=done))
        _record(run, found)
        run.progress_done = run.progress_total
        _release(run, token, RESULT_FIELDS)
    except LostLease:
        logger.info("Import run %s: another job took over the check, or it was cancelled", run.pk)
        run.refresh_from_db()
    except Exception:
        # A fault of ours or of storage, not of the file: say so plainly rather than retrying for ever.
        logger.exception("Import run %s could not be checked", run.pk)
        _fail(run, token, "The file could not be checked because of a fault in Schoolgate; upload it again.")
        run.refresh_from_db()
    return run


def _fail(run: ImportRun, token: str, message: str) -> None:
    with transaction.atomic():
        if ImportRun.objects.filter(pk=run.pk, lease_token=token).update(
            status=ImportStatus.FAILED,
            upload="",
            preview=[],
            lease_token="",
            lease_expires_at=None,
            problems=[imports.Problem(message).as_dict()],
        ):
            _delete_upload_on_commit(run.upload.name)


def remap_import(run: ImportRun, *, by, mapping: dict[str, str]) -> ImportRun:
    """Check the same stored file again with columns the person chose (as a job)."""
    require_permission(by, run.school, IMPORT_PERMISSION)
    changed = (
        ImportRun.objects.filter(
            pk=run.pk, status__in=[ImportStatus.INVALID, ImportStatus.VALIDATED], confirmed_at=None
        )
        .exclude(upload="")
        .update(status=ImportStatus.CHECKING, mapping=mapping, progress_done=0, lease_token="", lease_expires_at=None)
    )
    if not changed:
        raise ValidationError("This import can no longer be changed; upload the file again.")
    run.refresh_from_db()
    _enqueue_check(run)
    return run


def confirm_import(run: ImportRun, *, by, mark_missing_as_left: bool = False) -> ImportRun:
    """The person confirms a checked file; the import runs as a job, which reports its progress."""
    from schoolgate.pupils.tasks import apply_import_run  # a job module imports its actions, not the reverse

    require_permission(by, run.school, IMPORT_PERMISSION)
    mark = bool(mark_missing_as_left) and run.kind == imports.PUPILS
    with transaction.atomic():
        claimed = (
            ImportRun.objects.filter(pk=run.pk, status=ImportStatus.VALIDATED, confirmed_at=None)
            .exclude(upload="")
            .update(
                confirmed_by=by,
                confirmed_at=timezone.now(),
                mark_missing_as_left=mark,
                progress_done=0,
                progress_total=run.size,
            )
        )
        if not claimed:
            raise ValidationError("This import is not waiting for confirmation (it may have been confirmed already).")
        transaction.on_commit(lambda: apply_import_run(run.pk))
    run.refresh_from_db()
    return run


def apply_import(run: ImportRun, *, by) -> ImportRun:
    """Write a confirmed, checked import: everything in one transaction, or nothing. Safe to run twice.

    1. Claim the run (confirmed → applying, or applying whose job's lease ran out) with a conditional update.
    2. In one transaction: read the file again, checking every row against the school as it is now, and write
       it batch by batch; mark leavers, remember the mapping, audit counts only, and mark the run applied only
       if this job still holds its lease. If anything changed since the check (say, a pupil was removed), it
       all rolls back and the run goes back to "has problems". Checking separately first would read the file
       twice and hold the write lock no less, so the page shows "importing" without a percentage.
    3. The stored file is deleted once that has committed.
    """
    require_permission(by, run.school, IMPORT_PERMISSION)
    token = _claim(
        run,
        Q(status=ImportStatus.VALIDATED) & ~Q(confirmed_at=None),
        stalled=ImportStatus.APPLYING,
        status=ImportStatus.APPLYING,
        progress_done=0,
        progress_total=run.size,
    )
    if token is None:
        raise ValidationError("This import has already been applied or cancelled.")
    run.refresh_from_db()
    try:
        try:
            with transaction.atomic():
                School.objects.select_for_update().filter(pk=run.school_id).first()  # one import per school at a time
                found = _read(run, write=True)
                for name, value in found.counts.as_fields().items():
                    setattr(run, name, value)
                upload = run.upload.name
                run.status, run.applied_at, run.upload, run.preview = (
                    ImportStatus.APPLIED,
                    timezone.now(),
                    "",
                    [],
                )
                run.progress_done = run.progress_total
                _release(run, token, [*COUNT_FIELDS, "status", "applied_at", "upload", "preview", "progress_done"])
                ImportMapping.objects.update_or_create(
                    school=run.school, kind=run.kind, defaults={"mapping": run.mapping, "updated_by": by}
                )
                audit.log(
                    "pupils.import.applied",
                    actor=by,
                    target=run,
                    detail={
                        "kind": run.kind,
                        "filename": run.filename,
                        "rows": run.rows,
                        "created": run.created_count,
                        "updated": run.updated_count,
                        "unchanged": run.unchanged_count,
                        "left": run.left_count,
                        "links_created": run.links_count,
                        "missing_marked_as_left": run.missing_count if run.mark_missing_as_left else 0,
                    },
                )
                _delete_upload_on_commit(upload)
        except StaleCheck:
            _back_to_problems(run, token, _read(run, write=False))
    except LostLease:
        logger.info("Import run %s: another job took over", run.pk)
        run.refresh_from_db()
    except Exception:
        logger.exception("Import run %s failed", run.pk)
        _fail(run, token, "The import failed part-way and nothing was written; upload the file again.")
        raise
    return run


def _back_to_problems(run: ImportRun, token: str, found: Pass) -> None:
    _record(run, found)
    run.confirmed_at = run.confirmed_by = None
    run.progress_done = 0
    _release(run, token, [*RESULT_FIELDS, "confirmed_at", "confirmed_by"])


def cancel_import(run: ImportRun, *, by) -> ImportRun:
    """Drop an unconfirmed import and the file kept for it (a check still running is abandoned)."""
    require_permission(by, run.school, IMPORT_PERMISSION)
    with transaction.atomic():
        cancelled = ImportRun.objects.filter(
            pk=run.pk,
            status__in=[ImportStatus.CHECKING, ImportStatus.INVALID, ImportStatus.VALIDATED],
            confirmed_at=None,
        ).update(status=ImportStatus.CANCELLED, upload="", preview=[], lease_token="", lease_expires_at=None)
        if not cancelled:
            raise ValidationError("Only an import that has not been confirmed can be cancelled.")
        _delete_upload_on_commit(run.upload.name)
        run.refresh_from_db()
        audit.log("pupils.import.cancelled", actor=by, target=run, detail={"kind": run.kind, "filename": run.filename})
    return run


def discard_stale_imports(*, older_than) -> int:
    """Files uploaded but never confirmed are not kept: they hold pupils' personal data."""
    stale = ImportRun.objects.filter(
        status__in=[ImportStatus.CHECKING, ImportStatus.INVALID, ImportStatus.VALIDATED],
        confirmed_at=None,
        created_at__lt=older_than,
    )
    count = 0
    for pk, name in stale.values_list("pk", "upload"):
        with transaction.atomic():
            if ImportRun.objects.filter(pk=pk, confirmed_at=None, upload=name).update(
                status=ImportStatus.CANCELLED, upload="", preview=[], lease_token="", lease_expires_at=None
            ):
                _delete_upload_on_commit(name)
                count += 1
    return count


def stalled_imports() -> list[tuple[int, str]]:
    """Runs whose job stopped (its worker was killed) and whose lease has run out: (id, status) to resume."""
    return list(
        ImportRun.objects.filter(
            status__in=[ImportStatus.CHECKING, ImportStatus.APPLYING], lease_expires_at__lt=timezone.now()
        ).values_list("pk", "status")
    )


def finish_unrunnable_import(run: ImportRun, message: str) -> None:
    """A confirmed run its job may not apply (the person lost the right to import): failed, file deleted."""
    with transaction.atomic():
        if ImportRun.objects.filter(pk=run.pk, status__in=[ImportStatus.VALIDATED, ImportStatus.APPLYING]).update(
            status=ImportStatus.FAILED,
            upload="",
            lease_token="",
            lease_expires_at=None,
            problems=[imports.Problem(message).as_dict()],
        ):
            _delete_upload_on_commit(run.upload.name)
