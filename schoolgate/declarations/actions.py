"""Declaration actions: personal accounts, the annual declaration, relationships, contact exceptions, the sweeps.

Each checks who may do it, writes, audits and notifies. Notifications say only that something needs attention and
link to where access is checked; audit entries name records by id. Relationship, exception and annual-declaration
entries are restricted and kept out of the school's audit log (school=None), as concerns' are: that log is read
by governors and by leaders who are not the readers of these records.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.urls import reverse
from django.utils import timezone

from schoolgate import crypto
from schoolgate.audit import actions as audit
from schoolgate.declarations import access
from schoolgate.declarations.access import CHOOSE_PUPILS_PERMISSION, CONFIGURE_PERMISSION, DECLARE_PERMISSION
from schoolgate.declarations.models import (
    ANNUAL_STATEMENT,
    AnnualDeclaration,
    Answer,
    ContactException,
    ContactKind,
    DeclarationSettings,
    ExceptionStatus,
    Network,
    PersonalAccount,
    RelationshipDeclaration,
    RelationshipKind,
    RelationshipReview,
    RelationshipStatus,
)
from schoolgate.notifications.actions import notify, resolve
from schoolgate.policy.models import add_months
from schoolgate.schools.models import Membership, School
from schoolgate.schools.permissions import PERMISSIONS, has_permission, require_permission

logger = logging.getLogger(__name__)

MAX_EXCEPTION_DAYS = 366
NO_DISCLAIMER = (
    "Confirm that the account carries the disclaimer: a personal account that mentions the school must make "
    "clear you are not speaking for it."
)


def _restricted(action: str, record, *, actor, **detail) -> None:
    audit.log(
        action,
        actor=actor,
        detail={"school": record.school_id, record._meta.model_name: record.pk, **detail},
        restricted=True,
    )


def _mine(record_user_id: int, by, what: str) -> None:
    if not by.is_authenticated or by.pk != record_user_id:
        raise PermissionDenied(f"Only the person who made this {what} can change it.")


# --- personal accounts (RS-SCOPE-2) --------------------------------------------------------------------------


def _check_account(*, network: str, handle: str, mention: str, disclaimer_confirmed: bool) -> dict:
    errors = {}
    if network not in Network.values:
        errors["network"] = "Choose the site or app."
    if not handle:
        errors["handle"] = "Give the account's handle or a link to it."
    if not mention:
        errors["mention"] = "Say how the account mentions the school (your bio, your posts, a photo…)."
    if not disclaimer_confirmed:
        errors["disclaimer_confirmed"] = NO_DISCLAIMER
    return errors


def declare_personal_account(
    school, *, by, network: str, handle: str, mention: str, disclaimer_confirmed: bool
) -> PersonalAccount:
    """A member declares a personal account that associates them with the school, confirming its disclaimer."""
    require_permission(by, school, DECLARE_PERMISSION)
    handle, mention = (handle or "").strip(), (mention or "").strip()
    errors = _check_account(network=network, handle=handle, mention=mention, disclaimer_confirmed=disclaimer_confirmed)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        account = PersonalAccount.objects.create(
            school=school,
            user=by,
            network=network,
            handle=handle,
            mention=mention,
            disclaimer_text=access.declaration_settings(school).disclaimer_text,
            disclaimer_confirmed_at=now,
            declared_at=now,
            updated_at=now,
        )
        audit.log("declarations.personal_account_declared", actor=by, target=account, restricted=True)
    return account


def update_personal_account(
    account: PersonalAccount, *, by, network: str, handle: str, mention: str, disclaimer_confirmed: bool
) -> PersonalAccount:
    """The declarant changes their declaration; the disclaimer is confirmed again, in the school's current words."""
    _mine(account.user_id, by, "declaration")
    require_permission(by, account.school, DECLARE_PERMISSION)
    if account.withdrawn_at:
        raise ValidationError("This declaration was withdrawn; declare the account again instead.")
    handle, mention = (handle or "").strip(), (mention or "").strip()
    errors = _check_account(network=network, handle=handle, mention=mention, disclaimer_confirmed=disclaimer_confirmed)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    changed = sorted(
        name
        for name, value in {"network": network, "handle": handle, "mention": mention}.items()
        if getattr(account, name) != value
    )
    with transaction.atomic():
        account.network, account.handle, account.mention = network, handle, mention
        account.disclaimer_text = access.declaration_settings(account.school).disclaimer_text
        account.disclaimer_confirmed_at = account.updated_at = now
        account.save(
            update_fields=["network", "handle", "mention", "disclaimer_text", "disclaimer_confirmed_at", "updated_at"]
        )
        audit.log(
            "declarations.personal_account_updated",
            actor=by,
            target=account,
            detail={"fields": changed},
            restricted=True,
        )
    return account


def withdraw_personal_account(account: PersonalAccount, *, by) -> None:
    """The account no longer mentions the school (or is closed): kept on the record as withdrawn."""
    _mine(account.user_id, by, "declaration")
    with transaction.atomic():
        if PersonalAccount.objects.filter(pk=account.pk, withdrawn_at__isnull=True).update(withdrawn_at=timezone.now()):
            audit.log("declarations.personal_account_withdrawn", actor=by, target=account, restricted=True)
    account.refresh_from_db(fields=["withdrawn_at"])


# --- the annual declaration (RS-STAFF-1) ---------------------------------------------------------------------


def declarant_roles() -> frozenset[str]:
    return PERMISSIONS[DECLARE_PERMISSION]


def _first_due(joined: dt.datetime | None, settings: DeclarationSettings, today: dt.date) -> dt.date:
    # A newcomer has the notice period to make their first declaration.
    start = timezone.localdate(joined) if joined else today
    return start + dt.timedelta(days=settings.annual_notice_days)


def next_due_on(school, user, *, today: dt.date | None = None) -> dt.date:
    """When this member's next declaration is due: the interval after their last one, or soon after joining."""
    today = today or timezone.localdate()
    settings = access.declaration_settings(school)
    last = (
        AnnualDeclaration.objects.answered().filter(school=school, user=user).aggregate(last=Max("answered_at"))["last"]
    )
    if last:
        return add_months(timezone.localdate(last), settings.annual_interval_months)
    joined = Membership.objects.filter(school=school, user=user).aggregate(joined=Min("created_at"))["joined"]
    return _first_due(joined, settings, today)


def annual_schedule(school, *, today: dt.date | None = None, user=None) -> list[dict]:
    """Every member asked to declare (or just `user`): their last answer, the open request, when the next is due
    and its state ("overdue", "due": within the notice period, or "ok"). Four queries, whatever the school's size."""
    today = today or timezone.localdate()
    settings = access.declaration_settings(school)
    members = school.members_with_role(*declarant_roles()).order_by("full_name", "pk")
    memberships = Membership.objects.filter(school=school)
    declarations = AnnualDeclaration.objects.filter(school=school).select_related("concern")
    if user is not None:
        members, memberships = members.filter(pk=user.pk), memberships.filter(user=user)
        declarations = declarations.filter(user=user)
    joined = {row["user"]: row["joined"] for row in memberships.values("user").annotate(joined=Min("created_at"))}
    latest: dict[int, AnnualDeclaration] = {}
    open_ones: dict[int, AnnualDeclaration] = {}
    for declaration in declarations.order_by("answered_at", "pk"):
        if declaration.answered_at is None:
            open_ones[declaration.user_id] = declaration
        else:
            latest[declaration.user_id] = declaration
    rows = []
    for member in members:
        last, pending = latest.get(member.pk), open_ones.get(member.pk)
        if pending is not None:
            due_on = pending.due_on
        elif last is not None:
            due_on = add_months(timezone.localdate(last.answered_at), settings.annual_interval_months)
        else:
            due_on = _first_due(joined.get(member.pk), settings, today)
        if due_on < today:
            state = "overdue"
        elif due_on - dt.timedelta(days=settings.annual_notice_days) <= today:
            state = "due"
        else:
            state = "ok"
        rows.append({"user": member, "last": last, "open": pending, "due_on": due_on, "state": state})
    return rows


def _concern_text(by, explanation: str) -> str:
    return (
        f'{by.full_name} answered "no" to the annual staff declaration "{ANNUAL_STATEMENT}"\n\n'
        f"What they said:\n{explanation}"
    )


def make_annual_declaration(school, *, by, answer: str, explanation: str = "") -> AnnualDeclaration:
    """Record a member's annual declaration (RS-STAFF-1).

    1. Check the member declares here, the answer, and for a "no" that they said what it is about.
    2. In one transaction: answer the open request (or a new one), and for a "no" report a safeguarding concern
       through the concerns app, about the member, with their explanation as its text (so the headteacher and the
       DSL read it, as a concern about a member of staff); the declaration keeps only the link to it.
    3. Audit (restricted) and mark the reminders done.
    """
    from schoolgate.concerns import actions as concern_actions  # a sibling app's public action
    from schoolgate.concerns.models import Category, WhereKind

    require_permission(by, school, DECLARE_PERMISSION)
    explanation = (explanation or "").strip()
    if answer not in Answer.values:
        raise ValidationError({"answer": "Choose yes or no."})
    if answer == Answer.NO and not explanation:
        raise ValidationError(
            {"explanation": "Say briefly who it is and on which site or app, so the safeguarding lead can help."}
        )
    today, now = timezone.localdate(), timezone.now()
    with transaction.atomic():
        declaration = AnnualDeclaration.objects.select_for_update().open().filter(school=school, user=by).first()
        if declaration is None:
            declaration = AnnualDeclaration(school=school, user=by, due_on=next_due_on(school, by, today=today))
        concern = None
        if answer == Answer.NO:
            concern = concern_actions.report_concern(
                school,
                by=by,
                category=Category.STAFF_CONDUCT,
                text=_concern_text(by, explanation),
                happened_on=today,
                where_kind=WhereKind.PERSONAL_ACCOUNT,
                staff=[by],
            )
        declaration.answered_at, declaration.answer, declaration.concern = now, answer, concern
        declaration.statement = ANNUAL_STATEMENT
        declaration.save()
        _restricted(
            "declarations.annual_declared",
            declaration,
            actor=by,
            answer=answer,
            concern=concern.pk if concern else None,
        )
        resolve(f"declarations:annual:{declaration.pk}")
    return declaration


def _ask(school, row: dict, *, today: dt.date, now: dt.datetime) -> bool:
    """Open this cycle's request and tell the member, once: the unique open row is the claim."""
    overdue = row["due_on"] < today
    try:
        with transaction.atomic():
            declaration = AnnualDeclaration.objects.create(
                school=school,
                user=row["user"],
                due_on=row["due_on"],
                asked_at=now,
                # Already late when first asked (a long absence, a new interval): one notice, not two.
                overdue_reminded_at=now if overdue else None,
            )
    except IntegrityError:
        return False  # another sweep asked first
    _tell_declarant(declaration, overdue=overdue)
    return True


def _tell_declarant(declaration: AnnualDeclaration, *, overdue: bool) -> None:
    school = declaration.school
    when = f"{declaration.due_on.day} {declaration.due_on:%B %Y}"
    notify(
        [declaration.user],
        school=school,
        subject="Your annual staff declaration is overdue" if overdue else "Your annual staff declaration is due",
        body=(
            f"Please make your annual declaration about personal social media accounts at {school.name} "
            + (f"(it was due on {when})." if overdue else f"by {when}.")
            + " It takes a minute in Schoolgate."
        ),
        url=reverse("declarations:annual", args=[school.slug]),
        about=f"declarations:annual:{declaration.pk}",
    )


def ask_due_declarations(school, *, today: dt.date | None = None) -> int:
    """Open this cycle's request for each member of the school whose declaration falls due; how many were asked."""
    today = today or timezone.localdate()
    now = timezone.now()
    return sum(
        1
        for row in annual_schedule(school, today=today)
        if row["open"] is None and row["state"] != "ok" and _ask(school, row, today=today, now=now)
    )


def sweep_annual_declarations(today: dt.date | None = None) -> int:
    """Ask each member whose declaration falls due (once per cycle), and remind them once when it is overdue.
    Safe to run twice: a request is claimed by its unique open row, a reminder by a conditional update."""
    today = today or timezone.localdate()
    now = timezone.now()
    sent = sum(ask_due_declarations(school, today=today) for school in School.objects.all())
    late = AnnualDeclaration.objects.open().filter(due_on__lt=today, overdue_reminded_at__isnull=True)
    for declaration in late.select_related("school", "user"):
        if AnnualDeclaration.objects.filter(pk=declaration.pk, overdue_reminded_at__isnull=True).update(
            overdue_reminded_at=now
        ):
            _tell_declarant(declaration, overdue=True)
            sent += 1
    return sent


# --- relationships with pupils or families (AW-CON-5) --------------------------------------------------------


def declare_relationship(school, *, by, kind: str, text: str) -> RelationshipDeclaration:
    """A member declares a pre-existing relationship; the reviewers are told, without what it says."""
    require_permission(by, school, DECLARE_PERMISSION)
    text = (text or "").strip()
    errors = {}
    if kind not in RelationshipKind.values:
        errors["kind"] = "Choose what kind of relationship it is."
    if not text:
        errors["text"] = "Say who it is and how you know them (for example, \u201cmy niece is in Year 4\u201d)."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        declaration = RelationshipDeclaration(school=school, declared_by=by, kind=kind, declared_at=timezone.now())
        declaration.seal(text)
        declaration.save()
        _restricted("declarations.relationship_declared", declaration, actor=by)
        reviewers = access.relationship_reviewers(declaration)
        if not reviewers:
            logger.warning("Relationship declaration %s at school %s has no reviewer", declaration.pk, school.pk)
        notify(
            reviewers,
            school=school,
            subject="A staff declaration needs your review",
            body=f"A member of staff at {school.name} has made a declaration for you to review. Open Schoolgate "
            "to read it; its details are only shown there.",
            url=reverse("declarations:relationship", args=[school.slug, declaration.pk]),
            about=f"declarations:relationship:{declaration.pk}:review",
        )
    return declaration


def open_relationship(declaration: RelationshipDeclaration, *, by) -> None:
    """Someone opens a relationship declaration: its declarant, or a reviewer, whose every read is audited."""
    if not access.may_read_relationship(by, declaration):
        raise PermissionDenied("You cannot read this declaration.")
    if by.pk != declaration.declared_by_id:
        _restricted("declarations.relationship_opened", declaration, actor=by)


def review_relationship(
    declaration: RelationshipDeclaration, *, by, notes: str = "", next_review_on: dt.date | None
) -> RelationshipReview:
    """A reviewer acknowledges the declaration, with any notes or conditions, and sets when to look again."""
    if not access.may_review_relationship(by, declaration):
        raise PermissionDenied("You do not review this declaration.")
    errors = {}
    today = timezone.localdate()
    if declaration.status == RelationshipStatus.WITHDRAWN:
        errors["__all__"] = "This declaration no longer applies: its declarant withdrew it."
    if next_review_on is None:
        errors["next_review_on"] = "Say when it should be reviewed again."
    elif next_review_on <= today:
        errors["next_review_on"] = "The next review must be after today."
    elif next_review_on > add_months(today, 36):
        errors["next_review_on"] = "Review it again within three years."
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        review = RelationshipReview.objects.create(
            declaration=declaration,
            reviewed_by=by,
            reviewed_at=now,
            notes_encrypted=crypto.encrypt(notes.strip()) if notes.strip() else "",
            next_review_on=next_review_on,
        )
        declaration.status = RelationshipStatus.ACKNOWLEDGED
        declaration.reviewed_at, declaration.reviewed_by, declaration.next_review_on = now, by, next_review_on
        declaration.save(update_fields=["status", "reviewed_at", "reviewed_by", "next_review_on"])
        _restricted("declarations.relationship_reviewed", declaration, actor=by, review=review.pk)
        resolve(f"declarations:relationship:{declaration.pk}:review")
        notify(
            [declaration.declared_by],
            school=declaration.school,
            subject="Your declaration has been reviewed",
            body=f"A declaration you made at {declaration.school.name} has been reviewed. Open Schoolgate to see "
            "any notes.",
            url=reverse("declarations:relationship", args=[declaration.school.slug, declaration.pk]),
        )
    return review


def withdraw_relationship(declaration: RelationshipDeclaration, *, by) -> None:
    """The relationship no longer applies (the pupil has left, say); the record is kept."""
    _mine(declaration.declared_by_id, by, "declaration")
    with transaction.atomic():
        changed = (
            RelationshipDeclaration.objects.filter(pk=declaration.pk)
            .exclude(status=RelationshipStatus.WITHDRAWN)
            .update(status=RelationshipStatus.WITHDRAWN, withdrawn_at=timezone.now())
        )
        if changed:
            _restricted("declarations.relationship_withdrawn", declaration, actor=by)
            resolve(f"declarations:relationship:{declaration.pk}:review")
    declaration.refresh_from_db(fields=["status", "withdrawn_at"])


def sweep_relationship_reviews(today: dt.date | None = None) -> int:
    """Tell the reviewers when a reviewed declaration is due to be looked at again: once per review date."""
    today = today or timezone.localdate()
    sent = 0
    due = RelationshipDeclaration.objects.filter(status=RelationshipStatus.ACKNOWLEDGED, next_review_on__lte=today)
    for declaration in due.select_related("school"):
        claimed = (
            RelationshipDeclaration.objects.filter(pk=declaration.pk, next_review_on=declaration.next_review_on)
            .exclude(review_reminded_for=declaration.next_review_on)
            .update(review_reminded_for=declaration.next_review_on)
        )
        if not claimed:
            continue
        school = declaration.school
        notify(
            access.relationship_reviewers(declaration),
            school=school,
            subject="A staff declaration is due for review",
            body=f"A declaration you reviewed at {school.name} is due to be reviewed again. Open Schoolgate to see it.",
            url=reverse("declarations:relationship", args=[school.slug, declaration.pk]),
            about=f"declarations:relationship:{declaration.pk}:review",
        )
        sent += 1
    return sent


# --- exceptions for personal-account contact (AW-CON-6) ------------------------------------------------------


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
        _restricted("declarations.exception_requested", exception, actor=by)
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
        _restricted("declarations.exception_opened", exception, actor=by)


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
        _restricted("declarations.exception_decided", exception, actor=by, approved=approve)
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
    _mine(exception.requested_by_id, by, "request")
    with transaction.atomic():
        changed = ContactException.objects.filter(
            pk=exception.pk, status__in=[ExceptionStatus.REQUESTED, ExceptionStatus.APPROVED]
        ).update(status=ExceptionStatus.WITHDRAWN, ended_at=timezone.now())
        if not changed:
            raise ValidationError("This request has already ended.")
        _restricted("declarations.exception_withdrawn", exception, actor=by)
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
                _restricted("declarations.exception_lapsed", exception, actor="system")
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


# --- settings ------------------------------------------------------------------------------------------------

SETTINGS_FIELDS = [
    "disclaimer_text",
    "annual_interval_months",
    "annual_notice_days",
    "relationship_reviewer_roles",
    "relationship_review_months",
    "exception_approver_role",
    "exception_reader_roles",
    "exception_reminder_days",
]


def update_settings(school, *, by, **values) -> DeclarationSettings:
    """The headteacher sets how the school runs its declarations; every change is audited with before and after."""
    require_permission(by, school, CONFIGURE_PERMISSION)
    # Read afresh (not the request's cached copy, which a settings form may already have changed).
    settings = DeclarationSettings.objects.filter(school=school).first() or DeclarationSettings(school=school)
    before = {name: getattr(settings, name) for name in SETTINGS_FIELDS}
    for name in SETTINGS_FIELDS:
        if name in values:
            setattr(settings, name, values[name])
    if isinstance(settings.disclaimer_text, str):
        settings.disclaimer_text = settings.disclaimer_text.strip()
    settings.full_clean(exclude=["school"])
    changes = {
        name: [before[name], getattr(settings, name)]
        for name in SETTINGS_FIELDS
        if before[name] != getattr(settings, name)
    }
    with transaction.atomic():
        settings.save()
        if changes:
            audit.log("declarations.settings_changed", actor=by, target=settings, school=school, changes=changes)
    school._declaration_settings = settings
    school.__dict__.pop("_relationship_reviewer_ids", None)
    return settings
