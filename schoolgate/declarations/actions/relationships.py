"""Pre-existing relationships with pupils or families, reviewed by the DSL (AW-CON-5)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from schoolgate import crypto
from schoolgate.declarations import access
from schoolgate.declarations.access import DECLARE_PERMISSION
from schoolgate.declarations.actions.base import audit_restricted, logger, require_declarant
from schoolgate.declarations.models import (
    RelationshipDeclaration,
    RelationshipKind,
    RelationshipReview,
    RelationshipStatus,
)
from schoolgate.notifications.actions import notify, resolve
from schoolgate.policy.models import add_months
from schoolgate.schools.permissions import require_permission


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
        audit_restricted("declarations.relationship_declared", declaration, actor=by)
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
        audit_restricted("declarations.relationship_opened", declaration, actor=by)


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
        audit_restricted("declarations.relationship_reviewed", declaration, actor=by, review=review.pk)
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
    require_declarant(declaration.declared_by_id, by, "declaration")
    with transaction.atomic():
        changed = (
            RelationshipDeclaration.objects.filter(pk=declaration.pk)
            .exclude(status=RelationshipStatus.WITHDRAWN)
            .update(status=RelationshipStatus.WITHDRAWN, withdrawn_at=timezone.now())
        )
        if changed:
            audit_restricted("declarations.relationship_withdrawn", declaration, actor=by)
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
