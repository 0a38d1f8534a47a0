"""Photo consent (RS-IMG-1, AW-IMG-1): recording decisions, "do not photograph" requests, and family links."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.pupils import consent
from schoolgate.pupils.models import (
    PHOTO_USES,
    Carer,
    CarerLink,
    ConsentChannel,
    ConsentDecision,
    ConsentRecord,
    ConsentUse,
    DoNotPhotograph,
    FamilyLink,
    Pupil,
)
from schoolgate.schools.permissions import require_permission

logger = logging.getLogger(__name__)

# Who may record consent on a family's behalf: the office and leaders (schools/permissions.py).
CONSENT_PERMISSION = "pupils.consent"
FAMILY_LINK_DAYS = 14
FAMILY_LINK_MAX_DAYS = 60
# Who the audit log names when a family answers through their link: they have no account.
FAMILY_ACTOR = "family (through a family link)"


def _has_parental_responsibility(carer: Carer, pupil: Pupil) -> bool:
    return CarerLink.objects.filter(carer=carer, pupil=pupil, parental_responsibility=True).exists()


def _schedule_consent_lost(pairs: set[tuple[int, str]]) -> None:
    """Call every ON_CONSENT_LOST hook for each (pupil, use) left without consent today, in this transaction.

    Checked after the write: a refusal back-dated behind a newer "yes" does not take consent away, so it
    calls nothing. The hooks run inside the caller's transaction, so the decision and the take-downs it
    opens commit together: a process killed mid-way leaves neither, never a withdrawal without its
    take-downs. A failing hook is logged and rolled back alone (consent.run_consent_lost_hooks).
    """
    today = timezone.localdate()
    by_use: dict[str, list[int]] = {}
    for pupil_id, use in pairs:
        by_use.setdefault(str(use), []).append(pupil_id)
    lost = []
    for use, pupil_ids in by_use.items():
        states = consent.states_for(pupil_ids, [use], today)
        lost += [(pupil_id, use) for pupil_id in pupil_ids if not states[(pupil_id, use)].given]
    for pupil_id, use in sorted(lost):
        consent.run_consent_lost_hooks(pupil_id, use)


def _check_consent(
    pupil: Pupil,
    *,
    use: str,
    decision: str,
    given_by: Carer | None,
    given_by_pupil: bool,
    channel: str,
    decided_on: dt.date | None,
    expires_on: dt.date | None,
) -> None:
    errors: dict[str, str] = {}
    if use not in ConsentUse.values:
        errors["use"] = "Choose what the consent is for."
    if decision not in ConsentDecision.values:
        errors["decision"] = "Choose given, refused or withdrawn."
    if channel not in ConsentChannel.values:
        errors["channel"] = "Choose how the answer reached the school."
    if given_by_pupil and given_by is not None:
        errors["given_by"] = "Record the answer as from the pupil or from a parent/carer, not both."
    elif given_by_pupil and decision == ConsentDecision.GIVEN:
        # The policy asks for a parent's consent; a pupil's own "no" is always respected (RS-IMG-1).
        errors["given_by"] = (
            "Consent must be given by a parent or carer with parental responsibility; a pupil can refuse or "
            "withdraw it."
        )
    elif not given_by_pupil and given_by is None:
        errors["given_by"] = "Say who gave this answer."
    elif given_by is not None and (
        given_by.school_id != pupil.school_id or not _has_parental_responsibility(given_by, pupil)
    ):
        errors["given_by"] = (
            f"{given_by} does not have parental responsibility for {pupil} in the school's records, so cannot "
            "answer for them."
        )
    if decided_on is None:
        errors["decided_on"] = "Enter the date of the decision."
    elif decided_on > timezone.localdate():
        errors["decided_on"] = "The decision date cannot be in the future."
    if expires_on is not None:
        if decision != ConsentDecision.GIVEN:
            errors["expires_on"] = "Only consent that is given can have an expiry date."
        elif decided_on is not None and expires_on <= decided_on:
            errors["expires_on"] = "The expiry date must be after the decision date."
    if errors:
        raise ValidationError(errors)


def record_consents(
    pupil: Pupil,
    *,
    by,
    uses: list[str],
    decision: str,
    given_by: Carer | None,
    given_by_pupil: bool = False,
    channel: str,
    decided_on: dt.date,
    expires_on: dt.date | None = None,
    note: str = "",
) -> list[ConsentRecord]:
    """Record one answer (say, a paper form) for several uses: all of them, or none if any is refused.

    1. Check permission and every field (a ValidationError names the field; nothing is written).
    2. Add one record per use: the register only grows; earlier records stay as history.
    3. Audit each (ids, use, decision and channel; no names).
    4. A refusal or withdrawal that leaves the pupil without consent calls ON_CONSENT_LOST in the same transaction.
    """
    require_permission(by, pupil.school, CONSENT_PERMISSION)
    if not uses:
        raise ValidationError({"use": "Choose at least one use."})
    for use in uses:
        _check_consent(
            pupil,
            use=use,
            decision=decision,
            given_by=given_by,
            given_by_pupil=given_by_pupil,
            channel=channel,
            decided_on=decided_on,
            expires_on=expires_on,
        )
    records = []
    with transaction.atomic():
        for use in dict.fromkeys(uses):
            record = ConsentRecord.objects.create(
                pupil=pupil,
                use=use,
                decision=decision,
                given_by=given_by,
                given_by_pupil=given_by_pupil,
                channel=channel,
                decided_on=decided_on,
                expires_on=expires_on,
                recorded_by=by,
                note=note.strip(),
            )
            _audit_consent(record, actor=by)
            records.append(record)
        if decision != ConsentDecision.GIVEN:
            _schedule_consent_lost({(pupil.pk, record.use) for record in records})
    return records


def record_consent(
    pupil: Pupil,
    *,
    by,
    use: str,
    decision: str,
    given_by: Carer | None,
    given_by_pupil: bool = False,
    channel: str,
    decided_on: dt.date,
    expires_on: dt.date | None = None,
    note: str = "",
) -> ConsentRecord:
    """Record a family's answer for one use, given on paper, by email or in person (see record_consents)."""
    return record_consents(
        pupil,
        by=by,
        uses=[use],
        decision=decision,
        given_by=given_by,
        given_by_pupil=given_by_pupil,
        channel=channel,
        decided_on=decided_on,
        expires_on=expires_on,
        note=note,
    )[0]


def _audit_consent(record: ConsentRecord, *, actor, family_link: FamilyLink | None = None) -> None:
    detail = {
        "pupil": record.pupil_id,
        "use": record.use,
        "decision": record.decision,
        "channel": record.channel,
        "given_by_pupil": record.given_by_pupil,
        "decided_on": record.decided_on,
    }
    if family_link is not None:
        detail["family_link"] = family_link.pk
    audit.log("pupils.consent.recorded", actor=actor, target=record, school=record.pupil.school, detail=detail)


def record_do_not_photograph(
    pupil: Pupil,
    *,
    by,
    requested_by: Carer | None,
    requested_by_pupil: bool = False,
    requested_on: dt.date,
    note: str = "",
) -> DoNotPhotograph:
    """Anyone who asks not to be photographed is respected (RS-IMG-1): the pupil, or any parent/carer linked
    to them. Overrides every consent to photo uses, older or newer, until lifted."""
    require_permission(by, pupil.school, CONSENT_PERMISSION)
    errors: dict[str, str] = {}
    if requested_by_pupil == (requested_by is not None):
        errors["requested_by"] = "Say who asked: the pupil, or one of their parents or carers."
    elif requested_by is not None and not CarerLink.objects.filter(carer=requested_by, pupil=pupil).exists():
        errors["requested_by"] = f"{requested_by} is not linked to {pupil} in the school's records."
    if requested_on is None:
        errors["requested_on"] = "Enter the date of the request."
    elif requested_on > timezone.localdate():
        errors["requested_on"] = "The request date cannot be in the future."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        Pupil.objects.select_for_update().filter(pk=pupil.pk).first()  # one open request per pupil
        if DoNotPhotograph.objects.filter(pupil=pupil, lifted_on=None).exists():
            raise ValidationError(f"{pupil} is already recorded as not to be photographed.")
        row = DoNotPhotograph.objects.create(
            pupil=pupil,
            requested_by=requested_by,
            requested_by_pupil=requested_by_pupil,
            requested_on=requested_on,
            recorded_by=by,
            note=note.strip(),
        )
        audit.log(
            "pupils.do_not_photograph.recorded",
            actor=by,
            target=row,
            school=pupil.school,
            detail={"pupil": pupil.pk, "requested_by_pupil": requested_by_pupil, "requested_on": requested_on},
        )
        _schedule_consent_lost({(pupil.pk, use) for use in PHOTO_USES})
    return row


def lift_do_not_photograph(row: DoNotPhotograph, *, by, note: str, lifted_on: dt.date | None = None) -> DoNotPhotograph:
    """End a "do not photograph" request, saying why (who asked for it to end); earlier consents apply again."""
    school = row.pupil.school
    require_permission(by, school, CONSENT_PERMISSION)
    lifted_on = lifted_on or timezone.localdate()
    if not note.strip():
        raise ValidationError({"note": "Say who asked for this to be lifted, and how."})
    if lifted_on > timezone.localdate() or lifted_on < row.requested_on:
        raise ValidationError({"lifted_on": "The date must be between the request and today."})
    with transaction.atomic():
        lifted = DoNotPhotograph.objects.filter(pk=row.pk, lifted_on=None).update(
            lifted_on=lifted_on, lifted_by=by, lifted_note=note.strip()
        )
        if not lifted:
            raise ValidationError("This request has already been lifted.")
        row.refresh_from_db()
        audit.log(
            "pupils.do_not_photograph.lifted",
            actor=by,
            target=row,
            school=school,
            detail={"pupil": row.pupil_id, "lifted_on": lifted_on},
        )
    return row


def create_family_link(carer: Carer, *, by, days: int = FAMILY_LINK_DAYS) -> tuple[FamilyLink, str]:
    """A new secret link for one parent/carer; returns the link and its token (which is stored only hashed).

    Any earlier link for the same carer is revoked, so only the newest one sent works.
    """
    require_permission(by, carer.school, CONSENT_PERMISSION)
    if not 1 <= days <= FAMILY_LINK_MAX_DAYS:
        raise ValidationError(f"A family link lasts between 1 and {FAMILY_LINK_MAX_DAYS} days.")
    if not consent.children_of(carer, timezone.localdate()):
        raise ValidationError(f"{carer} has parental responsibility for no pupil on roll, so cannot answer.")
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        FamilyLink.objects.filter(carer=carer).usable(now).update(revoked_at=now)
        link = FamilyLink.objects.create(
            school=carer.school,
            carer=carer,
            token_hash=consent.hash_token(token),
            created_by=by,
            expires_at=now + dt.timedelta(days=days),
        )
        audit.log(
            "pupils.family_link.created",
            actor=by,
            target=link,
            detail={"carer": carer.pk, "expires_at": link.expires_at},
        )
    return link, token


def family_link_url(token: str) -> str:
    # Emails are read outside any request, so the link is built from the configured public address.
    return f"{settings.SITE_URL}{reverse('pupils:family', args=[token])}"


def send_family_link(carer: Carer, *, by, days: int = FAMILY_LINK_DAYS) -> FamilyLink:
    """Create a family link and email it to the carer at once.

    Sent in this request, not by a job: the token exists only here (the database holds its hash), and
    putting it in the job queue would store it. If the email cannot be sent, the link is revoked again.
    """
    if not carer.email:
        raise ValidationError(f"There is no email address for {carer}; update it in the information system.")
    link, token = create_family_link(carer, by=by, days=days)
    children = consent.children_of(carer, timezone.localdate())
    body = render_to_string(
        "pupils/email/family_link.txt",
        {"carer": carer, "school": carer.school, "children": children, "url": family_link_url(token), "link": link},
    )
    try:
        EmailMessage(
            subject=f"Photo permissions for your child at {carer.school.name}",
            body=body,
            from_email=formataddr((carer.school.name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1])),
            to=[carer.email],
        ).send()
    except Exception as error:
        logger.exception("Family link %s could not be emailed", link.pk)
        FamilyLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())
        raise ValidationError(
            f"The email to {carer} could not be sent, so the link was cancelled. Try again later."
        ) from error
    audit.log("pupils.family_link.sent", actor=by, target=link, detail={"carer": carer.pk})
    return link


def revoke_family_link(link: FamilyLink, *, by) -> FamilyLink:
    require_permission(by, link.school, CONSENT_PERMISSION)
    with transaction.atomic():
        if FamilyLink.objects.filter(pk=link.pk, revoked_at=None).update(revoked_at=timezone.now()):
            audit.log("pupils.family_link.revoked", actor=by, target=link, detail={"carer": link.carer_id})
    link.refresh_from_db()
    return link


def usable_family_link(token: str) -> FamilyLink:
    """The link for a token, or a ValidationError saying plainly why it cannot be used."""
    link = consent.find_family_link(token)
    if link is None:
        raise ValidationError("This link is not valid. Check that you copied the whole link from the email.")
    if link.revoked_at is not None:
        raise ValidationError(
            "This link has been replaced or cancelled. Use the newest email from the school, or ask the school "
            "office for a new link."
        )
    if not link.is_usable(timezone.now()):
        raise ValidationError(
            f"This link expired on {timezone.localtime(link.expires_at):%-d %B %Y}. Ask the school office to send "
            "you a new one."
        )
    return link


def answer_through_family_link(token: str, *, answers: dict[tuple[int, str], str]) -> list[ConsentRecord]:
    """A parent/carer answers for their own children through their link; no account is needed.

    1. The link must exist, not be revoked and not have expired.
    2. Every answer must be for a child on roll the carer has parental responsibility for, and a known use,
       and "given" or "refused"; otherwise nothing at all is written (a forged pupil id is refused).
    3. An answer is recorded only where it changes something: "yes" where there was no current yes (or the
       yes had an expiry, which a new yes renews); "no" becomes a withdrawal of a current yes, or a
       refusal. Records are online, given by the carer, dated today, recorded by nobody.
    4. The link stays usable until it expires (used_at says when it was last used); lost consent calls
       ON_CONSENT_LOST in the same transaction.
    """
    link = usable_family_link(token)
    today = timezone.localdate()
    children = {pupil.pk: pupil for pupil in consent.children_of(link.carer, today)}
    for (pupil_id, use), decision in answers.items():
        if pupil_id not in children:
            raise ValidationError("This link cannot answer for that pupil.")
        if use not in ConsentUse.values or decision not in {ConsentDecision.GIVEN, ConsentDecision.REFUSED}:
            raise ValidationError("Choose yes or no for each use.")
    with transaction.atomic():
        before = consent.decisions_for(list(children), ConsentUse.values, today)
        records = []
        for (pupil_id, use), decision in sorted(answers.items()):
            current = before[(pupil_id, use)]
            if decision == ConsentDecision.GIVEN:
                if current.given and current.record.expires_on is None:
                    continue
            elif current.given:
                decision = ConsentDecision.WITHDRAWN
            elif current.state in {consent.ConsentStatus.REFUSED, consent.ConsentStatus.WITHDRAWN}:
                continue
            record = ConsentRecord.objects.create(
                pupil=children[pupil_id],
                use=use,
                decision=decision,
                given_by=link.carer,
                channel=ConsentChannel.ONLINE,
                decided_on=today,
                recorded_by=None,
            )
            _audit_consent(record, actor=FAMILY_ACTOR, family_link=link)
            records.append(record)
        FamilyLink.objects.filter(pk=link.pk).update(used_at=timezone.now())
        _schedule_consent_lost(
            {(record.pupil_id, record.use) for record in records if record.decision != ConsentDecision.GIVEN}
        )
    return records
