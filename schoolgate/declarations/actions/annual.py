"""The annual declaration that staff do not follow or engage with pupils on personal accounts (RS-STAFF-1)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.urls import reverse
from django.utils import timezone

from schoolgate.declarations import access
from schoolgate.declarations.access import DECLARE_PERMISSION
from schoolgate.declarations.actions.base import audit_restricted
from schoolgate.declarations.models import (
    ANNUAL_STATEMENT,
    AnnualDeclaration,
    Answer,
    DeclarationSettings,
)
from schoolgate.notifications.actions import notify, resolve
from schoolgate.policy.models import add_months
from schoolgate.schools.models import Membership, School
from schoolgate.schools.permissions import PERMISSIONS, require_permission


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
        audit_restricted(
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
