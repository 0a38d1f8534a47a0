"""Reporting a concern (AW-CON-1) and reading it: the report with its evidence, each audited read."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from schoolgate import crypto
from schoolgate.concerns import access, retention
from schoolgate.concerns.actions.base import audit_concern, require_reader
from schoolgate.concerns.actions.deadlines import start_clock
from schoolgate.concerns.models import (
    Category,
    ClockKind,
    Concern,
    Evidence,
    Network,
    Status,
    Subject,
    SubjectKind,
    WhereKind,
)
from schoolgate.notifications.actions import notify, resolve
from schoolgate.schools.permissions import require_permission
from schoolgate.schools.roles import Role

logger = logging.getLogger(__name__)

REPORT_PERMISSION = "concerns.report"
MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
MAX_EVIDENCE_FILES = 5
EVIDENCE_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "heif": "image/heic",
    "pdf": "application/pdf",
}
NOT_EVIDENCE = "{name} is not a photo, screenshot or PDF. Attach images (JPEG, PNG, WebP, HEIC) or PDFs only."


def _sniff(head: bytes) -> str | None:
    from schoolgate.media.images import sniff_format

    if head.startswith(b"%PDF-"):
        return "pdf"
    return sniff_format(head)


def too_big_message(size: int) -> str:
    return (
        f"A file of {size / (1024 * 1024):.1f} MB is too big: each file may be up to "
        f"{MAX_EVIDENCE_BYTES // (1024 * 1024)} MB. Attach a smaller screenshot, or tell the DSL you have more."
    )


def _read_evidence(files) -> list[tuple[str, str, bytes]]:
    """(name, content type, bytes) of each upload, refused as a whole if any one is not an image or PDF."""
    if len(files) > MAX_EVIDENCE_FILES:
        raise ValidationError({"evidence": f"Attach up to {MAX_EVIDENCE_FILES} files."})
    read = []
    for upload in files:
        name = (getattr(upload, "name", "") or "file")[:200]
        if upload.size > MAX_EVIDENCE_BYTES:
            raise ValidationError({"evidence": too_big_message(upload.size)})
        upload.seek(0)
        data = upload.read()
        kind = _sniff(data[:32])
        if kind is None:
            raise ValidationError({"evidence": NOT_EVIDENCE.format(name=name)})
        read.append((name, EVIDENCE_TYPES[kind], data))
    return read


def _check_when(happened_on: dt.date, happened_time: dt.time | None) -> None:
    now = timezone.localtime()
    if happened_on > now.date() or (happened_on == now.date() and happened_time and happened_time > now.time()):
        raise ValidationError({"happened_on": "That date is in the future. Say when you saw or were told it."})


def report_concern(
    school,
    *,
    by,
    category: str,
    text: str,
    happened_on: dt.date,
    happened_time: dt.time | None = None,
    where_kind: str,
    network: str = "",
    where_detail: str = "",
    pupils=(),
    staff=(),
    about_carer: str = "",
    about_other: str = "",
    files=(),
) -> Concern:
    """Record a concern (AW-CON-1) and tell its readers, without its content.

    1. Check the reporter belongs to the school, and everything they gave: the text, a date not in the future,
       pupils on roll here, members of this school, evidence that is an image or a PDF within the size limit.
    2. In one transaction: the concern (content encrypted), who it is about, the evidence (encrypted), its
       audience (a self-report is about the reporter, AW-CON-3), the clocks it starts, the audit entry.
    3. Tell the readers "a new concern needs your attention" and the reporter that it was received.
    """
    require_permission(by, school, REPORT_PERMISSION)
    text = (text or "").strip()
    errors = {}
    if not text:
        errors["text"] = "Say what you saw or were told."
    if category not in Category.values:
        errors["category"] = "Choose what kind of concern this is."
    if where_kind not in WhereKind.values:
        errors["where_kind"] = "Say where it happened."
    if network and network not in Network.values:
        errors["network"] = "Choose the site or app from the list."
    today = timezone.localdate()
    for pupil in pupils:
        if pupil.school_id != school.pk:
            errors["pupils"] = "Choose pupils of this school."
        elif pupil.leaving_date and pupil.leaving_date <= today:
            errors["pupils"] = (
                f"{pupil} left the school on {pupil.leaving_date:%-d %B %Y}. Describe them under "
                "'someone else' instead, saying they are a former pupil."
            )
    staff = list(staff)
    members = set(school.members().filter(pk__in=[u.pk for u in staff]).values_list("pk", flat=True))
    if any(user.pk not in members for user in staff):
        errors["staff"] = "Choose members of this school."
    if errors:
        raise ValidationError(errors)
    _check_when(happened_on, happened_time)
    evidence = _read_evidence(list(files))
    if category == Category.SELF_REPORT and by not in staff:
        staff.append(by)

    return _record(
        school,
        by=by,
        source="",
        category=category,
        happened_on=happened_on,
        happened_time=happened_time,
        where_kind=where_kind,
        network=network,
        content={
            "text": text,
            "where": (where_detail or "").strip(),
            "carer": about_carer.strip(),
            "other": about_other.strip(),
        },
        pupils=pupils,
        staff=staff,
        evidence=evidence,
    )


def record_found_concern(
    school,
    *,
    source: str,
    category: str,
    text: str,
    happened_at: dt.datetime,
    where_kind: str,
    network: str = "",
    where_detail: str = "",
    evidence: Sequence[tuple[str, str, bytes]] = (),
    by=None,
    staff=(),
) -> Concern:
    """Record a concern that reached Schoolgate rather than being typed in: an item on an official account that
    the screening found, or that a member of staff (`by`) passed to the DSL (RS-ABU-2, AW-CON-1).

    It is recorded, and its readers told, exactly as a report is (report_concern). Without a person, `source`
    says what found it (the concern's pages show it where they would name the reporter) and nobody gets a
    receipt. `evidence` is (name, content type, bytes), prepared by the caller (the network's record as JSON).
    """
    if by is not None:
        require_permission(by, school, REPORT_PERMISSION)
    text = (text or "").strip()
    errors = {}
    if not text:
        errors["text"] = "There is nothing to record."
    if by is None and not source.strip():
        errors["source"] = "Say what found the concern when no person reported it."
    if category not in Category.values:
        errors["category"] = "Choose what kind of concern this is."
    if where_kind not in WhereKind.values:
        errors["where_kind"] = "Say where it happened."
    if network and network not in Network.values:
        errors["network"] = "Choose the site or app from the list."
    staff = list(staff)
    members = set(school.members().filter(pk__in=[u.pk for u in staff]).values_list("pk", flat=True))
    if any(user.pk not in members for user in staff):
        errors["staff"] = "Choose members of this school."
    if errors:
        raise ValidationError(errors)
    # A network's clock may run a little ahead of ours: never a concern that happened in the future.
    local = timezone.localtime(min(happened_at, timezone.now()))
    return _record(
        school,
        by=by,
        source="" if by is not None else source.strip()[:200],
        category=category,
        happened_on=local.date(),
        happened_time=local.time().replace(microsecond=0),
        where_kind=where_kind,
        network=network,
        content={"text": text, "where": where_detail.strip(), "carer": "", "other": ""},
        pupils=(),
        staff=staff,
        evidence=list(evidence),
    )


def _record(
    school, *, by, source, category, happened_on, happened_time, where_kind, network, content, pupils, staff, evidence
) -> Concern:
    """One transaction: the concern (content encrypted), who it is about, the evidence (encrypted), its audience,
    the clocks it starts, the audit entry; then its readers are told, and the reporter (if a person) thanked."""
    with transaction.atomic():
        concern = Concern(
            school=school,
            reported_by=by,
            source=source,
            reported_at=timezone.now(),
            happened_on=happened_on,
            happened_time=happened_time,
            category=category,
            where_kind=where_kind,
            network=network,
            audience=access.audience_for(school, staff),
        )
        concern.seal(**content)
        concern.save()
        Subject.objects.bulk_create(
            [Subject(concern=concern, kind=SubjectKind.PUPIL, pupil=p) for p in pupils]
            + [Subject(concern=concern, kind=SubjectKind.STAFF, user=u) for u in staff]
            + ([Subject(concern=concern, kind=SubjectKind.CARER)] if content["carer"] else [])
            + ([Subject(concern=concern, kind=SubjectKind.OTHER)] if content["other"] else [])
        )
        Evidence.objects.bulk_create(
            [
                Evidence(
                    concern=concern,
                    content_type=content_type,
                    size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    name_encrypted=crypto.encrypt(name),
                    data_encrypted=crypto.fernet().encrypt(data).decode(),
                )
                for name, content_type, data in evidence
            ]
        )
        # An allegation against staff starts the LADO clock, a data breach the ICO one (RS-CON-1). A self-report
        # is leadership's to assess first; routing it to the allegations procedure starts the clock.
        if staff and category != Category.SELF_REPORT:
            start_clock(concern, ClockKind.LADO, at=concern.reported_at, by=by or "system")
        if category == Category.DATA_BREACH:
            start_clock(concern, ClockKind.ICO, at=concern.reported_at, by=by or "system")
        retention.refresh_review_dates(Concern.objects.filter(pk=concern.pk))
        found = {"found_by": "screening"} if by is None else {}
        audit_concern("concerns.reported", concern, actor=by or "system", evidence=len(evidence), **found)
        readers = access.readers_of(concern)
        if not readers:
            logger.warning("Concern %s at school %s has no one in a role that reads it", concern.pk, school.pk)
        notify(
            readers,
            school=school,
            subject="A new concern needs your attention",
            body=f"A safeguarding concern has been reported at {school.name}. Open Schoolgate to read it; "
            "its details are only shown there.",
            url=reverse("concerns:detail", args=[school.slug, concern.pk]),
            urgent=True,
            about=f"concern:{concern.pk}:new",
        )
        notify(
            [by] if by is not None else [],
            school=school,
            subject="Your concern has been received",
            body=f"Thank you. Your concern {concern.reference} has been recorded and the safeguarding leads have "
            "been told. You will be told when it has been read.",
            url=reverse("concerns:receipt", args=[school.slug, concern.pk]),
        )
    return concern


def open_concern(concern: Concern, *, by) -> None:
    """A reader opens a concern: audited every time; the first read tells the reporter who received it."""
    require_reader(by, concern)
    with transaction.atomic():
        audit_concern("concerns.opened", concern, actor=by)
        first = Concern.objects.filter(pk=concern.pk, first_read_at__isnull=True).update(
            first_read_at=timezone.now(), first_read_by=by
        )
        # Being read makes a new concern one being handled; a closed one (closed before anyone opened its page)
        # stays closed.
        Concern.objects.filter(pk=concern.pk, status=Status.NEW).update(status=Status.OPEN)
        resolve(f"concern:{concern.pk}:new", users=[by])
        if first:
            concern.refresh_from_db(fields=["first_read_at", "first_read_by", "status"])
            role = ", ".join(
                sorted(
                    Role(r).label
                    for r in concern.school.roles_of(by) & access.reader_roles(concern.school, concern.audience)
                )
            )
            notify(
                [concern.reported_by] if concern.reported_by_id else [],
                school=concern.school,
                subject="Your concern has been read",
                body=f"Your concern {concern.reference} has been read by {by.full_name} ({role}).",
                url=reverse("concerns:receipt", args=[concern.school.slug, concern.pk]),
            )


def open_evidence(evidence: Evidence, *, by) -> bytes:
    require_reader(by, evidence.concern)
    audit_concern("concerns.evidence_opened", evidence.concern, actor=by, evidence=evidence.pk)
    return evidence.data()
