"""Recording consent, "do not photograph" and family links: who may, what is checked, what is kept."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from schoolgate.audit.models import AuditEntry
from schoolgate.pupils import actions, consent
from schoolgate.pupils.consent import ConsentStatus, consent_on, has_consent
from schoolgate.pupils.models import (
    PHOTO_USES,
    ConsentChannel,
    ConsentDecision,
    ConsentRecord,
    ConsentUse,
    DoNotPhotograph,
    FamilyLink,
)

SOCIAL = ConsentUse.SOCIAL_MEDIA_PHOTO
ACTIVITY = ConsentUse.SOCIAL_MEDIA_ACTIVITY


def today() -> dt.date:
    return timezone.localdate()


def ago(days: int) -> dt.date:
    return today() - dt.timedelta(days=days)


def record(pupil, *, by, use=SOCIAL, decision=ConsentDecision.GIVEN, given_by=None, **kwargs):
    kwargs.setdefault("channel", ConsentChannel.PAPER)
    kwargs.setdefault("decided_on", ago(1))
    return actions.record_consent(pupil, by=by, use=use, decision=decision, given_by=given_by, **kwargs)


@pytest.fixture
def lost_calls():
    """Register a hook on ON_CONSENT_LOST for the test, as the posts area will for its takedown worklist."""
    calls = []
    hook = lambda pupil_id, use: calls.append((pupil_id, use))  # noqa: E731
    consent.ON_CONSENT_LOST.append(hook)
    yield calls
    consent.ON_CONSENT_LOST.remove(hook)


@pytest.mark.clause("RS-IMG-1")
@pytest.mark.clause("AW-IMG-1")
def test_it_records_written_consent_from_a_parent_and_audits_it_without_names(family, cast):
    row = record(family.amy, by=cast.head, use=ACTIVITY, given_by=family.pat, note="Form from the welcome pack")

    assert has_consent(family.amy, ACTIVITY, today())
    assert (row.given_by, row.recorded_by, row.channel) == (family.pat, cast.head, ConsentChannel.PAPER)
    entry = AuditEntry.objects.get(action="pupils.consent.recorded")
    assert entry.school == cast.school
    assert entry.detail["pupil"] == family.amy.pk
    assert (entry.detail["use"], entry.detail["decision"], entry.detail["channel"]) == (ACTIVITY, "given", "paper")
    assert "Amy" not in str(entry.detail) and "Pat" not in str(entry.detail)


@pytest.mark.clause("RS-IMG-1")
@pytest.mark.clause("AW-IMG-1")
def test_it_accepts_consent_only_from_a_carer_with_parental_responsibility(family, cast):
    with pytest.raises(ValidationError) as error:
        record(family.amy, by=cast.head, given_by=family.sam)  # linked, but no parental responsibility
    assert "parental responsibility" in error.value.message_dict["given_by"][0]

    with pytest.raises(ValidationError):
        record(family.amy, by=cast.head, given_by=family.olga)  # another family's parent

    with pytest.raises(ValidationError) as error:
        record(family.amy, by=cast.head, given_by=None)
    assert "Say who" in error.value.message_dict["given_by"][0]

    assert not ConsentRecord.objects.exists()


def test_it_lets_a_pupil_refuse_or_withdraw_but_not_give_consent_themself(family, cast):
    with pytest.raises(ValidationError) as error:
        record(family.amy, by=cast.head, given_by_pupil=True)
    assert "parent or carer" in error.value.message_dict["given_by"][0]

    row = record(family.amy, by=cast.head, decision=ConsentDecision.REFUSED, given_by_pupil=True)

    assert row.given_by is None and row.given_by_pupil
    assert consent_on(family.amy, SOCIAL, today()).state == ConsentStatus.REFUSED


def test_it_refuses_future_decisions_and_expiry_before_the_decision(family, cast):
    with pytest.raises(ValidationError) as error:
        record(family.amy, by=cast.head, given_by=family.pat, decided_on=today() + dt.timedelta(days=1))
    assert "future" in error.value.message_dict["decided_on"][0]

    with pytest.raises(ValidationError) as error:
        record(family.amy, by=cast.head, given_by=family.pat, decided_on=ago(1), expires_on=ago(1))
    assert "after the decision" in error.value.message_dict["expires_on"][0]

    assert not ConsentRecord.objects.exists()


@pytest.mark.clause("RS-IMG-1")
def test_it_lets_only_office_and_leaders_record_consent(family, cast):
    for person in (cast.alice, cast.volunteer, cast.governor):
        with pytest.raises(PermissionDenied):
            record(family.amy, by=person, given_by=family.pat)

    for person in (cast.head, cast.leader, cast.dsl, cast.deputy_dsl):
        record(family.amy, by=person, given_by=family.pat)
    assert ConsentRecord.objects.count() == 4


def test_it_records_several_uses_from_one_form_all_or_nothing(family, cast):
    rows = actions.record_consents(
        family.amy,
        by=cast.head,
        uses=[SOCIAL, ConsentUse.WEBSITE_PHOTO],
        decision=ConsentDecision.GIVEN,
        given_by=family.pat,
        channel=ConsentChannel.EMAIL,
        decided_on=ago(2),
    )
    assert {row.use for row in rows} == {SOCIAL, ConsentUse.WEBSITE_PHOTO}

    with pytest.raises(ValidationError):
        actions.record_consents(
            family.amy,
            by=cast.head,
            uses=[SOCIAL, "selfies"],
            decision=ConsentDecision.WITHDRAWN,
            given_by=family.pat,
            channel=ConsentChannel.EMAIL,
            decided_on=ago(1),
        )
    assert ConsentRecord.objects.count() == 2


@pytest.mark.clause("RS-IMG-1")
def test_it_keeps_the_full_history_and_never_updates_a_record(family, cast):
    first = record(family.amy, by=cast.head, given_by=family.pat, decided_on=ago(30))
    record(family.amy, by=cast.head, decision=ConsentDecision.WITHDRAWN, given_by=family.pat, decided_on=ago(10))
    record(family.amy, by=cast.leader, given_by=family.pat, decided_on=ago(2), channel=ConsentChannel.EMAIL)

    history = list(ConsentRecord.objects.filter(pupil=family.amy).order_by("decided_on"))
    assert [r.decision for r in history] == ["given", "withdrawn", "given"]
    first_again = ConsentRecord.objects.get(pk=first.pk)
    assert (first_again.decided_on, first_again.decision, first_again.recorded_at) == (
        first.decided_on,
        first.decision,
        first.recorded_at,
    )
    assert AuditEntry.objects.filter(action="pupils.consent.recorded").count() == 3


@pytest.mark.clause("RS-IMG-1")
def test_it_calls_consent_lost_hooks_once_per_pupil_and_use_in_the_same_transaction(family, cast, lost_calls):
    record(family.amy, by=cast.head, given_by=family.pat, decided_on=ago(30))
    record(family.amy, by=cast.head, use=ACTIVITY, given_by=family.pat, decided_on=ago(30))

    # Inside the withdrawal's transaction: rolled back with it, so never a take-down without its withdrawal.
    with pytest.raises(RuntimeError), transaction.atomic():
        record(family.amy, by=cast.head, decision=ConsentDecision.WITHDRAWN, given_by=family.pat)
        assert lost_calls == [(family.amy.pk, SOCIAL)]
        raise RuntimeError("the process dies before commit")
    assert has_consent(family.amy, SOCIAL, today())
    lost_calls.clear()
    record(family.amy, by=cast.head, decision=ConsentDecision.WITHDRAWN, given_by=family.pat)
    assert lost_calls == [(family.amy.pk, SOCIAL)]

    # A refusal back-dated behind a newer yes takes nothing away: no call.
    lost_calls.clear()
    record(
        family.amy,
        by=cast.head,
        use=ACTIVITY,
        decision=ConsentDecision.REFUSED,
        given_by=family.pat,
        decided_on=ago(40),
    )
    assert lost_calls == []

    # "Do not photograph" loses every photo use at once (but not taking part in social media activity).
    actions.record_do_not_photograph(
        family.ben, by=cast.head, requested_by=None, requested_by_pupil=True, requested_on=today()
    )
    assert sorted(lost_calls) == sorted((family.ben.pk, use) for use in PHOTO_USES)
    assert len(lost_calls) == 4


def test_it_keeps_the_decision_when_a_consent_lost_hook_fails(family, cast, lost_calls, monkeypatch, caplog):
    record(family.amy, by=cast.head, given_by=family.pat, decided_on=ago(30))

    def broken(pupil_id, use):
        ConsentRecord.objects.filter(pupil_id=pupil_id).delete()  # a hook's half-done work is rolled back
        raise RuntimeError("take-down list unavailable")

    monkeypatch.setattr(consent, "ON_CONSENT_LOST", [broken, *consent.ON_CONSENT_LOST])
    record(family.amy, by=cast.head, decision=ConsentDecision.WITHDRAWN, given_by=family.pat)

    assert consent_on(family.amy, SOCIAL, today()).state == ConsentStatus.WITHDRAWN
    assert ConsentRecord.objects.filter(pupil=family.amy).count() == 2
    assert lost_calls == [(family.amy.pk, SOCIAL)]  # the other hooks still ran
    assert "consent-lost hook failed" in caplog.text


@pytest.mark.clause("RS-IMG-1")
def test_it_records_anyone_asking_not_to_be_photographed_and_lifts_it_with_a_reason(family, cast):
    record(family.amy, by=cast.head, given_by=family.pat, decided_on=ago(30))
    # The childminder has no parental responsibility, but a request not to photograph is still respected.
    row = actions.record_do_not_photograph(family.amy, by=cast.dsl, requested_by=family.sam, requested_on=ago(3))

    assert consent_on(family.amy, SOCIAL, today()).state == ConsentStatus.DO_NOT_PHOTOGRAPH
    record(family.amy, by=cast.head, given_by=family.pat, decided_on=today())  # a newer yes
    assert not has_consent(family.amy, SOCIAL, today())
    with pytest.raises(ValidationError, match="already recorded"):
        actions.record_do_not_photograph(
            family.amy, by=cast.dsl, requested_by_pupil=True, requested_by=None, requested_on=today()
        )
    with pytest.raises(ValidationError):
        actions.record_do_not_photograph(family.ben, by=cast.dsl, requested_by=family.olga, requested_on=today())

    with pytest.raises(ValidationError) as error:
        actions.lift_do_not_photograph(row, by=cast.head, note=" ")
    assert "Say who" in error.value.message_dict["note"][0]
    actions.lift_do_not_photograph(row, by=cast.head, note="Pat phoned: the worry has passed")

    assert has_consent(family.amy, SOCIAL, today())
    assert DoNotPhotograph.objects.get(pk=row.pk).lifted_by == cast.head
    assert set(
        AuditEntry.objects.filter(action__startswith="pupils.do_not_photograph").values_list("action", flat=True)
    ) == {
        "pupils.do_not_photograph.recorded",
        "pupils.do_not_photograph.lifted",
    }
    with pytest.raises(PermissionDenied):
        actions.record_do_not_photograph(family.ben, by=cast.alice, requested_by=family.pat, requested_on=today())


@pytest.mark.clause("RS-IMG-1")
def test_it_stores_only_a_hash_of_the_family_link_token(family, cast):
    link, token = actions.create_family_link(family.pat, by=cast.head)

    stored = FamilyLink.objects.get(pk=link.pk)
    assert len(token) >= 40
    assert stored.token_hash == consent.hash_token(token) and len(stored.token_hash) == 64
    row = FamilyLink.objects.filter(pk=link.pk).values().get()
    assert token not in str(row)
    assert token not in str(AuditEntry.objects.get(action="pupils.family_link.created").detail)
    assert consent.find_family_link(token) == link
    assert consent.find_family_link(stored.token_hash) is None


def test_it_replaces_an_earlier_family_link_for_the_same_carer(family, cast):
    first, first_token = actions.create_family_link(family.pat, by=cast.head)
    actions.create_family_link(family.pat, by=cast.head)

    with pytest.raises(ValidationError, match="replaced or cancelled"):
        actions.usable_family_link(first_token)


def test_it_offers_no_family_link_to_a_carer_without_parental_responsibility(family, cast):
    with pytest.raises(ValidationError, match="parental responsibility"):
        actions.create_family_link(family.sam, by=cast.head)
    with pytest.raises(PermissionDenied):
        actions.create_family_link(family.pat, by=cast.alice)


@pytest.mark.clause("RS-IMG-1")
@pytest.mark.clause("AW-IMG-1")
def test_it_records_family_answers_online_from_the_carer(family, cast, lost_calls, django_capture_on_commit_callbacks):
    record(family.amy, by=cast.head, given_by=family.pat, decided_on=ago(30))
    link, token = actions.create_family_link(family.pat, by=cast.head)

    with django_capture_on_commit_callbacks(execute=True):
        rows = actions.answer_through_family_link(
            token,
            answers={
                (family.amy.pk, SOCIAL): "refused",  # was yes: a withdrawal
                (family.amy.pk, ACTIVITY): "given",
                (family.ben.pk, SOCIAL): "refused",  # never asked: a refusal
            },
        )

    assert {(r.pupil_id, r.use, r.decision) for r in rows} == {
        (family.amy.pk, SOCIAL, "withdrawn"),
        (family.amy.pk, ACTIVITY, "given"),
        (family.ben.pk, SOCIAL, "refused"),
    }
    for row in rows:
        assert (row.channel, row.given_by, row.recorded_by, row.decided_on) == ("online", family.pat, None, today())
    assert sorted(lost_calls) == sorted([(family.amy.pk, SOCIAL), (family.ben.pk, SOCIAL)])
    assert FamilyLink.objects.get(pk=link.pk).used_at is not None
    # The link stays usable until it expires; answering the same again records nothing new.
    assert actions.answer_through_family_link(token, answers={(family.amy.pk, ACTIVITY): "given"}) == []
    entry = AuditEntry.objects.filter(action="pupils.consent.recorded").last()
    assert entry.actor is None and entry.detail["family_link"] == link.pk


@pytest.mark.clause("RS-IMG-1")
def test_it_refuses_family_answers_for_another_familys_child(family, cast):
    link, token = actions.create_family_link(family.pat, by=cast.head)

    with pytest.raises(ValidationError, match="cannot answer for that pupil"):
        actions.answer_through_family_link(
            token, answers={(family.amy.pk, SOCIAL): "given", (family.dan.pk, SOCIAL): "given"}
        )

    assert not ConsentRecord.objects.exists()


@pytest.mark.clause("RS-IMG-1")
def test_it_refuses_an_expired_or_revoked_family_link(family, cast):
    link, token = actions.create_family_link(family.pat, by=cast.head, days=1)
    FamilyLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))

    with pytest.raises(ValidationError, match="expired"):
        actions.answer_through_family_link(token, answers={(family.amy.pk, SOCIAL): "given"})

    link, token = actions.create_family_link(family.pat, by=cast.head)
    actions.revoke_family_link(link, by=cast.head)
    with pytest.raises(ValidationError, match="cancelled"):
        actions.answer_through_family_link(token, answers={(family.amy.pk, SOCIAL): "given"})
    with pytest.raises(ValidationError, match="not valid"):
        actions.answer_through_family_link("made-up", answers={(family.amy.pk, SOCIAL): "given"})
    assert not ConsentRecord.objects.exists()


def test_it_emails_the_family_link_over_smtp_and_audits_it(family, cast, smtp_server, settings):
    settings.SITE_URL = "https://schoolgate.example"

    link = actions.send_family_link(family.pat, by=cast.head)

    assert len(smtp_server) == 1
    mail = smtp_server[0]
    assert mail["to"] == ["pat@example.org"]
    body = mail["message"].get_payload(decode=True).decode()
    url = next(word for word in body.split() if word.startswith("https://schoolgate.example/f/"))
    token = url.removeprefix("https://schoolgate.example/f/").rstrip("/")
    assert consent.find_family_link(token) == link
    assert "Amy and Ben" in body
    assert AuditEntry.objects.filter(action="pupils.family_link.sent", detail__carer=family.pat.pk).exists()


def test_it_cancels_the_link_when_the_email_cannot_be_sent(family, cast, settings, closed_port_url):
    port = int(closed_port_url.rsplit(":", 1)[1].split("/")[0])
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 2},
        }
    }

    with pytest.raises(ValidationError, match="could not be sent"):
        actions.send_family_link(family.pat, by=cast.head)

    assert not FamilyLink.objects.usable(timezone.now()).exists()
    assert not AuditEntry.objects.filter(action="pupils.family_link.sent").exists()
