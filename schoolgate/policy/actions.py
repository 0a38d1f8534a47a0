"""Drafting, approving and acknowledging policy and guidance versions: each checks permission, writes, audits,
notifies."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.notifications.actions import notify, resolve
from schoolgate.policy.models import (
    GUIDANCE_READER_ROLES,
    Acknowledgement,
    Document,
    DocumentVersion,
    GuidanceKind,
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
    from schoolgate.policy.guidance import default_text

    require_permission(by, document.school, document.draft_permission)
    if document.draft_version():
        raise ValidationError("A draft of this document is already open; edit that one.")
    current = document.current_version()
    last_number = document.versions.order_by("-number").values_list("number", flat=True).first() or 0
    draft = DocumentVersion.objects.create(
        document=document,
        number=last_number + 1,
        status=VersionStatus.DRAFT,
        text=current.text if current else default_text(document.kind),
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
def create_factsheet(school, *, by, title: str, text: str = "") -> DocumentVersion:
    """A new staff factsheet for the guidance library, as a first draft to write and have approved."""
    require_permission(by, school, "guidance.draft")
    title = " ".join(title.split())
    if not title:
        raise ValidationError({"title": "Give the factsheet a title."})
    if school.documents.filter(kind=GuidanceKind.FACTSHEET, title__iexact=title).exists():
        raise ValidationError({"title": f"The library already has a factsheet called “{title}”."})
    document = Document(school=school, kind=GuidanceKind.FACTSHEET, title=title)
    document.full_clean()
    document.save()
    audit.log("policy.factsheet.created", actor=by, target=document, detail={"title": title})
    draft = start_new_version(document, by=by)
    if text:
        draft = save_draft(draft, by=by, fields={"text": text})
    return draft


@transaction.atomic
def add_starter_factsheets(school, *, by) -> list[DocumentVersion]:
    """Drafts of the starter factsheets the school does not have yet (matched by title)."""
    from schoolgate.policy.guidance import STARTER_FACTSHEETS

    require_permission(by, school, "guidance.draft")
    have = {t.lower() for t in school.documents.filter(kind=GuidanceKind.FACTSHEET).values_list("title", flat=True)}
    return [
        create_factsheet(school, by=by, title=title, text=text)
        for title, text in STARTER_FACTSHEETS
        if title.lower() not in have
    ]


@transaction.atomic
def start_pupil_guidance(school, *, by) -> DocumentVersion:
    """Open a draft of the public page for pupils and families (the first one starts from the default wording)."""
    from schoolgate.policy.guidance import PUPIL_GUIDANCE_TITLE

    require_permission(by, school, "guidance.draft")
    document, created = Document.objects.get_or_create(
        school=school, kind=GuidanceKind.PUPIL_GUIDANCE, defaults={"title": PUPIL_GUIDANCE_TITLE}
    )
    if created:
        audit.log("policy.pupil_guidance.created", actor=by, target=document)
    return start_new_version(document, by=by)


@transaction.atomic
def save_draft(version: DocumentVersion, *, by, fields: dict, settings: dict | None = None) -> DocumentVersion:
    """Validate and save a draft's text and settings as one unit; an edit voids any approvals so far.

    1. Check permission and that the version is still a draft.
    2. Apply the changes and validate everything before writing anything.
    3. Void approvals given to the old wording, audit the diff, and tell those approvers.
    """
    require_permission(by, version.school, version.document.draft_permission)
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
    """Record an approval in one of the document's approver roles; with all it needs, the version becomes current.

    A policy needs the headteacher's and the chair's; guidance needs one, from the headteacher or the DSL, who
    must not be the person who opened the draft.
    """
    version = DocumentVersion.objects.select_for_update().select_related("document__school").get(pk=version.pk)
    school, document = version.school, version.document
    if role not in document.approver_roles:
        kind = "Guidance" if document.is_guidance else "Policy versions"
        raise ValidationError(
            f"{kind} {'is' if document.is_guidance else 'are'} approved by {document.approvers_label()}."
        )
    if not has_role(by, school, role):
        raise PermissionDenied(f"Only the {Role(role).label.lower()} can give this approval.")
    if not version.is_draft:
        raise ValidationError("This version is no longer a draft.")
    if version.approval_for(role):
        raise ValidationError(f"The {Role(role).label.lower()} has already approved this draft.")
    if not document.needs_every_approver and version.valid_approvals().exists():
        raise ValidationError("This draft has already been approved.")
    if version.valid_approvals().filter(approved_by=by).exists():
        # Two approvals mean two people, even when one person holds both roles.
        raise ValidationError(
            "You have already approved this draft in another role; the other approval must come from someone else."
        )
    if document.is_guidance and version.drafted_by_id == by.pk:
        raise ValidationError("Someone other than the person who drafted it approves guidance; ask a colleague.")
    if not version.text.strip():
        raise ValidationError(f"The {'guidance' if document.is_guidance else 'policy'} text is empty; write it first.")
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
    document = version.document
    if not document.is_acknowledged:
        return  # the public page for pupils and families: nobody is asked to confirm reading it
    readers = (
        version.school.members_with_role(*GUIDANCE_READER_ROLES)
        if document.kind == GuidanceKind.FACTSHEET
        else version.school.members()
    )
    notify(
        readers,
        school=version.school,
        subject=f"Please read: {document.title} (version {version.number})",
        body=(
            f"A new version of “{document.title}” is in force."
            if document.is_guidance
            else f"A new version of the {document.title.lower()} is in force."
        )
        + " Read it and confirm that you have.",
        url=reverse("policy:version", args=[version.school.slug, version.pk]),
        about=acknowledge_about(version),
    )


def acknowledge_about(version: DocumentVersion) -> str:
    return f"policy:version:{version.pk}:read"


@transaction.atomic
def acknowledge_version(version: DocumentVersion, *, by) -> Acknowledgement:
    """A member confirms they have read the current version; confirming twice changes nothing."""
    require_permission(by, version.school, "policy.view")
    # Read the status afresh: the caller's copy may predate a newer version coming into force.
    version = DocumentVersion.objects.select_related("document__school").get(pk=version.pk)
    if not version.is_current:
        raise ValidationError("Only the version in force can be acknowledged.")
    if not version.document.is_acknowledged:
        raise ValidationError("This page is for pupils and families; there is nothing to confirm.")
    acknowledgement, created = Acknowledgement.objects.get_or_create(
        version=version, user=by, defaults={"acknowledged_at": timezone.now()}
    )
    if created:
        audit.log("policy.version.acknowledged", actor=by, target=version)
        resolve(acknowledge_about(version), users=[by])
    return acknowledgement


@transaction.atomic
def send_review_reminder(version: DocumentVersion, *, key: str) -> bool:
    """Tell the approvers and leaders that a review is due or overdue, once per reminder step."""
    _, created = ReviewReminder.objects.get_or_create(version=version, key=key, defaults={"sent_at": timezone.now()})
    if not created:
        return False
    school, document = version.school, version.document
    overdue = key.startswith("overdue")
    recipients = school.members_with_role(*LEADER_ROLES, *document.approver_roles)
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
        + f"Start a new version, review it, and have it approved by {document.approvers_label()}.",
        url=reverse("policy:index", args=[school.slug]),
    )
    audit.log("policy.review.reminded", actor="system", target=version, detail={"key": key})
    return True
