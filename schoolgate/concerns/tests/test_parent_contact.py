"""Underage use and inappropriate images lead to a recorded contact with the parents (AW-PUPIL-1, AW-CON-4): the
concern asks for it and is not closed until the contact, or the reason there was none, is recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from schoolgate.concerns import actions
from schoolgate.concerns.models import Category, Status
from schoolgate.concerns.tests.helpers import report
from schoolgate.pupils.models import Pupil

pytestmark = pytest.mark.django_db


@pytest.fixture
def pupil(cast):
    return Pupil.objects.create(school=cast.school, upn="U1", legal_forename="Uma", legal_surname="Under")


def close(concern, by):
    return actions.add_entry(concern, by=by, kind="closure", text="Account closed.", reason="Resolved at home.")


@pytest.mark.clause("AW-PUPIL-1")
@pytest.mark.clause("AW-CON-4")
def test_it_does_not_close_underage_use_until_the_parents_are_contacted(client, cast, pupil):
    concern = report(cast, category=Category.UNDERAGE_USE, pupils=[pupil])
    client.force_login(cast.dsl)
    page = client.get(f"/s/{cast.school.slug}/concerns/{concern.pk}/").content.decode()
    assert 'id="parents-prompt"' in page and "?kind=parent_contact" in page
    response = client.post(
        f"/s/{cast.school.slug}/concerns/{concern.pk}/entries/",
        {"kind": "closure", "text": "Account closed.", "reason": "Resolved at home."},
    )
    assert response.status_code == 400 and "record the contact with them" in response.content.decode()
    concern.refresh_from_db()
    assert concern.status != Status.CLOSED and not concern.entries.exists()
    actions.add_entry(
        concern,
        by=cast.dsl,
        kind="parent_contact",
        contact="Mr Under (father)",
        contact_method="meeting",
        occurred_at=timezone.now() - dt.timedelta(hours=1),
        shared="Uma has an Instagram account; the site is 13+.",
        outcome="He will help her close it.",
    )
    page = client.get(f"/s/{cast.school.slug}/concerns/{concern.pk}/").content.decode()
    assert 'id="parents-prompt"' not in page
    close(concern, cast.dsl)
    concern.refresh_from_db()
    assert concern.status == Status.CLOSED


@pytest.mark.clause("AW-CON-4")
def test_it_closes_when_the_reason_the_parents_were_not_contacted_is_recorded(cast, pupil):
    concern = report(cast, category=Category.INAPPROPRIATE_IMAGES, pupils=[pupil])
    with pytest.raises(actions.ValidationError, match="record the contact with them"):
        close(concern, cast.dsl)
    with pytest.raises(actions.ValidationError, match="Say why the parents or carers were not contacted"):
        actions.add_entry(concern, by=cast.dsl, kind="no_parent_contact")
    actions.add_entry(
        concern,
        by=cast.dsl,
        kind="no_parent_contact",
        reason="Children's social care advised not to tell the parents while they assess.",
    )
    close(concern, cast.dsl)
    concern.refresh_from_db()
    assert concern.status == Status.CLOSED


def test_it_closes_other_kinds_of_concern_without_a_parent_contact(cast):
    concern = report(cast, category=Category.BULLYING)
    close(concern, cast.dsl)
    concern.refresh_from_db()
    assert concern.status == Status.CLOSED
