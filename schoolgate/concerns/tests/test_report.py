"""Reporting a concern (AW-CON-1): anyone reports, quickly; bad input is refused whole and the words are kept."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from schoolgate import crypto
from schoolgate.concerns import access, actions
from schoolgate.concerns.actions import reporting
from schoolgate.concerns.models import Audience, Category, Concern, Evidence, Subject, WhereKind
from schoolgate.concerns.tests.helpers import SECRET, png, report
from schoolgate.notifications.models import Notification
from schoolgate.pupils.models import Pupil

pytestmark = pytest.mark.django_db


def report_url(cast) -> str:
    return f"/s/{cast.school.slug}/concerns/report/"


def form_data(**overrides) -> dict:
    data = {
        "category": Category.DISCLOSURE,
        "text": SECRET,
        "happened_on": timezone.localdate().isoformat(),
        "where_kind": WhereKind.IN_PERSON,
    }
    data.update(overrides)
    return data


@pytest.mark.clause("AW-CON-1")
def test_it_lets_every_member_report_and_gives_a_receipt(client, cast):
    for person in cast.everyone():
        client.force_login(person)
        response = client.post(report_url(cast), form_data(text=f"{SECRET} from {person.pk}"))
        concern = Concern.objects.get(reported_by=person)
        assert response.status_code == 302 and response["Location"].endswith(f"/concerns/{concern.pk}/receipt/")
        receipt = client.get(response["Location"]).content.decode()
        assert concern.reference in receipt and "not been read yet" in receipt
        assert SECRET not in receipt


@pytest.mark.clause("AW-CON-1")
def test_it_stores_the_words_and_evidence_encrypted(client, cast):
    client.force_login(cast.alice)
    image = png("jamie-messages.png")
    client.post(report_url(cast), {**form_data(where_detail="https://example.org/p/42"), "evidence": [image]})
    concern = Concern.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT content_encrypted FROM concerns_concern")
        stored = cursor.fetchone()[0]
        cursor.execute("SELECT name_encrypted, data_encrypted FROM concerns_evidence")
        name, data = cursor.fetchone()
    assert SECRET not in stored and "example.org" not in stored
    # Fernet tokens are base64, so a short plaintext ("PNG") can turn up by chance in a long one: look for the
    # whole name and the PNG signature as it would be stored unencrypted (base64 "iVBORw0KGgo"), and check the
    # stored values are tokens our key opens.
    assert "jamie-messages" not in name and "iVBORw0KGgo" not in data and "\x89PNG" not in data
    assert crypto.decrypt(name) == "jamie-messages.png"
    assert concern.content["text"] == SECRET and concern.content["where"] == "https://example.org/p/42"
    evidence = Evidence.objects.get()
    image.seek(0)
    assert evidence.data() == image.read() and evidence.name == "jamie-messages.png"


@pytest.mark.clause("AW-CON-1")
def test_it_refuses_a_file_that_is_not_an_image_or_pdf_and_keeps_the_words(client, cast):
    client.force_login(cast.alice)
    script = SimpleUploadedFile("evidence.png", b"#!/bin/sh\necho hello\n", content_type="image/png")
    response = client.post(report_url(cast), {**form_data(), "evidence": [png(), script]})
    page = response.content.decode()
    assert response.status_code == 400
    assert "is not a photo, screenshot or PDF" in page and SECRET in page
    assert not Concern.objects.exists() and not Evidence.objects.exists() and not Subject.objects.exists()
    assert not Notification.objects.exists()


def test_it_accepts_a_pdf(cast):
    pdf = SimpleUploadedFile(
        "letter.pdf", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n<<>>\nendobj\n", content_type="application/pdf"
    )
    concern = report(cast, files=[pdf])
    assert concern.evidence.get().content_type == "application/pdf"


def test_it_refuses_a_huge_upload_and_keeps_the_words(client, cast, monkeypatch):
    monkeypatch.setattr(reporting, "MAX_EVIDENCE_BYTES", 1000)
    monkeypatch.setattr(reporting, "MAX_EVIDENCE_FILES", 1)
    client.force_login(cast.alice)
    big = SimpleUploadedFile("big.png", png().read() + b"\0" * 1_200_000, content_type="image/png")
    response = client.post(report_url(cast), {**form_data(), "evidence": [big]})
    assert response.status_code == 413
    assert "too big" in response.content.decode() and SECRET in response.content.decode()
    assert not Concern.objects.exists()
    # Under the body limit but over the per-file one: refused by the action, the same way.
    with pytest.raises(actions.ValidationError, match="too big"):
        report(cast, files=[SimpleUploadedFile("b.png", png().read() + b"\0" * 2000)])
    assert not Concern.objects.exists()


def test_it_refuses_a_date_in_the_future_and_keeps_the_words(client, cast):
    client.force_login(cast.alice)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = client.post(report_url(cast), form_data(happened_on=tomorrow.isoformat()))
    assert response.status_code == 400
    assert "in the future" in response.content.decode() and SECRET in response.content.decode()
    assert not Concern.objects.exists()


def test_it_refuses_a_pupil_who_has_left_with_a_clear_message(client, cast):
    left = Pupil.objects.create(
        school=cast.school, upn="L1", legal_forename="Lou", legal_surname="Leaver", leaving_date=dt.date(2025, 7, 20)
    )
    client.force_login(cast.alice)
    response = client.post(report_url(cast), form_data(pupils=[left.pk]))
    page = response.content.decode()
    assert response.status_code == 400 and "left the school on 20 July 2025" in page and SECRET in page
    assert not Concern.objects.exists()


def test_it_refuses_pupils_and_staff_of_another_school(cast):
    from schoolgate.testing import make_school

    other = make_school("Other")
    pupil = Pupil.objects.create(school=other.school, upn="O1", legal_forename="Oz", legal_surname="Other")
    with pytest.raises(actions.ValidationError):
        report(cast, pupils=[pupil])
    with pytest.raises(actions.ValidationError):
        report(cast, staff=[other.alice])
    assert not Concern.objects.exists()


@pytest.mark.clause("AW-CON-2")
def test_it_has_a_concern_type_for_contact_on_a_personal_account_that_reaches_the_dsl(cast):
    concern = report(cast, category=Category.PERSONAL_ACCOUNT_CONTACT, where_kind=WhereKind.PERSONAL_ACCOUNT)
    assert concern.get_category_display() == "A pupil or parent contacted me on a personal account"
    assert cast.dsl in access.readers_of(concern)
    assert Notification.objects.filter(user=cast.dsl, subject="A new concern needs your attention").exists()


@pytest.mark.clause("AW-CON-3")
def test_it_routes_a_self_report_to_leadership_not_to_the_reporter_or_deputies(cast):
    concern = report(cast, category=Category.SELF_REPORT, where_kind=WhereKind.PERSONAL_ACCOUNT)
    assert concern.audience == Audience.STAFF
    assert set(access.readers_of(concern)) == {cast.head, cast.dsl}
    assert not access.may_read(cast.alice, concern)
    # The headteacher's own self-report goes to the chair of governors.
    own = report(cast, by=cast.head, category=Category.SELF_REPORT, where_kind=WhereKind.PERSONAL_ACCOUNT)
    assert access.readers_of(own) == [cast.chair]


@pytest.mark.clause("RS-ABU-2")
def test_it_routes_abuse_by_a_colleague_to_the_dsl_and_not_to_the_colleague(cast):
    concern = report(cast, category=Category.COLLEAGUE_ABUSE, staff=[cast.bob], where_kind=WhereKind.ONLINE_OTHER)
    assert cast.dsl in access.readers_of(concern) and cast.bob not in access.readers_of(concern)
    assert Notification.objects.filter(user=cast.dsl, url__endswith=f"/concerns/{concern.pk}/").exists()


@pytest.mark.clause("AW-PUPIL-1")
def test_it_tags_a_concern_as_underage_use_of_a_site(cast):
    pupil = Pupil.objects.create(school=cast.school, upn="U1", legal_forename="Uma", legal_surname="Young")
    concern = report(cast, category=Category.UNDERAGE_USE, pupils=[pupil], network="tiktok")
    assert concern.get_category_display() == "A pupil using a site below its minimum age"
    assert list(Concern.objects.filter(category=Category.UNDERAGE_USE, subjects__pupil=pupil)) == [concern]


@pytest.mark.clause("RS-CON-1")
def test_it_has_types_for_unacceptable_conduct_and_data_breaches(cast):
    conduct = report(cast, category=Category.UNACCEPTABLE_CONDUCT)
    breach = report(cast, category=Category.DATA_BREACH)
    assert conduct.get_category_display() == "Defamatory, discriminatory or harassing content"
    assert breach.clocks.get().kind == "ico"


@pytest.mark.clause("AW-CON-1")
def test_it_shows_the_pupil_roster_only_to_those_who_work_with_pupils(client, cast):
    Pupil.objects.create(school=cast.school, upn="R1", legal_forename="Rosalind", legal_surname="Quartermaine")
    for person, sees_roster in [(cast.alice, True), (cast.dsl, True), (cast.volunteer, False), (cast.governor, False)]:
        client.force_login(person)
        page = client.get(report_url(cast)).content.decode()
        assert ("Quartermaine" in page) is sees_roster, person
        assert ('name="pupil_named"' in page) is not sees_roster, person

    client.force_login(cast.volunteer)
    response = client.post(report_url(cast), form_data(pupil_named="Rosie in 3B"))
    assert response.status_code == 302
    concern = Concern.objects.get()
    client.force_login(cast.dsl)
    assert (
        "A pupil, named by the reporter: Rosie in 3B"
        in client.get(f"/s/{cast.school.slug}/concerns/{concern.pk}/").content.decode()
    )
