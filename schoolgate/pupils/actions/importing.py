"""Importing pupils and their parents/carers from CSV exports: check everything, then write it all or nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.pupils import imports
from schoolgate.pupils.models import Carer, CarerLink, ImportMapping, ImportRun, ImportStatus, Pupil
from schoolgate.schools.models import School
from schoolgate.schools.permissions import require_permission

logger = logging.getLogger(__name__)

# Pupil data belongs with the school's leaders and whoever runs its records (schools/permissions.py).
IMPORT_PERMISSION = "pupils.import"
VIEW_PERMISSION = "pupils.view"

PUPIL_DATA_FIELDS = [spec.name for spec in imports.PUPIL_FIELDS if spec.name != "upn"]
BATCH = 500
COUNT_FIELDS = ["created_count", "updated_count", "unchanged_count", "left_count", "missing_count", "links_count"]


@dataclass
class Plan:
    """What an import would do, worked out against the database without writing; `write()` then does it."""

    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    update_fields: set[str] = field(default_factory=set)
    unchanged: int = 0
    left: int = 0
    missing_ids: list[int] = field(default_factory=list)
    links_new: list[tuple[Carer, int, dict]] = field(default_factory=list)
    links_updated: list[CarerLink] = field(default_factory=list)
    link_fields: set[str] = field(default_factory=set)

    def counts(self, kind: str, *, mark_missing_as_left: bool) -> dict:
        if kind == imports.PUPILS:
            left = self.left + (len(self.missing_ids) if mark_missing_as_left else 0)
            return {
                "created_count": len(self.created),
                "updated_count": len(self.updated),
                "unchanged_count": self.unchanged,
                "left_count": left,
                "missing_count": len(self.missing_ids),
                "links_count": 0,
            }
        return {
            "created_count": len(self.created),
            "updated_count": len(self.updated) + len(self.links_updated),
            "unchanged_count": self.unchanged,
            "left_count": 0,
            "missing_count": 0,
            "links_count": len(self.links_new),
        }


def _blank(spec_name: str):
    return None if spec_name in {"date_of_birth", "leaving_date"} else ""


def plan_pupils(school: School, rows: list[dict], mapping: dict[str, str]) -> Plan:
    """Match rows to pupils by UPN (one query); only the file's mapped columns are changed, nothing is deleted."""
    plan = Plan()
    existing = {pupil.upn.upper(): pupil for pupil in Pupil.objects.filter(school=school)}
    fields = [name for name in PUPIL_DATA_FIELDS if name in mapping]
    for row in rows:
        values = {name: row.get(name) or _blank(name) for name in fields}
        pupil = existing.get(row["upn"])
        if pupil is None:
            plan.created.append(Pupil(school=school, upn=row["upn"], **values))
            plan.left += bool(values.get("leaving_date"))
            continue
        changed = [name for name, value in values.items() if getattr(pupil, name) != value]
        if pupil.upn != row["upn"]:
            changed.append("upn")  # matched regardless of case; stored as the file has it
        if "leaving_date" in changed and values["leaving_date"] and pupil.leaving_date is None:
            plan.left += 1
        if not changed:
            plan.unchanged += 1
            continue
        pupil.upn = row["upn"]
        for name in fields:
            setattr(pupil, name, values[name])
        plan.updated.append(pupil)
        plan.update_fields.update(changed)
    in_file = {row["upn"] for row in rows}
    plan.missing_ids = [
        pupil.pk for upn, pupil in existing.items() if upn not in in_file and pupil.leaving_date is None
    ]
    return plan


def plan_contacts(school: School, rows: list[dict], mapping: dict[str, str]) -> Plan:
    """Match contacts by name with email (or phone), and links by contact and pupil; three queries in all."""
    plan = Plan()
    pupils = {upn.upper(): pk for pk, upn in Pupil.objects.filter(school=school).values_list("pk", "upn")}
    carers = {imports.contact_key(c.full_name, c.email, c.phone): c for c in Carer.objects.filter(school=school)}
    links = {(link.carer_id, link.pupil_id): link for link in CarerLink.objects.filter(carer__school=school)}
    new_carers: set[int] = set()
    changed_carers: dict[int, Carer] = {}
    link_values = [name for name in ("relationship", "parental_responsibility") if name in mapping]
    for row in rows:
        name, email, phone = row["name"], row.get("email") or "", row.get("phone") or ""
        key = imports.contact_key(name, email, phone)
        carer = carers.get(key)
        if carer is None:
            carer = carers[key] = Carer(school=school, full_name=name, email=email, phone=phone)
            plan.created.append(carer)
            new_carers.add(id(carer))
        else:
            details = {"full_name": name, "email": email, **({"phone": phone} if "phone" in mapping else {})}
            changed = [attr for attr, value in details.items() if getattr(carer, attr) != value]
            for attr in changed:
                setattr(carer, attr, details[attr])
            if changed and id(carer) not in new_carers:
                changed_carers[id(carer)] = carer
                plan.update_fields.update(changed)
        values = {attr: row.get(attr) if attr == "relationship" else bool(row.get(attr)) for attr in link_values}
        pupil_id = pupils[row["pupil_upn"]]
        link = links.get((carer.pk, pupil_id)) if carer.pk else None
        if link is None:
            plan.links_new.append((carer, pupil_id, values))
            continue
        changed = [attr for attr, value in values.items() if getattr(link, attr) != value]
        if changed:
            for attr in changed:
                setattr(link, attr, values[attr])
            plan.links_updated.append(link)
            plan.link_fields.update(changed)
        elif id(carer) not in changed_carers:
            plan.unchanged += 1
    plan.updated = list(changed_carers.values())
    return plan


def _write(kind: str, plan: Plan, *, mark_missing_as_left: bool) -> None:
    if kind == imports.PUPILS:
        Pupil.objects.bulk_create(plan.created, batch_size=BATCH)
        if plan.updated:
            Pupil.objects.bulk_update(plan.updated, sorted(plan.update_fields), batch_size=BATCH)
        if mark_missing_as_left:
            today = timezone.localdate()
            for start in range(0, len(plan.missing_ids), BATCH):
                Pupil.objects.filter(pk__in=plan.missing_ids[start : start + BATCH]).update(leaving_date=today)
        return
    # Carers first: bulk_create sets their primary keys, which the new links need.
    Carer.objects.bulk_create(plan.created, batch_size=BATCH)
    if plan.updated:
        Carer.objects.bulk_update(plan.updated, sorted(plan.update_fields), batch_size=BATCH)
    CarerLink.objects.bulk_create(
        [CarerLink(carer=carer, pupil_id=pupil_id, **values) for carer, pupil_id, values in plan.links_new],
        batch_size=BATCH,
    )
    if plan.links_updated:
        CarerLink.objects.bulk_update(plan.links_updated, sorted(plan.link_fields), batch_size=BATCH)


def _known_upns(school: School, kind: str) -> list[str]:
    if kind != imports.CONTACTS:
        return []
    return list(Pupil.objects.filter(school=school).values_list("upn", flat=True))


def _plan(school: School, kind: str, result: imports.ImportResult) -> Plan:
    return (plan_pupils if kind == imports.PUPILS else plan_contacts)(school, result.rows, result.mapping)


def _check(run: ImportRun, mapping: dict[str, str], *, progress=None) -> tuple[imports.ImportResult, Plan | None]:
    """Check the stored file with `mapping` against the school as it is now; plan the writes when it is valid."""
    table = imports.read_text(run.content, encoding=run.encoding)
    result = imports.validate_table(
        run.kind,
        table,
        mapping,
        known_upns=_known_upns(run.school, run.kind),
        today=timezone.localdate(),
        progress=progress,
    )
    return result, (_plan(run.school, run.kind, result) if result.ok else None)


def _record_check(run: ImportRun, result: imports.ImportResult, plan: Plan | None) -> None:
    run.delimiter, run.headers, run.mapping = result.delimiter, result.headers, result.mapping
    run.problems = [problem.as_dict() for problem in result.problems]
    run.rows = len(result.rows)
    run.status = ImportStatus.VALIDATED if plan is not None else ImportStatus.INVALID
    counts = plan.counts(run.kind, mark_missing_as_left=False) if plan else dict.fromkeys(COUNT_FIELDS, 0)
    for name, value in counts.items():
        setattr(run, name, value)


def remembered_mapping(school: School, kind: str) -> dict[str, str]:
    saved = ImportMapping.objects.filter(school=school, kind=kind).first()
    return dict(saved.mapping) if saved else {}


def validate_import(
    school: School, *, by, kind: str, filename: str, data: bytes, mapping: dict[str, str] | None = None
) -> ImportRun:
    """Check an uploaded export and keep it for confirmation; nothing about pupils or carers is written.

    1. Decode (UTF-8, with or without BOM, else Windows-1252) and find the separator.
    2. Map columns: the given mapping, else the school's remembered one, else suggestions from the headers.
    3. Check every row, and count what applying would create, update and mark as left.
    """
    require_permission(by, school, IMPORT_PERMISSION)
    imports.fields_for(kind)
    text, encoding, problems = imports.decode(data)
    run = ImportRun(
        school=school, kind=kind, uploaded_by=by, filename=filename[:255], encoding=encoding, content=text or ""
    )
    if text is None:
        run.problems = [problem.as_dict() for problem in problems]
        run.save()
        return run
    if mapping is None:
        headers = imports.read_text(text, encoding=encoding).headers
        mapping = imports.suggest_mapping(kind, headers, remembered_mapping(school, kind))
    _record_check(run, *_check(run, mapping))
    run.save()
    return run


def remap_import(run: ImportRun, *, by, mapping: dict[str, str]) -> ImportRun:
    """Check the same stored file again with columns the person chose."""
    require_permission(by, run.school, IMPORT_PERMISSION)
    if run.status not in {ImportStatus.INVALID, ImportStatus.VALIDATED} or run.confirmed_at or not run.content:
        raise ValidationError("This import can no longer be changed; upload the file again.")
    _record_check(run, *_check(run, mapping))
    run.save()
    return run


def confirm_import(run: ImportRun, *, by, mark_missing_as_left: bool = False) -> ImportRun:
    """The person confirms a checked file; the import runs as a job, which reports its progress."""
    from schoolgate.pupils.tasks import apply_import_run

    require_permission(by, run.school, IMPORT_PERMISSION)
    mark = bool(mark_missing_as_left) and run.kind == imports.PUPILS
    with transaction.atomic():
        claimed = ImportRun.objects.filter(pk=run.pk, status=ImportStatus.VALIDATED, confirmed_at=None).update(
            confirmed_by=by,
            confirmed_at=timezone.now(),
            mark_missing_as_left=mark,
            progress_done=0,
            progress_total=2 * run.rows,
        )
        if not claimed:
            raise ValidationError("This import is not waiting for confirmation (it may have been confirmed already).")
        transaction.on_commit(lambda: apply_import_run(run.pk))
    run.refresh_from_db()
    return run


def _set_progress(run: ImportRun, done: int) -> None:
    # Autocommitted on its own, so the page polling the status sees it while the job runs.
    ImportRun.objects.filter(pk=run.pk).update(progress_done=done)


def apply_import(run: ImportRun, *, by) -> ImportRun:
    """Write a confirmed, checked import: everything in one transaction, or nothing.

    1. Claim the run (validated → applying) with a conditional update, so it applies once however often
       it is called.
    2. Check the stored file again against the school as it is now (progress: the first half of the bar);
       if something changed since (say, a pupil was removed), the run goes back to "has problems".
    3. In one transaction: create and update in bulk, mark leavers, remember the mapping, audit counts
       only. Progress inside that transaction would be invisible to other connections, so the bar jumps
       from half to full when it commits (a few seconds at most for thousands of rows).
    """
    require_permission(by, run.school, IMPORT_PERMISSION)
    claimed = ImportRun.objects.filter(pk=run.pk, status=ImportStatus.VALIDATED).update(
        status=ImportStatus.APPLYING, progress_done=0, progress_total=2 * run.rows
    )
    if not claimed:
        raise ValidationError("This import has already been applied or cancelled.")
    run.refresh_from_db()
    try:
        result, plan = _check(run, run.mapping, progress=lambda done: _set_progress(run, done))
        if plan is None:
            _record_check(run, result, plan)
            run.confirmed_at = run.confirmed_by = None
            run.progress_done = 0
            run.save()
            return run
        _set_progress(run, run.rows)
        with transaction.atomic():
            School.objects.select_for_update().filter(pk=run.school_id).first()  # one import per school at a time
            _write(run.kind, plan, mark_missing_as_left=run.mark_missing_as_left)
            for name, value in plan.counts(run.kind, mark_missing_as_left=run.mark_missing_as_left).items():
                setattr(run, name, value)
            run.status, run.applied_at, run.content = ImportStatus.APPLIED, timezone.now(), ""
            run.progress_done = run.progress_total
            run.save()
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
    except Exception:
        logger.exception("Import run %s failed", run.pk)
        ImportRun.objects.filter(pk=run.pk).update(
            status=ImportStatus.FAILED,
            problems=[imports.Problem("The import failed part-way and nothing was written; try again.").as_dict()],
        )
        raise
    return run


def cancel_import(run: ImportRun, *, by) -> ImportRun:
    """Drop an unconfirmed import and the copy of the file kept for it."""
    require_permission(by, run.school, IMPORT_PERMISSION)
    cancelled = ImportRun.objects.filter(
        pk=run.pk, status__in=[ImportStatus.INVALID, ImportStatus.VALIDATED], confirmed_at=None
    ).update(status=ImportStatus.CANCELLED, content="")
    if not cancelled:
        raise ValidationError("Only an import that has not been confirmed can be cancelled.")
    run.refresh_from_db()
    audit.log("pupils.import.cancelled", actor=by, target=run, detail={"kind": run.kind, "filename": run.filename})
    return run


def discard_stale_imports(*, older_than) -> int:
    """Files uploaded but never confirmed are not kept: they hold pupils' personal data."""
    return ImportRun.objects.filter(
        status__in=[ImportStatus.INVALID, ImportStatus.VALIDATED], confirmed_at=None, created_at__lt=older_than
    ).update(status=ImportStatus.CANCELLED, content="")
