"""Drafting, approving and acknowledging policy versions: each checks permission, writes, audits, notifies."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.notifications.actions import notify
from schoolgate.policy.models import (
    REQUIRED_APPROVER_ROLES,
    Acknowledgement,
    Document,
    DocumentVersion,
    PolicySettings,
    ReviewReminder,
    VersionApproval,
    VersionStatus,
    add_months,
)
from schoolgate.schools.permissions import has_role, require_permission
from schoolgate.schools.roles import LEADER_ROLES, Role

SETTINGS_FIELDS = [f.name for f in PolicySettings._meta.get_fields() if f.concrete and f.name not in {"id", "version"}]
VERSION_FIELDS = ["text", "change_summary", "review_cycle_months"]


def _snapshot(version: DocumentVersion) -> dict:
    data = {field: getattr(version, field) for field in VERSION_FIELDS}
    if version.document.has_settings and hasattr(version, "settings"):
        data.update(model_to_dict(version.settings, fields=SETTINGS_FIELDS))
    return data


@transaction.atomic
def start_new_version(document: Document, *, by) -> DocumentVersion:
    """Open a draft for review, copied from the current version (text and settings)."""
    require_permission(by, document.school, "policy.draft")
    if document.draft_version():
        raise ValidationError("A draft of this document is already open; edit that one.")
    current = document.current_version()
    last_number = document.versions.order_by("-number").values_list("number", flat=True).first() or 0
    draft = DocumentVersion.objects.create(
        document=document,
        number=last_number + 1,
        status=VersionStatus.DRAFT,
        text=current.text if current else "",
        review_cycle_months=current.review_cycle_months if current else 12,
        drafted_by=by,
        drafted_at=timezone.now(),
    )
    if document.has_settings:
        copied = model_to_dict(current.settings, fields=SETTINGS_FIELDS) if current else {}
        PolicySettings.objects.create(version=draft, **copied)
    audit.log(
        "policy.version.drafted", actor=by, target=draft, detail={"copied_from": current.number if current else None}
    )
    return draft


@transaction.atomic
def save_draft(version: DocumentVersion, *, by, fields: dict, settings: dict | None = None) -> DocumentVersion:
    """Validate and save a draft's text and settings as one unit; an edit voids any approvals so far.

    1. Check permission and that the version is still a draft.
    2. Apply the changes and validate everything before writing anything.
    3. Void approvals given to the old wording, audit the diff, and tell those approvers.
    """
    require_permission(by, version.school, "policy.draft")
    version = DocumentVersion.objects.select_for_update().get(pk=version.pk)
    if not version.is_draft:
        raise ValidationError("Only a draft can be edited; start a new version to change the policy.")
    before = _snapshot(version)
    for field in VERSION_FIELDS:
        if field in fields:
            setattr(version, field, fields[field])
    version.full_clean(exclude=["drafted_by", "document"])
    policy = None
    if version.document.has_settings:
        policy = version.settings
        for field, value in (settings or {}).items():
            if field not in SETTINGS_FIELDS:
                raise ValidationError(f"Unknown policy setting: {field}")
            setattr(policy, field, value)
        policy.full_clean(exclude=["version"])
    after = {**before, **{f: getattr(version, f) for f in VERSION_FIELDS}}
    if policy is not None:
        after.update(model_to_dict(policy, fields=SETTINGS_FIELDS))
    changes = audit.diff(before, after)
    if not changes:
        return version
    version.save(update_fields=VERSION_FIELDS)
    if policy is not None:
        policy.save(update_fields=SETTINGS_FIELDS)
    voided = list(version.valid_approvals())
    if voided:
        version.approvals.filter(pk__in=[a.pk for a in voided]).update(voided_at=timezone.now())
    audit.log(
        "policy.version.edited",
        actor=by,
        target=version,
        changes=changes,
        detail={"voided_approvals": [a.role for a in voided]},
    )
    if voided:
        notify(
            [a.approved_by for a in voided if a.approved_by_id != by.pk],
            school=version.school,
            subject=f"{version.document.title}: your approval was voided by an edit",
            body=f"{by} edited draft v{version.number} after you approved it. Please read it again.",
            url=reverse("policy:version", args=[version.school.slug, version.pk]),
        )
    return version


@transaction.atomic
def approve_version(version: DocumentVersion, *, by, role: str) -> DocumentVersion:
    """Record the headteacher's or the chair's approval; with both, the version becomes current."""
    version = DocumentVersion.objects.select_for_update().select_related("document__school").get(pk=version.pk)
    school = version.school
    if role not in REQUIRED_APPROVER_ROLES:
        raise ValidationError("Policy versions are approved by the headteacher and the chair of governors.")
    if not has_role(by, school, role):
        raise PermissionDenied(f"Only the {Role(role).label.lower()} can give this approval.")
    if not version.is_draft:
        raise ValidationError("This version is no longer a draft.")
    if version.approval_for(role):
        raise ValidationError(f"The {Role(role).label.lower()} has already approved this draft.")
    if version.valid_approvals().filter(approved_by=by).exists():
        # Two approvals mean two people, even when one person holds both roles.
        raise ValidationError(
            "You have already approved this draft in another role; the other approval must come from someone else."
        )
    if not version.text.strip():
        raise ValidationError("The policy text is empty; write it before approving.")
    approval = VersionApproval.objects.create(version=version, role=role, approved_by=by, approved_at=timezone.now())
    audit.log("policy.version.approved", actor=by, target=version, detail={"role": role, "approval_id": approval.pk})
    missing = version.missing_approver_roles()
    if not missing:
        _make_current(version, by=by)
    else:
        # The other approvers are told the draft now waits only for them (the chair after the headteacher).
        notify(
            [person for person in version.school.members_with_role(*missing) if person.pk != by.pk],
            school=school,
            subject=f"{version.document.title}: draft v{version.number} waits for your approval",
            body=f"{by} approved draft v{version.number} as {Role(role).label.lower()}. "
            "It comes into force once you have read and approved it too.",
            url=reverse("policy:version", args=[school.slug, version.pk]),
        )
    return version


def _make_current(version: DocumentVersion, *, by) -> None:
    today = timezone.localdate()
    previous = version.document.current_version()
    if previous:
        previous.status = VersionStatus.SUPERSEDED
        previous.save(update_fields=["status"])
    version.status = VersionStatus.CURRENT
    version.reviewed_on = today
    version.became_current_at = timezone.now()
    version.next_review_on = add_months(today, version.review_cycle_months)
    version.save(update_fields=["status", "reviewed_on", "became_current_at", "next_review_on"])
    audit.log(
        "policy.version.became_current",
        actor=by,
        target=version,
        detail={"superseded": previous.number if previous else None, "next_review_on": version.next_review_on},
    )
    notify(
        version.school.members(),
        school=version.school,
        subject=f"Please read: {version.document.title} (version {version.number})",
        body=f"A new version of the {version.document.title.lower()} is in force. Read it and confirm that you have.",
        url=reverse("policy:version", args=[version.school.slug, version.pk]),
    )


@transaction.atomic
def acknowledge_version(version: DocumentVersion, *, by) -> Acknowledgement:
    """A member confirms they have read the current version; confirming twice changes nothing."""
    require_permission(by, version.school, "policy.view")
    # Read the status afresh: the caller's copy may predate a newer version coming into force.
    version = DocumentVersion.objects.select_related("document__school").get(pk=version.pk)
    if not version.is_current:
        raise ValidationError("Only the version in force can be acknowledged.")
    acknowledgement, created = Acknowledgement.objects.get_or_create(
        version=version, user=by, defaults={"acknowledged_at": timezone.now()}
    )
    if created:
        audit.log("policy.version.acknowledged", actor=by, target=version)
    return acknowledgement


@transaction.atomic
def send_review_reminder(version: DocumentVersion, *, key: str) -> bool:
    """Tell the approvers and leaders that a review is due or overdue, once per reminder step."""
    _, created = ReviewReminder.objects.get_or_create(version=version, key=key, defaults={"sent_at": timezone.now()})
    if not created:
        return False
    school = version.school
    overdue = key.startswith("overdue")
    recipients = school.members_with_role(*LEADER_ROLES, *REQUIRED_APPROVER_ROLES)
    when = version.next_review_on.strftime("%-d %B %Y")
    notify(
        recipients,
        school=school,
        subject=f"{version.document.title} review {'overdue' if overdue else 'due'} ({when})",
        body=(
            f"The {version.document.title.lower()} was due for review on {when}. "
            if overdue
            else f"The {version.document.title.lower()} is due for review on {when}. "
        )
        + "Start a new version, review it, and have it approved by the headteacher and the chair of governors.",
        url=reverse("policy:index", args=[school.slug]),
    )
    audit.log("policy.review.reminded", actor="system", target=version, detail={"key": key})
    return True
