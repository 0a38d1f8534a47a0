"""What every declaration action shares: restricted audit entries and "only the declarant may change it"."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied

from schoolgate.audit import actions as audit

logger = logging.getLogger(__name__)


def audit_restricted(action: str, record, *, actor, **detail) -> None:
    audit.log(
        action,
        actor=actor,
        detail={"school": record.school_id, record._meta.model_name: record.pk, **detail},
        restricted=True,
    )


def require_declarant(record_user_id: int, by, what: str) -> None:
    if not by.is_authenticated or by.pk != record_user_id:
        raise PermissionDenied(f"Only the person who made this {what} can change it.")
