"""Shared helpers for the declaration tests: records made through the actions, and text to look for."""

from __future__ import annotations

import datetime as dt
import json

from django.core import mail
from django.utils import timezone

from schoolgate.audit.models import AuditEntry
from schoolgate.declarations import actions
from schoolgate.notifications.models import Notification

RELATIONSHIP = "My-niece-Poppy-Wren-is-in-Year-4-8K"
EXPLANATION = "I-follow-a-Year-11-leaver-Jordan-on-Instagram-3X"
EXCEPTION_REASON = "Coaching-the-Sunday-league-team-of-Sam-Oduya-5Z"
EXCEPTION_WHO = "Mrs-Oduya-parent-of-Sam-2P"


def declare_relationship(cast, *, by=None, text: str = RELATIONSHIP, kind: str = "family"):
    return actions.declare_relationship(cast.school, by=by or cast.alice, kind=kind, text=text)


def request_exception(cast, *, by=None, days: int = 60, **kwargs):
    fields = {
        "network": "whatsapp",
        "contact_kind": "carer",
        "who": EXCEPTION_WHO,
        "reason": EXCEPTION_REASON,
        "needed_until": timezone.localdate() + dt.timedelta(days=days),
    }
    fields.update(kwargs)
    return actions.request_exception(cast.school, by=by or cast.alice, **fields)


def approved_exception(cast, *, days: int = 60, by=None):
    exception = request_exception(cast, days=days, by=by)
    return actions.decide_exception(
        exception,
        by=cast.head,
        approve=True,
        reason="Agreed: keep it to the team's arrangements.",
        expires_on=exception.needed_until,
    )


def everything_sent_and_logged() -> str:
    """Every notification, email and audit entry there is, as one text to search."""
    parts = [f"{n.subject} {n.body} {n.url}" for n in Notification.objects.all()]
    parts += [f"{m.subject} {m.body}" for m in mail.outbox]
    parts += [json.dumps([e.object_repr, e.changes, e.detail]) for e in AuditEntry.objects.all()]
    return "\n".join(parts)
