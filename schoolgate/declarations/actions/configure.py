"""The school's declaration settings."""

from __future__ import annotations

from django.db import transaction

from schoolgate.audit import actions as audit
from schoolgate.declarations.access import CONFIGURE_PERMISSION
from schoolgate.declarations.models import (
    DeclarationSettings,
)
from schoolgate.schools.permissions import require_permission

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
