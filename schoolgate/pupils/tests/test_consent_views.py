"""The consent pages: a pupil's consent, coverage, and the family page that needs no login."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from schoolgate.pupils import actions
from schoolgate.pupils.models import (
    ConsentChannel,
    ConsentDecision,
    ConsentRecord,
    ConsentUse,
    DoNotPhotograph,
    FamilyLink,
)

SOCIAL = ConsentUse.SOCIAL_MEDIA_PHOTO


def consent_url(cast, pupil) -> str:
    return f"/s/{cast.school.slug}/pupils/{pupil.pk}/consent/"


def give(family, cast, use=SOCIAL, days_ago=30):
    return actions.record_consent(
        family.amy,
        by=cast.head,
        use=use,
        decision=ConsentDecision.GIVEN,
        given_by=family.pat,
        channel=ConsentChannel.PAPER,
        decided_on=timezone.localdate() - dt.timedelta(days=days_ago),
    )


def test_it_shows_a_pupils_consent_and_history_to_staff_who_may_see_pupils(client, cast, family):
    give(family, cast)
    client.force_login(cast.dsl)

    page = client.get(consent_url(cast, family.amy)).content.decode()

    assert "Photo consent: Amy Archer" in page
    assert "Given by Pat Archer" in page
    assert "Email a consent link" in page  # Pat has parental responsibility and an email address
    assert "Cannot give consent" in page  # Sam, the childminder
    assert f'value="{timezone.localdate().isoformat()}"' in page  # the decision date starts at today
    client.force_login(cast.alice)
    assert client.get(consent_url(cast, family.amy)).status_code == 403


@pytest.mark.clause("RS-IMG-1")
def test_it_records_a_paper_answer_for_several_uses_from_the_pupil_page(client, cast, family):
    client.force_login(cast.head)

    response = client.post(
        consent_url(cast, family.amy),
        {
            "form": "consent",
            "consent-uses": [SOCIAL, ConsentUse.PRINT_PHOTO],
            "consent-decision": "refused",
            "consent-given_by": f"carer-{family.pat.pk}",
            "consent-channel": "paper",
            "consent-decided_on": timezone.localdate().isoformat(),
            "consent-note": "Returned form",
        },
    )

    assert response.status_code == 302
    assert set(ConsentRecord.objects.values_list("use", "decision", "recorded_by")) == {
        (SOCIAL, "refused", cast.head.pk),
        (ConsentUse.PRINT_PHOTO, "refused", cast.head.pk),
    }


def test_it_shows_why_an_answer_was_not_recorded(client, cast, family):
    client.force_login(cast.head)

    response = client.post(
        consent_url(cast, family.amy),
        {
            "form": "consent",
            "consent-uses": [SOCIAL],
            "consent-decision": "given",
            "consent-given_by": "pupil",
            "consent-channel": "paper",
            "consent-decided_on": timezone.localdate().isoformat(),
            "consent-expires_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
        },
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "a pupil can refuse or withdraw it" in page
    assert "The expiry date must be after the decision date." in page
    assert not ConsentRecord.objects.exists()


@pytest.mark.clause("RS-IMG-1")
def test_it_records_and_lifts_do_not_photograph_from_the_pupil_page(client, cast, family):
    give(family, cast)
    client.force_login(cast.leader)
    url = consent_url(cast, family.amy)

    client.post(
        url,
        {
            "form": "dnp",
            "dnp-requested_by": "pupil",
            "dnp-requested_on": timezone.localdate().isoformat(),
            "dnp-note": "Amy asked her teacher",
        },
    )
    page = client.get(url).content.decode()
    assert "Do not photograph." in page
    assert DoNotPhotograph.objects.get(pupil=family.amy).requested_by_pupil

    client.post(url, {"form": "lift", "lift-note": "Amy and Pat asked in person"})
    assert DoNotPhotograph.objects.get(pupil=family.amy).lifted_on == timezone.localdate()


def test_it_emails_a_family_link_from_the_pupil_page(client, cast, family, mailoutbox):
    client.force_login(cast.head)

    response = client.post(f"{consent_url(cast, family.amy)}link/{family.pat.pk}/", follow=True)

    assert "Consent link emailed to Pat Archer" in response.content.decode()
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["pat@example.org"]
    assert FamilyLink.objects.filter(carer=family.pat).usable(timezone.now()).count() == 1
    client.force_login(cast.alice)
    assert client.post(f"{consent_url(cast, family.amy)}link/{family.pat.pk}/").status_code == 403


@pytest.mark.clause("RS-IMG-1")
@pytest.mark.clause("AW-IMG-1")
def test_it_shows_a_family_each_use_explained_with_their_current_answer_without_login(client, cast, family):
    give(family, cast)
    _, token = actions.create_family_link(family.pat, by=cast.head)

    response = client.get(f"/f/{token}/")

    page = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    assert "Amy Archer" in page and "Ben Archer" in page
    assert "Dan" not in page  # another family's child
    for use in ConsentUse:
        assert use.label.replace("'", "&#x27;") in page
        assert use.description.replace("'", "&#x27;") in page
    assert re.search(rf'name="answer-{family.amy.pk}-{SOCIAL}" value="given" checked', page)
    assert not re.search(rf'name="answer-{family.ben.pk}-{SOCIAL}" value="\w+" checked', page)


@pytest.mark.clause("RS-IMG-1")
def test_it_records_a_familys_withdrawal_through_their_link(client, cast, family):
    give(family, cast)
    _, token = actions.create_family_link(family.pat, by=cast.head)

    response = client.post(f"/f/{token}/", {f"answer-{family.amy.pk}-{SOCIAL}": "refused"}, follow=True)

    assert "your answers are saved" in response.content.decode()
    latest = ConsentRecord.objects.filter(pupil=family.amy, use=SOCIAL).first()
    assert (latest.decision, latest.channel, latest.given_by) == ("withdrawn", "online", family.pat)


@pytest.mark.clause("RS-IMG-1")
def test_it_refuses_a_forged_pupil_id_on_the_family_page(client, cast, family):
    _, token = actions.create_family_link(family.pat, by=cast.head)

    response = client.post(
        f"/f/{token}/",
        {f"answer-{family.amy.pk}-{SOCIAL}": "given", f"answer-{family.dan.pk}-{SOCIAL}": "given"},
    )

    assert response.status_code == 400
    assert "This link cannot answer for that pupil." in response.content.decode()
    assert not ConsentRecord.objects.exists()


@pytest.mark.clause("RS-IMG-1")
def test_it_shows_a_clear_page_for_an_expired_or_unknown_link(client, cast, family):
    link, token = actions.create_family_link(family.pat, by=cast.head)
    FamilyLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - dt.timedelta(hours=1))

    response = client.get(f"/f/{token}/")
    assert response.status_code == 410
    assert "This link expired on" in response.content.decode()
    assert "Amy" not in response.content.decode()
    response = client.post(f"/f/{token}/", {f"answer-{family.amy.pk}-{SOCIAL}": "given"})
    assert response.status_code == 410
    assert not ConsentRecord.objects.exists()

    assert client.get("/f/not-a-real-token/").status_code == 404


def test_it_checks_csrf_on_the_family_page(cast, family):
    from django.test import Client

    _, token = actions.create_family_link(family.pat, by=cast.head)

    response = Client(enforce_csrf_checks=True).post(f"/f/{token}/", {f"answer-{family.amy.pk}-{SOCIAL}": "given"})

    assert response.status_code == 403
    assert not ConsentRecord.objects.exists()


def test_it_charts_coverage_per_year_and_registration_group(client, cast, family):
    give(family, cast)
    client.force_login(cast.head)

    page = client.get(f"/s/{cast.school.slug}/pupils/consent/?use={SOCIAL}").content.decode()

    assert "Photo consent coverage" in page
    # Year 3: Amy yes, Dan no answer (bar widths sit in the page's nonce-carrying style block, not style= attributes)
    assert 'class="seg seg-given" id="year-group-1-1"' in page and "#year-group-1-1 { width: 50.0%; }" in page
    assert "By registration group" in page and "3A" in page and "5B" in page
    assert "consent given 1 · refused or withdrawn 0 · no answer 2 · do not photograph 0" in page
    client.force_login(cast.alice)
    assert client.get(f"/s/{cast.school.slug}/pupils/consent/").status_code == 403
