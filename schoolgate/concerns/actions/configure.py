"""Changing how a school handles concerns: who reads each kind, the procedures and their clocks, the clocks' lengths
and the retention rules. Audited in the school's log (it says nothing about any concern); access follows at once,
because every read asks the table."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.text import slugify

from schoolgate.audit import actions as audit
from schoolgate.concerns import access, retention
from schoolgate.concerns.models import Audience, ClockKind, Concern, ConcernSettings
from schoolgate.notifications.actions import notify
from schoolgate.schools.permissions import require_permission
from schoolgate.schools.roles import Role

MANAGE_SETTINGS_PERMISSION = "concerns.manage_settings"
NUMBERS = [
    "lado_referral_working_days",
    "breach_notification_hours",
    "clock_warning_hours",
    "retention_pupil_years",
    "retention_staff_years",
    "retention_pension_age",
]
RETENTION_FIELDS = {"retention_pupil_years", "retention_staff_years", "retention_pension_age"}


def check_procedures(procedures: list[dict]) -> list[dict]:
    """The procedures as stored ({"key", "name", "clock"?}); a clear refusal of an empty list, a procedure without
    a name, two with one name or an unknown clock. A procedure keeps its key when renamed (entries name it)."""
    cleaned, keys, names = [], set(), set()
    for procedure in procedures:
        name = " ".join((procedure.get("name") or "").split())
        if not name:
            raise ValidationError({"procedures": "Give every procedure a name (or remove it)."})
        if len(name) > 120:
            raise ValidationError({"procedures": f"“{name[:40]}…” is too long: up to 120 characters."})
        if name.lower() in names:
            raise ValidationError({"procedures": f"There are two procedures called “{name}”."})
        clock = procedure.get("clock") or ""
        if clock and clock not in ClockKind.values:
            raise ValidationError({"procedures": f"Choose which deadline “{name}” starts from the list."})
        key = procedure.get("key") or slugify(name).replace("-", "_")[:36] or "procedure"
        base, number = key, 2
        while key in keys:
            key, number = f"{base[:36]}_{number}", number + 1
        keys.add(key)
        names.add(name.lower())
        cleaned.append({"key": key, "name": name, **({"clock": clock} if clock else {})})
    if not cleaned:
        raise ValidationError({"procedures": "Keep at least one procedure: every concern is routed to one."})
    return cleaned


def update_concern_settings(
    school,
    *,
    by,
    readers: dict[str, list[str]],
    procedures: list[dict],
    initial_assessment_role: str = "",
    closures_stop_working_days: bool = False,
    **numbers: int,
) -> ConcernSettings:
    """Save the school's concern settings, all of them or none.

    1. Check the person may (concerns.manage_settings), and everything: the readers table (concerns/access.py's
       refusals: an audience nobody reads, a headteacher reading concerns about the headteacher), the
       procedures, an assessor whose role reads concerns, each number within its bounds.
    2. In one transaction: the settings, the review dates of every concern if a retention rule changed, the
       audit entry naming the school; readers of concerns about the headteacher are told if that changed.
    """
    require_permission(by, school, MANAGE_SETTINGS_PERMISSION)
    errors: dict[str, str] = {}
    table = {}
    for audience in Audience.values:
        roles = sorted(set(readers.get(audience) or []))
        try:
            access.check_readers_table({audience: roles})
        except ValueError as error:
            errors[f"readers_{audience}"] = str(error)
        table[audience] = roles
    try:
        procedures = check_procedures(procedures)
    except ValidationError as error:
        errors.update({k: v[0] for k, v in error.message_dict.items()})
    if initial_assessment_role:
        if initial_assessment_role not in Role.values:
            errors["initial_assessment_role"] = "Choose a role from the list."
        elif not errors and not any(initial_assessment_role in roles for roles in table.values()):
            errors["initial_assessment_role"] = (
                f"The {Role(initial_assessment_role).label} reads no concerns under this table, so cannot make the "
                "initial assessment. Choose a role that reads them, or anyone who reads the concern."
            )
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        settings = ConcernSettings.objects.select_for_update().filter(school=school).first()
        settings = settings or ConcernSettings(school=school)
        before = {
            "readers": {a: sorted(access.reader_roles_in(settings, a)) for a in Audience.values},
            "procedures": settings.procedure_list(),
            "initial_assessment_role": settings.initial_assessment_role,
            "closures_stop_working_days": settings.closures_stop_working_days,
            **{name: getattr(settings, name) for name in NUMBERS},
        }
        settings.readers = table
        settings.procedures = procedures
        settings.initial_assessment_role = initial_assessment_role
        settings.closures_stop_working_days = bool(closures_stop_working_days)
        for name in NUMBERS:
            if name in numbers:
                setattr(settings, name, numbers[name])
        settings.full_clean(exclude=["school"])
        after = {
            "readers": table,
            "procedures": procedures,
            "initial_assessment_role": initial_assessment_role,
            "closures_stop_working_days": settings.closures_stop_working_days,
            **{name: getattr(settings, name) for name in NUMBERS},
        }
        changes = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
        settings.save()
        school._concern_settings = settings
        if changes.keys() & RETENTION_FIELDS:
            retention.refresh_review_dates(Concern.objects.filter(school=school))
        audit.log("concerns.settings_changed", actor=by, school=school, target=settings, changes=changes)
        if "readers" in changes:
            _tell_of_headteacher_readers(school, by=by, was=before["readers"], now=table)
    return settings


def _tell_of_headteacher_readers(school, *, by, was: dict, now: dict) -> None:
    """Who reads concerns about the headteacher is a check on the headteacher: its readers, before and after, are
    told when it changes, so it cannot be moved quietly."""
    audience = Audience.HEADTEACHER
    if set(was[audience]) == set(now[audience]):
        return
    roles = (set(was[audience]) | set(now[audience])) - access.NEVER_READ[audience]
    labels = ", ".join(sorted(Role(r).label for r in now[audience]))
    notify(
        list(school.members_with_role(*roles).exclude(pk=by.pk)),
        school=school,
        subject="Who reads concerns about the headteacher has changed",
        body=f"{by.full_name} changed who reads concerns about the headteacher at {school.name}. "
        f"They are now read by: {labels}.",
        url=reverse("concerns:log", args=[school.slug]),
    )
