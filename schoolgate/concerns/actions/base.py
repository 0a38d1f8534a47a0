"""What every concern action shares: the restricted audit entry and the refusal for someone who does not read."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from schoolgate.audit import actions as audit
from schoolgate.concerns import access
from schoolgate.concerns.models import Concern

NO_REASON = "Give the reason for the decision: it is part of the record."


def audit_concern(action: str, concern: Concern, *, actor, **detail) -> None:
    """Audited in the one chain but kept out of the school's own log (school=None), which a concern's subjects
    may read; the detail names the concern and the school by id, never what the concern says."""
    audit.log(
        action, actor=actor, detail={"concern": concern.pk, "school": concern.school_id, **detail}, restricted=True
    )


def require_reader(user, concern: Concern, message: str = "You cannot read this concern.") -> None:
    if not access.may_read(user, concern):
        raise PermissionDenied(message)
