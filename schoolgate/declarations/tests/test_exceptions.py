"""Exceptions for personal-account contact (AW-CON-6): asked for by a member, approved or refused by the
headteacher alone (with reasons and an end date), read only by the member, the headteacher and the DSL, reminded
once before they end, and lapsed after their last day."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from schoolgate.audit.models import AuditEntry
from schoolgate.declarations import access, actions
from schoolgate.declarations.models import ContactException, DeclarationSettings, ExceptionStatus
from schoolgate.declarations.tests.helpers import (
    EXCEPTION_REASON,
    EXCEPTION_WHO,
    approved_exception,
    everything_sent_and_logged,
    request_exception,
)
from schoolgate.notifications.models import Notification
from schoolgate.pupils.models import Pupil
from schoolgate.testing import make_school

pytestmark = pytest.mark.django_db


def url(cast, exception=None, path: str = "") -> str:
    base = f"/s/{cast.school.slug}/declarations/exceptions/"
    return f"{base}{exception.pk}/{path}" if exception else f"{base}{path}"


def decision(**overrides) -> dict:
    data = {
        "decision": "approve",
        "reason": "Agreed for the team's fixtures only.",
        "expires_on": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
    }
    data.update(overrides)
    return data


@pytest.mark.clause("AW-CON-6")
def test_it_lets_only_the_headteacher_approve_an_exception(client, cast):
    exception = request_exception(cast)

    for person in cast.everyone():
        if person == cast.head:
            continue
        with pytest.raises(PermissionDenied):
            actions.decide_exception(
                exception, by=person, approve=True, reason="Fine", expires_on=exception.needed_until
            )
        client.force_login(person)
        assert client.post(url(cast, exception, "decide/"), decision()).status_code in (403, 404), person
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.REQUESTED
    client.force_login(cast.head)

    response = client.post(url(cast, exception, "decide/"), decision())

    assert response.status_code == 302
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.APPROVED and exception.decided_by == cast.head
    assert exception.expires_on == timezone.localdate() + dt.timedelta(days=30)
    assert exception.decision_reason == "Agreed for the team's fixtures only."


@pytest.mark.clause("AW-CON-6")
def test_it_shows_an_exception_only_to_the_member_the_headteacher_and_the_dsl(client, cast):
    exception = request_exception(cast)
    readers = {cast.alice, cast.head, cast.dsl}

    for person in [*cast.everyone(), make_school("Elsewhere").head]:
        client.force_login(person)
        response = client.get(url(cast, exception))
        expected = 200 if person in readers else (404 if cast.school.roles_of(person) else 403)
        assert response.status_code == expected, person
        assert (EXCEPTION_REASON in response.content.decode()) == (person in readers)
        listed = client.get(url(cast))
        assert EXCEPTION_REASON not in listed.content.decode()
    assert set(
        Notification.objects.filter(about__startswith="declarations:exception:").values_list("user", flat=True)
    ) == {cast.head.pk}
    opened = AuditEntry.objects.filter(action="declarations.exception_opened")
    assert set(opened.values_list("actor", flat=True)) == {cast.head.pk, cast.dsl.pk}
    assert EXCEPTION_REASON not in everything_sent_and_logged() and EXCEPTION_WHO not in everything_sent_and_logged()


@pytest.mark.clause("AW-CON-6")
def test_it_lapses_an_approved_exception_after_its_last_day(client, cast):
    exception = approved_exception(cast, days=10)
    last_day = exception.expires_on

    assert exception.effective_status(last_day) == ExceptionStatus.APPROVED
    assert exception.effective_status(last_day + dt.timedelta(days=1)) == ExceptionStatus.LAPSED
    assert actions.sweep_contact_exceptions(last_day) >= 0
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.APPROVED

    actions.sweep_contact_exceptions(last_day + dt.timedelta(days=1))
    actions.sweep_contact_exceptions(last_day + dt.timedelta(days=2))

    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.LAPSED and exception.ended_at is not None
    ended = Notification.objects.filter(subject="An approved exception has ended")
    assert set(ended.values_list("user", flat=True)) == {cast.alice.pk, cast.head.pk}
    assert AuditEntry.objects.filter(action="declarations.exception_lapsed").count() == 1
    # Shown as ended, even before a sweep records it.
    ContactException.objects.filter(pk=exception.pk).update(
        status=ExceptionStatus.APPROVED, expires_on=timezone.localdate() - dt.timedelta(days=1)
    )
    client.force_login(cast.alice)
    page = client.get(f"/s/{cast.school.slug}/declarations/").content.decode()
    assert "Approved:" not in page and "Ended (past its end date)" in page


@pytest.mark.clause("AW-CON-6")
def test_it_reminds_the_member_and_the_head_once_before_an_exception_ends(cast):
    DeclarationSettings.objects.create(school=cast.school, exception_reminder_days=7)
    exception = approved_exception(cast, days=20)
    last_day = exception.expires_on

    assert actions.sweep_contact_exceptions(last_day - dt.timedelta(days=8)) == 0
    assert actions.sweep_contact_exceptions(last_day - dt.timedelta(days=7)) == 1
    assert actions.sweep_contact_exceptions(last_day - dt.timedelta(days=6)) == 0
    assert actions.sweep_contact_exceptions(last_day) == 0

    reminders = Notification.objects.filter(subject="An approved exception ends soon")
    assert sorted(reminders.values_list("user", flat=True)) == sorted([cast.alice.pk, cast.head.pk])
    assert EXCEPTION_REASON not in everything_sent_and_logged()


def test_it_shows_the_approved_exception_on_the_members_page(client, cast):
    approved_exception(cast, days=60)
    client.force_login(cast.alice)

    page = client.get(f"/s/{cast.school.slug}/declarations/").content.decode()

    assert "Approved: a parent or carer on WhatsApp" in page
    assert (timezone.localdate() + dt.timedelta(days=60)).strftime("%B %Y") in page


def test_it_sends_the_heads_own_request_to_the_chair_of_governors(cast):
    exception = request_exception(cast, by=cast.head)

    assert access.exception_approvers(exception) == [cast.chair]
    assert not access.may_decide_exception(cast.head, exception)
    assert access.may_read_exception(cast.chair, exception)
    actions.decide_exception(exception, by=cast.chair, approve=False, reason="Use the school's channels.")
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.REFUSED and exception.expires_on is None


def test_it_refuses_a_decision_without_reasons_or_an_end_date_and_saves_nothing(client, cast):
    exception = request_exception(cast)
    client.force_login(cast.head)

    no_reason = client.post(url(cast, exception, "decide/"), decision(reason=""))
    past = client.post(url(cast, exception, "decide/"), decision(expires_on="2020-01-01"))
    no_date = client.post(url(cast, exception, "decide/"), decision(expires_on=""))

    assert {no_reason.status_code, past.status_code, no_date.status_code} == {400}
    assert "That date has passed" in past.content.decode()
    assert "Give the date it should end" in no_date.content.decode()
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.REQUESTED and exception.decided_at is None
    with pytest.raises(ValidationError, match="a year at most"):
        actions.decide_exception(
            exception,
            by=cast.head,
            approve=True,
            reason="Fine",
            expires_on=timezone.localdate() + dt.timedelta(days=400),
        )


def test_it_stores_who_and_why_encrypted(cast):
    request_exception(cast)

    with connection.cursor() as cursor:
        cursor.execute("SELECT who_encrypted, reason_encrypted FROM declarations_contactexception")
        who, reason = cursor.fetchone()
    assert EXCEPTION_WHO not in who and EXCEPTION_REASON not in reason
    assert ContactException.objects.get().reason == EXCEPTION_REASON


def test_it_takes_a_pupil_from_the_roster_or_a_name_in_words(client, cast):
    pupil = Pupil.objects.create(school=cast.school, upn="A1", legal_forename="Sam", legal_surname="Oduya")
    left = Pupil.objects.create(
        school=cast.school, upn="A2", legal_forename="Jo", legal_surname="Left", leaving_date=dt.date(2020, 7, 1)
    )
    client.force_login(cast.alice)
    data = {
        "contact_kind": "pupil",
        "network": "whatsapp",
        "reason": EXCEPTION_REASON,
        "needed_until": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
    }

    nobody = client.post(url(cast, path="new/"), data)
    leaver = client.post(url(cast, path="new/"), {**data, "pupil": left.pk})
    chosen = client.post(url(cast, path="new/"), {**data, "pupil": pupil.pk})

    assert nobody.status_code == 400 and "Say who the contact would be with" in nobody.content.decode()
    assert leaver.status_code == 400 and "has left the school" in leaver.content.decode()
    assert EXCEPTION_REASON in leaver.content.decode()
    assert chosen.status_code == 302 and ContactException.objects.get().pupil == pupil
    # A volunteer, who may not see the roster, names the person in words.
    client.force_login(cast.volunteer)
    assert "Sam Oduya" not in client.get(url(cast, path="new/")).content.decode()
    with pytest.raises(ValidationError, match="in words"):
        actions.request_exception(
            cast.school,
            by=cast.volunteer,
            network="x",
            contact_kind="pupil",
            pupil=pupil,
            reason="r",
            needed_until=timezone.localdate(),
        )


def test_it_lets_the_member_withdraw_or_end_their_own_exception(client, cast):
    exception = approved_exception(cast)
    client.force_login(cast.head)
    assert client.post(url(cast, exception, "withdraw/")).status_code == 404
    client.force_login(cast.alice)

    assert client.post(url(cast, exception, "withdraw/")).status_code == 302

    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.WITHDRAWN and not exception.is_active()
