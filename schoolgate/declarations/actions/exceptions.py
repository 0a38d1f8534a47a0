"""Exceptions for personal-account contact, approved by the headteacher with an end date (AW-CON-6)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from schoolgate import crypto
from schoolgate.declarations import access
from schoolgate.declarations.access import CHOOSE_PUPILS_PERMISSION, DECLARE_PERMISSION
from schoolgate.declarations.actions.base import audit_restricted, logger, require_declarant
from schoolgate.declarations.models import (
    ContactException,
    ContactKind,
    ExceptionStatus,
    Network,
)
from schoolgate.notifications.actions import notify, resolve
from schoolgate.schools.permissions import has_permission, require_permission

MAX_EXCEPTION_DAYS = 366


def _check_end(day: dt.date | None, field: str, today: dt.date, errors: dict) -> None:
    if day is None:
        errors[field] = "Give the date it should end."
    elif day < today:
        errors[field] = "That date has passed. Give the last day it should apply."
    elif day > today + dt.timedelta(days=MAX_EXCEPTION_DAYS):
        errors[field] = "An exception lasts a year at most; ask again when it ends."


def request_exception(
    school,
    *,
    by,
    network: str,
    contact_kind: str,
    reason: str,
    needed_until: dt.date | None,
    pupil=None,
    who: str = "",
) -> ContactException:
    """A member asks to be in contact with a named pupil or parent on a personal account; the approver is told."""
    require_permission(by, school, DECLARE_PERMISSION)
    reason, who = (reason or "").strip(), (who or "").strip()
    today = timezone.localdate()
    errors: dict[str, str] = {}
    if network not in Network.values:
        errors["network"] = "Choose the site or app."
    if contact_kind not in ContactKind.values:
        errors["contact_kind"] = "Say who the contact would be with."
    if pupil is not None:
        if not has_permission(by, school, CHOOSE_PUPILS_PERMISSION):
            errors["pupil"] = "Name the person in words instead."
        elif pupil.school_id != school.pk:
            errors["pupil"] = "Choose a pupil of this school."
        elif pupil.leaving_date and pupil.leaving_date <= today:
            errors["pupil"] = f"{pupil} has left the school: choose \u201ca former pupil\u201d and name them in words."
    if pupil is None and not who:
        errors["who"] = "Say who the contact would be with."
    if not reason:
        errors["reason"] = "Say why the contact is needed."
    _check_end(needed_until, "needed_until", today, errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        exception = ContactException(
            school=school,
            requested_by=by,
            requested_at=timezone.now(),
            network=network,
            contact_kind=contact_kind,
            pupil=pupil,
            who_encrypted=crypto.encrypt(who) if who else "",
            reason_encrypted=crypto.encrypt(reason),
            needed_until=needed_until,
        )
        exception.save()
        audit_restricted("declarations.exception_requested", exception, actor=by)
        approvers = access.exception_approvers(exception)
        if not approvers:
            logger.warning("Contact exception %s at school %s has no one to decide it", exception.pk, school.pk)
        notify(
            approvers,
            school=school,
            subject="A request needs your decision",
            body=f"A member of staff at {school.name} has asked for an exception to the policy on personal "
            "accounts. Open Schoolgate to read it; its details are only shown there.",
            url=reverse("declarations:exception", args=[school.slug, exception.pk]),
            about=f"declarations:exception:{exception.pk}:decide",
        )
    return exception


def open_exception(exception: ContactException, *, by) -> None:
    """Someone opens an exception: the person who asked, or a reader, whose every read is audited."""
    if not access.may_read_exception(by, exception):
        raise PermissionDenied("You cannot read this request.")
    if by.pk != exception.requested_by_id:
        audit_restricted("declarations.exception_opened", exception, actor=by)


def decide_exception(
    exception: ContactException, *, by, approve: bool, reason: str, expires_on: dt.date | None = None
) -> ContactException:
    """The approver (the headteacher, by default) approves, with the last day it applies, or refuses; with reasons."""
    if not access.may_decide_exception(by, exception):
        raise PermissionDenied("Only the approver the school's policy names can decide this request.")
    reason = (reason or "").strip()
    today = timezone.localdate()
    errors: dict[str, str] = {}
    if exception.status != ExceptionStatus.REQUESTED:
        errors["__all__"] = "This request has already been decided or withdrawn."
    if not reason:
        errors["reason"] = "Give the reason for the decision: it is part of the record."
    if approve:
        _check_end(expires_on, "expires_on", today, errors)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        claimed = ContactException.objects.filter(pk=exception.pk, status=ExceptionStatus.REQUESTED).update(
            status=ExceptionStatus.APPROVED if approve else ExceptionStatus.REFUSED,
            decided_at=now,
            decided_by=by,
            decision_reason_encrypted=crypto.encrypt(reason),
            expires_on=expires_on if approve else None,
        )
        if not claimed:
            raise ValidationError("This request has already been decided or withdrawn.")
        exception.refresh_from_db()
        audit_restricted("declarations.exception_decided", exception, actor=by, approved=approve)
        resolve(f"declarations:exception:{exception.pk}:decide")
        notify(
            [exception.requested_by],
            school=exception.school,
            subject="Your request has been decided",
            body=f"Your request at {exception.school.name} has been decided. Open Schoolgate to see the decision.",
            url=reverse("declarations:exception", args=[exception.school.slug, exception.pk]),
        )
    return exception


def withdraw_exception(exception: ContactException, *, by) -> None:
    """The person who asked withdraws the request, or ends an approved exception early."""
    require_declarant(exception.requested_by_id, by, "request")
    with transaction.atomic():
        changed = ContactException.objects.filter(
            pk=exception.pk, status__in=[ExceptionStatus.REQUESTED, ExceptionStatus.APPROVED]
        ).update(status=ExceptionStatus.WITHDRAWN, ended_at=timezone.now())
        if not changed:
            raise ValidationError("This request has already ended.")
        audit_restricted("declarations.exception_withdrawn", exception, actor=by)
        resolve(f"declarations:exception:{exception.pk}:decide")
    exception.refresh_from_db()


def _tell_about_ending(exception: ContactException, *, ended: bool) -> None:
    school = exception.school
    when = f"{exception.expires_on.day} {exception.expires_on:%B %Y}"
    notify(
        [exception.requested_by, *access.exception_approvers(exception)],
        school=school,
        subject="An approved exception has ended" if ended else "An approved exception ends soon",
        body=(
            f"An approved exception to the policy on personal accounts at {school.name} "
            + (f"ended on {when}." if ended else f"ends on {when}.")
            + " Open Schoolgate to see it; ask again if it is still needed."
        ),
        url=reverse("declarations:exception", args=[school.slug, exception.pk]),
    )


def sweep_contact_exceptions(today: dt.date | None = None) -> int:
    """Record approved exceptions past their last day as lapsed (telling the person and the approver), and remind
    them once, the school's number of days before, that one ends. Each claimed by a conditional update."""
    today = today or timezone.localdate()
    now = timezone.now()
    sent = 0
    approved = ContactException.objects.filter(status=ExceptionStatus.APPROVED).select_related("school", "requested_by")
    for exception in approved.filter(expires_on__lt=today):
        with transaction.atomic():
            if ContactException.objects.filter(pk=exception.pk, status=ExceptionStatus.APPROVED).update(
                status=ExceptionStatus.LAPSED, ended_at=now
            ):
                audit_restricted("declarations.exception_lapsed", exception, actor="system")
                _tell_about_ending(exception, ended=True)
                sent += 1
    for exception in approved.filter(expires_on__gte=today, reminder_sent_at__isnull=True):
        days = access.declaration_settings(exception.school).exception_reminder_days
        if exception.expires_on - dt.timedelta(days=days) > today:
            continue
        if ContactException.objects.filter(pk=exception.pk, reminder_sent_at__isnull=True).update(reminder_sent_at=now):
            _tell_about_ending(exception, ended=False)
            sent += 1
    return sent
