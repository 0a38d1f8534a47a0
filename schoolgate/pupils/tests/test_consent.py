"""The consent register read back: latest answer wins, expiry, "do not photograph", coverage (RS-IMG-1)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from schoolgate.pupils.consent import (
    ConsentStatus,
    consent_on,
    coverage,
    has_consent,
    pupils_lacking_consent,
)
from schoolgate.pupils.models import (
    Carer,
    CarerLink,
    ConsentChannel,
    ConsentDecision,
    ConsentRecord,
    ConsentUse,
    DoNotPhotograph,
    Pupil,
)

TODAY = dt.date(2026, 3, 10)
SOCIAL = ConsentUse.SOCIAL_MEDIA_PHOTO


def add(pupil, use, decision, decided_on, *, by=None, expires_on=None, given_by_pupil=False):
    """A record written straight to the table: these tests are about reading the register."""
    carer = None if given_by_pupil else pupil.carers.filter(carerlink__parental_responsibility=True).first()
    if carer is None and not given_by_pupil:
        carer = Carer.objects.create(school=pupil.school, full_name=f"Parent of {pupil}")
        CarerLink.objects.create(carer=carer, pupil=pupil, parental_responsibility=True)
    return ConsentRecord.objects.create(
        pupil=pupil,
        use=use,
        decision=decision,
        given_by=carer,
        given_by_pupil=given_by_pupil,
        channel=ConsentChannel.PAPER,
        decided_on=decided_on,
        expires_on=expires_on,
        recorded_by=by,
    )


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


@pytest.mark.clause("RS-IMG-1")
def test_it_lets_the_latest_decision_win(family):
    add(family.amy, SOCIAL, ConsentDecision.REFUSED, days(-30))
    given = add(family.amy, SOCIAL, ConsentDecision.GIVEN, days(-10))

    state = consent_on(family.amy, SOCIAL, TODAY)

    assert state.state == ConsentStatus.GIVEN and state.record == given
    # As the register stood before the "yes", the refusal applied.
    assert consent_on(family.amy, SOCIAL, days(-20)).state == ConsentStatus.REFUSED
    # A decision dated later than the day asked about does not count yet.
    assert consent_on(family.amy, SOCIAL, days(-31)).state == ConsentStatus.NONE


@pytest.mark.clause("RS-IMG-1")
def test_it_treats_a_withdrawal_after_consent_as_no_consent(family):
    add(family.amy, SOCIAL, ConsentDecision.GIVEN, days(-30))
    add(family.amy, SOCIAL, ConsentDecision.WITHDRAWN, days(-1))

    assert consent_on(family.amy, SOCIAL, TODAY).state == ConsentStatus.WITHDRAWN
    assert not has_consent(family.amy, SOCIAL, TODAY)
    assert has_consent(family.amy, SOCIAL, days(-2))


def test_it_lets_a_later_recorded_correction_on_the_same_day_win(family):
    add(family.amy, SOCIAL, ConsentDecision.GIVEN, TODAY)
    add(family.amy, SOCIAL, ConsentDecision.REFUSED, TODAY)

    assert consent_on(family.amy, SOCIAL, TODAY).state == ConsentStatus.REFUSED


def test_it_keeps_uses_and_pupils_apart(family):
    add(family.amy, SOCIAL, ConsentDecision.GIVEN, days(-5))

    assert has_consent(family.amy, SOCIAL, TODAY)
    assert not has_consent(family.amy, ConsentUse.WEBSITE_PHOTO, TODAY)
    assert not has_consent(family.ben, SOCIAL, TODAY)


@pytest.mark.clause("RS-IMG-1")
def test_it_counts_consent_past_its_expiry_as_expired(family):
    record = add(family.amy, SOCIAL, ConsentDecision.GIVEN, days(-300), expires_on=days(0))

    assert has_consent(family.amy, SOCIAL, days(-1))
    state = consent_on(family.amy, SOCIAL, TODAY)
    assert state.state == ConsentStatus.EXPIRED and state.record == record
    assert not has_consent(family.amy, SOCIAL, TODAY)


@pytest.mark.clause("RS-IMG-1")
def test_it_lets_do_not_photograph_beat_an_older_and_a_newer_yes_until_lifted(family, cast):
    add(family.amy, SOCIAL, ConsentDecision.GIVEN, days(-60))
    add(family.amy, ConsentUse.NAME_WITH_PHOTO, ConsentDecision.GIVEN, days(-60))
    add(family.amy, ConsentUse.SOCIAL_MEDIA_ACTIVITY, ConsentDecision.GIVEN, days(-60))
    request = DoNotPhotograph.objects.create(
        pupil=family.amy, requested_by_pupil=True, requested_on=days(-20), recorded_by=cast.head
    )
    add(family.amy, SOCIAL, ConsentDecision.GIVEN, days(-5))  # a newer yes

    state = consent_on(family.amy, SOCIAL, TODAY)
    assert state.state == ConsentStatus.DO_NOT_PHOTOGRAPH and state.do_not_photograph == request
    assert not has_consent(family.amy, SOCIAL, TODAY)
    assert not has_consent(family.amy, ConsentUse.NAME_WITH_PHOTO, TODAY)
    # Taking part in social media activity needs no photo of the pupil.
    assert has_consent(family.amy, ConsentUse.SOCIAL_MEDIA_ACTIVITY, TODAY)
    # Before the request, the yes applied.
    assert has_consent(family.amy, SOCIAL, days(-21))

    DoNotPhotograph.objects.filter(pk=request.pk).update(lifted_on=days(-1), lifted_by=cast.head)

    assert has_consent(family.amy, SOCIAL, TODAY)
    assert not has_consent(family.amy, SOCIAL, days(-2))


def test_it_finds_pupils_lacking_consent_in_two_queries(family, cast, django_assert_num_queries):
    add(family.amy, SOCIAL, ConsentDecision.GIVEN, days(-5))
    add(family.ben, SOCIAL, ConsentDecision.REFUSED, days(-5))
    more = [
        Pupil.objects.create(school=cast.school, upn=f"M{n}", legal_forename=f"M{n}", legal_surname="More")
        for n in range(30)
    ]
    for pupil in more[:10]:
        add(pupil, SOCIAL, ConsentDecision.GIVEN, days(-3))
    pupils = [family.amy, family.ben, family.dan, *more]

    with django_assert_num_queries(2):
        lacking = pupils_lacking_consent(pupils, SOCIAL, TODAY)

    assert lacking == [family.ben, family.dan, *more[10:]]


def test_it_counts_coverage_per_year_and_registration_group_for_current_pupils(family, cast):
    add(family.amy, SOCIAL, ConsentDecision.GIVEN, days(-5))
    add(family.ben, SOCIAL, ConsentDecision.WITHDRAWN, days(-5))
    DoNotPhotograph.objects.create(pupil=family.dan, requested_by=family.olga, requested_on=days(-5))
    eve = Pupil.objects.create(
        school=cast.school,
        upn="E1",
        legal_forename="Eve",
        legal_surname="E",
        year_group="Year 5",
        registration_group="5B",
    )
    add(eve, SOCIAL, ConsentDecision.GIVEN, days(-400), expires_on=days(-1))  # lapsed: no answer
    Pupil.objects.create(school=cast.school, upn="F1", legal_forename="Fay", legal_surname="F", year_group="Year 10")
    # Leavers are not counted; a pupil leaving later this term still is.
    Pupil.objects.create(
        school=cast.school,
        upn="G1",
        legal_forename="Gus",
        legal_surname="G",
        year_group="Year 3",
        leaving_date=days(-1),
    )
    Pupil.objects.create(
        school=cast.school,
        upn="H1",
        legal_forename="Hal",
        legal_surname="H",
        year_group="Year 3",
        registration_group="3A",
        leaving_date=days(30),
    )

    result = coverage(cast.school, SOCIAL, TODAY)

    def counts(rows):
        return {r.group: (r.given, r.refused, r.no_answer, r.do_not_photograph) for r in rows}

    assert counts(result.by_year) == {"Year 3": (1, 0, 1, 1), "Year 5": (0, 1, 1, 0), "Year 10": (0, 0, 1, 0)}
    assert [r.group for r in result.by_year] == ["Year 3", "Year 5", "Year 10"]
    assert counts(result.by_registration_group) == {
        "3A": (1, 0, 1, 1),
        "5B": (0, 1, 1, 0),
        "(no registration group)": (0, 0, 1, 0),
    }
    assert (result.total.given, result.total.refused, result.total.no_answer, result.total.do_not_photograph) == (
        1,
        1,
        3,
        1,
    )
    # Consent for another use is counted on its own.
    assert coverage(cast.school, ConsentUse.WEBSITE_PHOTO, TODAY).total.no_answer == 5


def test_it_never_edits_a_consent_record(family):
    record = add(family.amy, SOCIAL, ConsentDecision.GIVEN, days(-5))
    record.decision = ConsentDecision.REFUSED

    with pytest.raises(ValueError, match="never edited"):
        record.save()

    record.refresh_from_db()
    assert record.decision == ConsentDecision.GIVEN


def test_it_describes_every_use_in_plain_words_for_families():
    for use in ConsentUse:
        assert len(use.description) > 40
    assert "social media activity" in ConsentUse.SOCIAL_MEDIA_ACTIVITY.label


def test_it_uses_the_real_date_by_default(family):
    # The register is read with the school's local date, never a naive datetime.
    add(family.amy, SOCIAL, ConsentDecision.GIVEN, timezone.localdate())

    assert has_consent(family.amy, SOCIAL, timezone.localdate())
