"""Handling a concern (RS-ROLE-1, AW-CON-4): each step an entry added to its chronology, never an earlier one
changed; the concern's state as it stands (status, lead, procedure, review date) kept from those entries."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from schoolgate.concerns import access, retention
from schoolgate.concerns.actions.base import NO_REASON, audit_concern, require_reader
from schoolgate.concerns.actions.deadlines import start_clock
from schoolgate.concerns.models import (
    CLOCK_AGENCY,
    PARENT_CONTACT_CATEGORIES,
    Agency,
    AgencyDecision,
    Concern,
    ContactMethod,
    Entry,
    EntryKind,
    Status,
    Subject,
    SubjectKind,
)
from schoolgate.concerns.retention import add_years
from schoolgate.schools.roles import Role

NOT_TOLD_PARENTS = (
    "This concern is about underage use or images, which the policy shares with parents or carers: record the "
    "contact with them, or why they were not contacted, before closing it."
)


def _procedure(school, key: str) -> dict | None:
    return next((p for p in access.concern_settings(school).procedure_list() if p["key"] == key), None)


def parents_told(concern: Concern) -> bool:
    """Whether a contact with the parents, or the decision not to contact them, is on the record."""
    return concern.entries.filter(kind__in=[EntryKind.PARENT_CONTACT, EntryKind.NO_PARENT_CONTACT]).exists()


def needs_parent_contact(concern: Concern) -> bool:
    return concern.category in PARENT_CONTACT_CATEGORIES and not parents_told(concern)


def _check_entry(concern: Concern, *, by, kind: str, fields: dict, now: dt.datetime) -> tuple[dict, dict | None]:
    """What is wrong with an entry of this kind, by field; and the procedure it routes to."""
    text, reason = fields["text"], fields["reason"]
    errors: dict[str, str] = {}
    route = None
    if fields["occurred_at"] and fields["occurred_at"] > now:
        errors["occurred_at"] = "That time is in the future. Record what has happened."
    if kind == EntryKind.ASSESSMENT:
        role = access.concern_settings(concern.school).initial_assessment_role
        # The policy's assessor, where that role reads this concern at all (not the head for one about the head).
        reads = role and role in access.reader_roles(concern.school, concern.audience)
        if reads and role not in concern.school.roles_of(by):
            errors["__all__"] = f"The school's policy says the initial assessment is made by the {Role(role).label}."
        if not text:
            errors["text"] = "Write the assessment."
    elif kind == EntryKind.ROUTED:
        route = _procedure(concern.school, fields["procedure"])
        if route is None:
            errors["procedure"] = "Choose one of the school's procedures."
    elif kind == EntryKind.LEAD:
        lead = fields["owner"]
        if lead is None:
            errors["owner"] = "Choose who leads the investigation."
        elif not access.may_read(lead, concern):
            # Only a reader may lead: the lead reads everything recorded, and the subject never does.
            errors["owner"] = (
                f"{lead.full_name} cannot read this concern, so cannot lead it. Choose someone who reads it."
            )
        elif lead.pk == concern.lead_id:
            errors["owner"] = f"{lead.full_name} already leads this investigation."
    elif kind == EntryKind.AGENCY:
        if fields["agency"] not in Agency.values:
            errors["agency"] = "Choose the agency."
        if fields["agency_decision"] not in AgencyDecision.values:
            errors["agency_decision"] = "Say whether it was referred or notified, or that you decided not to."
        elif fields["agency_decision"] == AgencyDecision.NOT_REFERRED and not reason:
            errors["reason"] = NO_REASON
    elif kind == EntryKind.ACTION:
        if not text:
            errors["text"] = "Say what is to be done."
        if fields["owner"] is None:
            errors["owner"] = "Say who will do it."
        elif not concern.school.members().filter(pk=fields["owner"].pk).exists():
            errors["owner"] = "Choose a member of this school."
        if fields["due_on"] is None:
            errors["due_on"] = "Say when it is due."
    elif kind == EntryKind.PARENT_CONTACT:
        if not fields["contact"]:
            errors["contact"] = "Say who you spoke to."
        if fields["contact_method"] not in ContactMethod.values:
            errors["contact_method"] = "Say how you were in touch."
        if fields["occurred_at"] is None:
            errors["occurred_at"] = "Say when."
        if not fields["shared"]:
            errors["shared"] = "Say what was shared."
        if not fields["outcome"]:
            errors["outcome"] = "Say what came of it."
    elif kind == EntryKind.NO_PARENT_CONTACT:
        if not reason:
            errors["reason"] = "Say why the parents or carers were not contacted: it is part of the record."
    elif kind in {EntryKind.OUTCOME, EntryKind.CLOSURE}:
        if not text:
            errors["text"] = "Write the decision or outcome."
        if not reason:
            errors["reason"] = NO_REASON
        if kind == EntryKind.CLOSURE:
            running = [c.get_kind_display() for c in concern.clocks.running()]
            if concern.status == Status.CLOSED:
                errors["__all__"] = "This concern is already closed."
            elif running:
                errors["__all__"] = (
                    f"This concern cannot be closed while a deadline is open ({', '.join(running)}): record the "
                    "referral, or the decision not to refer with its reason, first."
                )
            elif needs_parent_contact(concern):
                errors["__all__"] = NOT_TOLD_PARENTS
    elif kind == EntryKind.REOPENED:
        if concern.status != Status.CLOSED:
            errors["__all__"] = "Only a closed concern can be reopened."
        if not reason:
            errors["reason"] = "Say why the concern is reopened."
    elif kind == EntryKind.RETENTION:
        keep_until = fields["keep_until"]
        # The rules alone (an earlier review's date is a decision a later review may revisit).
        rule = retention.retention_of(concern, access.concern_settings(concern.school), reviews=[])
        if keep_until is None:
            errors["keep_until"] = "Say until when the record is kept (its next review)."
        elif keep_until <= timezone.localdate():
            errors["keep_until"] = "Choose a date in the future: records are kept, and reviewed again then."
        elif keep_until < rule.review_on:
            # A review keeps a record longer, never shorter than the rules.
            errors["keep_until"] = (
                f"The retention rules keep this record until {rule.review_on:%-d %B %Y}: choose that date or later."
            )
        if not reason:
            errors["reason"] = "Say why the record is kept: it is part of the record."
    elif kind == EntryKind.CORRECTION:
        corrects = fields["corrects"]
        if corrects is None or corrects.concern_id != concern.pk:
            errors["corrects"] = "Choose the entry this corrects."
        if not text:
            errors["text"] = "Write the corrected record."
        if not reason:
            errors["reason"] = "Say why the entry is corrected."
    elif kind == EntryKind.NOTE and not text:
        errors["text"] = "Write the note."
    return errors, route


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
    keep_until: dt.date | None = None,
    corrects: Entry | None = None,
) -> Entry:
    """Add one step to the chronology (RS-ROLE-1, AW-CON-4), never changing an earlier one.

    1. Check the person reads the concern, and what this kind of entry needs: routing to one of the school's
       procedures; a lead who reads the concern; a reason for every decision; parents told (or why not) before
       a concern about underage use or images is closed; no clock running at closure; a retention review
       keeping the record at least as long as the rules.
    2. In one transaction: the entry (its words encrypted); a procedure's clock started, an agency's stopped;
       the concern's status, lead, procedure and review date as they now stand; the audit entry.
    """
    require_reader(by, concern, "You cannot handle this concern.")
    if kind not in EntryKind.values:
        raise ValidationError("Choose what you are recording.")
    now = timezone.now()
    fields = {
        "text": (text or "").strip(),
        "reason": (reason or "").strip(),
        "occurred_at": occurred_at,
        "procedure": procedure,
        "agency": agency,
        "agency_decision": agency_decision,
        "owner": owner,
        "due_on": due_on,
        "contact": (contact or "").strip(),
        "contact_method": contact_method,
        "shared": (shared or "").strip(),
        "outcome": (outcome or "").strip(),
        "keep_until": keep_until,
        "corrects": corrects,
    }
    errors, route = _check_entry(concern, by=by, kind=kind, fields=fields, now=now)
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
            owner=owner if kind in {EntryKind.ACTION, EntryKind.ROUTED, EntryKind.LEAD} else None,
            due_on=due_on if kind == EntryKind.ACTION else None,
            contact_method=contact_method if kind == EntryKind.PARENT_CONTACT else "",
            keep_until=keep_until if kind == EntryKind.RETENTION else None,
            corrects=corrects if kind == EntryKind.CORRECTION else None,
        )
        entry.seal(
            text=fields["text"],
            reason=fields["reason"],
            reference=(reference or "").strip(),
            contact=fields["contact"],
            shared=fields["shared"],
            outcome=fields["outcome"],
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
        changed = []
        if kind == EntryKind.CLOSURE:
            concern.status, concern.closed_at = Status.CLOSED, entry.recorded_at
            changed += ["status", "closed_at"]
        elif kind == EntryKind.REOPENED:
            concern.status, concern.closed_at = Status.OPEN, None
            changed += ["status", "closed_at"]
        elif kind == EntryKind.LEAD:
            concern.lead = owner
            changed.append("lead")
        elif route:
            concern.procedure, concern.procedure_name = route["key"], route["name"]
            changed += ["procedure", "procedure_name"]
        if changed:
            concern.save(update_fields=changed)
        if kind == EntryKind.RETENTION:
            retention.refresh_review_dates(Concern.objects.filter(pk=concern.pk))
        audit_concern("concerns.entry_added", concern, actor=by, entry=entry.pk, kind=kind)
    return entry


def record_staff_dates(
    subject: Subject, *, by, date_of_birth: dt.date | None = None, pension_on: dt.date | None = None
) -> Subject:
    """Record a staff subject's date of birth or normal pension date, for the record's retention; audited, and the
    review date follows at once. Leaving both empty clears them (the rule falls back to 10 years)."""
    concern = subject.concern
    require_reader(by, concern, "You cannot handle this concern.")
    errors = {}
    if subject.kind != SubjectKind.STAFF:
        raise ValidationError("Dates for the retention of an allegation are recorded for members of staff only.")
    today = timezone.localdate()
    if date_of_birth and not (add_years(today, -100) < date_of_birth < add_years(today, -14)):
        errors["date_of_birth"] = "That date of birth cannot be right for a member of staff. Check the year."
    if pension_on and date_of_birth and pension_on <= date_of_birth:
        errors["pension_on"] = "The pension date must be after the date of birth."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        subject.staff_date_of_birth, subject.staff_pension_on = date_of_birth, pension_on
        subject.save(update_fields=["staff_date_of_birth", "staff_pension_on"])
        retention.refresh_review_dates(Concern.objects.filter(pk=concern.pk))
        audit_concern("concerns.staff_dates_recorded", concern, actor=by, subject=subject.pk)
    return subject
