"""The inbox's settings and the school's response templates: the leaders' (inbox.manage), every change audited."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.inbox.models import InboxSettings, ResponseTemplate, TemplateKind
from schoolgate.schools.permissions import require_permission
from schoolgate.schools.roles import Role

MANAGE_PERMISSION = "inbox.manage"
SETTING_FIELDS = (
    "poll_minutes",
    "at_risk_percent",
    "working_hours_only",
    "working_day_starts",
    "working_day_ends",
    "replies_need_review",
    "moderation_needs_explanation",
    "press_approver_role",
    "overdue_roles",
)

# Words every school starts with (RS-MON-1 acknowledgement, RS-ABU-1 explanations, AW-MOD-2 office redirect); each
# school edits or retires them. Plain words, no names: they go out under the account's sign-off.
DEFAULT_TEMPLATES = (
    (
        TemplateKind.ACKNOWLEDGEMENT,
        "Thank you, we will reply",
        "Thank you for your message. We have passed it to the "
        "right person and will reply by the end of the next school day.",
    ),
    (TemplateKind.ACKNOWLEDGEMENT, "Thank you", "Thank you for your kind words, we will pass them on."),
    (
        TemplateKind.CONTACT_OFFICE,
        "Please contact the office",
        "Thank you for getting in touch. We cannot discuss "
        "this on social media: please contact the school office by phone or email and we will help.",
    ),
    (
        TemplateKind.EXPLANATION,
        "Named a pupil",
        "We have removed a comment because it named a pupil. Please do not name children on our pages.",
    ),
    (
        TemplateKind.EXPLANATION,
        "Offensive language",
        "We have removed a comment because it was offensive. Please keep comments on our pages respectful.",
    ),
    (
        TemplateKind.EXPLANATION,
        "Personal details",
        "We have removed a comment because it shared someone's personal details. Please contact the office instead.",
    ),
    (
        TemplateKind.EXPLANATION,
        "About a member of staff",
        "We have removed a comment about a member of staff. "
        "Concerns about staff are dealt with through the school's complaints procedure: please contact the office.",
    ),
)


def ensure_default_templates(school, *, by=None) -> int:
    """Give a school the starting templates it lacks (by name); never changes one the school has edited."""
    now = timezone.now()
    made = 0
    for kind, name, text in DEFAULT_TEMPLATES:
        _, created = ResponseTemplate.objects.get_or_create(
            school=school, kind=kind, name=name, defaults={"text": text, "updated_by": by, "updated_at": now}
        )
        made += created
    return made


def update_settings(school, *, by, **values) -> InboxSettings:
    require_permission(by, school, MANAGE_PERMISSION)
    unknown = set(values) - set(SETTING_FIELDS)
    if unknown:
        raise ValueError(f"Not inbox settings: {', '.join(sorted(unknown))}")
    roles = values.get("overdue_roles")
    if roles is not None and not set(roles) <= set(Role.values):
        raise ValidationError({"overdue_roles": "Choose roles the school has."})
    with transaction.atomic():
        settings, _ = InboxSettings.objects.select_for_update().get_or_create(school=school)
        before = {f: _plain(getattr(settings, f)) for f in values}
        for field, value in values.items():
            setattr(settings, field, value)
        settings.full_clean(exclude=["school"])
        if settings.working_hours_only and settings.working_day_starts >= settings.working_day_ends:
            raise ValidationError({"working_day_ends": "The working day must end after it starts."})
        settings.save()
        changed = {f: [before[f], _plain(v)] for f, v in values.items() if before[f] != _plain(v)}
        if changed:
            audit.log("inbox.settings_changed", actor=by, target=school, detail={"changed": changed})
    return settings


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def save_template(
    school, *, by, kind: str, name: str, text: str, template: ResponseTemplate | None = None, active: bool = True
) -> ResponseTemplate:
    """Add or change one of the school's templates (a change applies to replies written from now on)."""
    require_permission(by, school, MANAGE_PERMISSION)
    if template is not None and template.school_id != school.pk:
        raise ValidationError("That template belongs to another school.")
    name, text = name.strip(), text.strip()
    errors = {}
    if kind not in TemplateKind.values:
        errors["kind"] = "Choose what the template is for."
    if not name:
        errors["name"] = "Give the template a name."
    if not text:
        errors["text"] = "Write the template's words."
    elif len(text) > 2000:
        errors["text"] = "A template can be at most 2000 characters."
    clash = ResponseTemplate.objects.filter(school=school, kind=kind, name=name)
    if template is not None:
        clash = clash.exclude(pk=template.pk)
    if name and clash.exists():
        errors["name"] = "The school has a template of that kind with that name already."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if template is None:
            template = ResponseTemplate(school=school)
        template.kind, template.name, template.text, template.active = kind, name, text, active
        template.updated_by, template.updated_at = by, timezone.now()
        template.save()
        audit.log(
            "inbox.template_saved",
            actor=by,
            target=school,
            detail={"template": template.pk, "kind": kind, "name": name, "active": active},
        )
    return template
