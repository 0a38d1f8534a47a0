"""Concern actions: report, open (audited), open evidence, add a handling entry, start and stop clocks, sweep.

Each checks who may do it, writes, audits and notifies. Audit entries and notifications carry a reference and a
link, never what a concern says. The audit entries are kept out of the school's audit log (school=None): that log
is read by headteachers and DSLs, who may be the subject of a concern, and even "Alice reported concern 12, the
chair opened it" would tell them. They stay in the one hash-chained log, and each concern's page lists its reads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from schoolgate import crypto
from schoolgate.audit import actions as audit
from schoolgate.concerns import access, clocks
from schoolgate.concerns.models import (
    CLOCK_AGENCY,
    Agency,
    AgencyDecision,
    Category,
    Clock,
    ClockKind,
    Concern,
    ContactMethod,
    Entry,
    EntryKind,
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
NO_REASON = "Give the reason for the decision: it is part of the record."


def _audit(action: str, concern: Concern, *, actor, **detail) -> None:
    audit.log(
        action, actor=actor, detail={"concern": concern.pk, "school": concern.school_id, **detail}, restricted=True
    )


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

    with transaction.atomic():
        concern = Concern(
            school=school,
            reported_by=by,
            reported_at=timezone.now(),
            happened_on=happened_on,
            happened_time=happened_time,
            category=category,
            where_kind=where_kind,
            network=network,
            audience=access.audience_for(school, staff),
        )
        concern.seal(
            text=text, where=(where_detail or "").strip(), carer=about_carer.strip(), other=about_other.strip()
        )
        concern.save()
        Subject.objects.bulk_create(
            [Subject(concern=concern, kind=SubjectKind.PUPIL, pupil=p) for p in pupils]
            + [Subject(concern=concern, kind=SubjectKind.STAFF, user=u) for u in staff]
            + ([Subject(concern=concern, kind=SubjectKind.CARER)] if about_carer.strip() else [])
            + ([Subject(concern=concern, kind=SubjectKind.OTHER)] if about_other.strip() else [])
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
            start_clock(concern, ClockKind.LADO, at=concern.reported_at, by=by)
        if category == Category.DATA_BREACH:
            start_clock(concern, ClockKind.ICO, at=concern.reported_at, by=by)
        _audit("concerns.reported", concern, actor=by, evidence=len(evidence))
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
            [by],
            school=school,
            subject="Your concern has been received",
            body=f"Thank you. Your concern {concern.reference} has been recorded and the safeguarding leads have "
            "been told. You will be told when it has been read.",
            url=reverse("concerns:receipt", args=[school.slug, concern.pk]),
        )
    return concern


def open_concern(concern: Concern, *, by) -> None:
    """A reader opens a concern: audited every time; the first read tells the reporter who received it."""
    if not access.may_read(by, concern):
        raise PermissionDenied("You cannot read this concern.")
    with transaction.atomic():
        _audit("concerns.opened", concern, actor=by)
        first = Concern.objects.filter(pk=concern.pk, first_read_at__isnull=True).update(
            first_read_at=timezone.now(), first_read_by=by, status=Status.OPEN
        )
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
                [concern.reported_by],
                school=concern.school,
                subject="Your concern has been read",
                body=f"Your concern {concern.reference} has been read by {by.full_name} ({role}).",
                url=reverse("concerns:receipt", args=[concern.school.slug, concern.pk]),
            )


def open_evidence(evidence: Evidence, *, by) -> bytes:
    if not access.may_read(by, evidence.concern):
        raise PermissionDenied("You cannot read this concern.")
    _audit("concerns.evidence_opened", evidence.concern, actor=by, evidence=evidence.pk)
    return evidence.data()


def start_clock(concern: Concern, kind: str, *, at: dt.datetime, by) -> Clock:
    """Start a clock unless one of its kind is already running on the concern."""
    running = concern.clocks.running().filter(kind=kind).first()
    if running is not None:
        return running
    clock = Clock.objects.create(
        concern=concern, kind=kind, started_at=at, due_at=clocks.due_at(kind, concern.school, at)
    )
    _audit("concerns.clock_started", concern, actor=by, clock=kind, due_at=clock.due_at)
    return clock


def _procedure(school, key: str) -> dict | None:
    return next((p for p in access.concern_settings(school).procedure_list() if p["key"] == key), None)


def add_entry(
    concern: Concern,
    *,
    by,
    kind: str,
    text: str = "",
    reason: str = "",
    occurred_at: dt.datetime | None = None,
    procedure: str = "",
    agency: str = "",
    agency_decision: str = "",
    reference: str = "",
    owner=None,
    due_on: dt.date | None = None,
    contact: str = "",
    contact_method: str = "",
    shared: str = "",
    outcome: str = "",
    corrects: Entry | None = None,
) -> Entry:
    """Add one step to the chronology (RS-ROLE-1, AW-CON-4), never changing an earlier one.

    Routing to a procedure with a clock starts it; a referral to the LADO or the ICO, or the recorded decision
    not to, with its reason, stops it; a concern cannot be closed while a clock runs."""
    if not access.may_read(by, concern):
        raise PermissionDenied("You cannot handle this concern.")
    text, reason = (text or "").strip(), (reason or "").strip()
    errors: dict[str, str] = {}
    settings = access.concern_settings(concern.school)
    now = timezone.now()
    if kind not in EntryKind.values:
        raise ValidationError("Choose what you are recording.")
    if occurred_at and occurred_at > now:
        errors["occurred_at"] = "That time is in the future. Record what has happened."
    route = None
    if kind == EntryKind.ASSESSMENT:
        role = settings.initial_assessment_role
        # The policy's assessor, where that role reads this concern at all (not the head for one about the head).
        reads = role and role in access.reader_roles(concern.school, concern.audience)
        if reads and role not in concern.school.roles_of(by):
            errors["__all__"] = f"The school's policy says the initial assessment is made by the {Role(role).label}."
        if not text:
            errors["text"] = "Write the assessment."
    elif kind == EntryKind.ROUTED:
        route = _procedure(concern.school, procedure)
        if route is None:
            errors["procedure"] = "Choose one of the school's procedures."
    elif kind == EntryKind.AGENCY:
        if agency not in Agency.values:
            errors["agency"] = "Choose the agency."
        if agency_decision not in AgencyDecision.values:
            errors["agency_decision"] = "Say whether it was referred or notified, or that you decided not to."
        elif agency_decision == AgencyDecision.NOT_REFERRED and not reason:
            errors["reason"] = NO_REASON
    elif kind == EntryKind.ACTION:
        if not text:
            errors["text"] = "Say what is to be done."
        if owner is None:
            errors["owner"] = "Say who will do it."
        elif not concern.school.members().filter(pk=owner.pk).exists():
            errors["owner"] = "Choose a member of this school."
        if due_on is None:
            errors["due_on"] = "Say when it is due."
    elif kind == EntryKind.PARENT_CONTACT:
        if not contact.strip():
            errors["contact"] = "Say who you spoke to."
        if contact_method not in ContactMethod.values:
            errors["contact_method"] = "Say how you were in touch."
        if occurred_at is None:
            errors["occurred_at"] = errors.get("occurred_at") or "Say when."
        if not shared.strip():
            errors["shared"] = "Say what was shared."
        if not outcome.strip():
            errors["outcome"] = "Say what came of it."
    elif kind in {EntryKind.OUTCOME, EntryKind.CLOSURE}:
        if not text:
            errors["text"] = "Write the decision or outcome."
        if not reason:
            errors["reason"] = NO_REASON
        if kind == EntryKind.CLOSURE:
            if concern.status == Status.CLOSED:
                errors["__all__"] = "This concern is already closed."
            running = [c.get_kind_display() for c in concern.clocks.running()]
            if running:
                errors["__all__"] = (
                    f"This concern cannot be closed while a deadline is open ({', '.join(running)}): record the "
                    "referral, or the decision not to refer with its reason, first."
                )
    elif kind == EntryKind.CORRECTION:
        if corrects is None or corrects.concern_id != concern.pk:
            errors["corrects"] = "Choose the entry this corrects."
        if not text:
            errors["text"] = "Write the corrected record."
        if not reason:
            errors["reason"] = "Say why the entry is corrected."
    elif kind == EntryKind.NOTE and not text:
        errors["text"] = "Write the note."
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        entry = Entry(
            concern=concern,
            kind=kind,
            recorded_at=now,
            recorded_by=by,
            occurred_at=occurred_at,
            procedure=route["key"] if route else "",
            procedure_name=route["name"] if route else "",
            agency=agency if kind == EntryKind.AGENCY else "",
            agency_decision=agency_decision if kind == EntryKind.AGENCY else "",
            owner=owner if kind in {EntryKind.ACTION, EntryKind.ROUTED} else None,
            due_on=due_on if kind == EntryKind.ACTION else None,
            contact_method=contact_method if kind == EntryKind.PARENT_CONTACT else "",
            corrects=corrects if kind == EntryKind.CORRECTION else None,
        )
        entry.seal(
            text=text,
            reason=reason,
            reference=reference.strip(),
            contact=contact.strip(),
            shared=shared.strip(),
            outcome=outcome.strip(),
        )
        entry.save()
        if route and route.get("clock"):
            start_clock(concern, route["clock"], at=entry.recorded_at, by=by)
        if kind == EntryKind.AGENCY:
            for clock_kind, clock_agency in CLOCK_AGENCY.items():
                if agency == clock_agency:
                    concern.clocks.running().filter(kind=clock_kind).update(
                        stopped_at=entry.recorded_at, stopped_by=entry
                    )
        if kind == EntryKind.CLOSURE:
            concern.status, concern.closed_at = Status.CLOSED, entry.recorded_at
            concern.save(update_fields=["status", "closed_at"])
        _audit("concerns.entry_added", concern, actor=by, entry=entry.pk, kind=kind)
    return entry


def sweep_clocks(now: dt.datetime | None = None) -> int:
    """Warn the readers before a clock runs out and again when it has; each notice claimed once (a conditional
    update), so two sweeps never send it twice. Returns how many notices went out."""
    now = now or timezone.now()
    sent = 0
    running = Clock.objects.running().select_related("concern__school")
    for clock in running.filter(overdue_notified_at__isnull=True, due_at__lte=now):
        if Clock.objects.filter(pk=clock.pk, overdue_notified_at__isnull=True).update(overdue_notified_at=now):
            _tell_readers(clock, overdue=True)
            sent += 1
    for clock in running.filter(warned_at__isnull=True, due_at__gt=now):
        hours = access.concern_settings(clock.concern.school).clock_warning_hours
        if clock.due_at - dt.timedelta(hours=hours) > now:
            continue
        if Clock.objects.filter(pk=clock.pk, warned_at__isnull=True).update(warned_at=now):
            _tell_readers(clock, overdue=False)
            sent += 1
    return sent


def _tell_readers(clock: Clock, *, overdue: bool) -> None:
    concern = clock.concern
    due = timezone.localtime(clock.due_at)
    notify(
        access.readers_of(concern),
        school=concern.school,
        subject="A safeguarding deadline has passed" if overdue else "A safeguarding deadline is near",
        body=(
            f"A deadline on a safeguarding concern at {concern.school.name} "
            + ("ran out" if overdue else "runs out")
            + f" at {due:%H:%M on %A %d %B}. Open Schoolgate to see it."
        ),
        url=reverse("concerns:detail", args=[concern.school.slug, concern.pk]),
        urgent=True,
    )
