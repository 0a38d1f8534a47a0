"""Handling (RS-ROLE-1): the investigation lead, the procedure as it stands, and reopening a closed concern."""

from __future__ import annotations

import pytest

from schoolgate.concerns import actions
from schoolgate.concerns.models import Category, Entry, Status
from schoolgate.concerns.tests.helpers import report

pytestmark = pytest.mark.django_db


def detail_url(cast, concern) -> str:
    return f"/s/{cast.school.slug}/concerns/{concern.pk}/"


@pytest.mark.clause("RS-ROLE-1")
def test_it_records_the_investigation_lead_and_shows_the_current_one(client, cast):
    concern = report(cast)
    actions.add_entry(concern, by=cast.head, kind="lead", owner=cast.dsl, text="DSL leads; head informed.")
    actions.add_entry(concern, by=cast.head, kind="lead", owner=cast.deputy_dsl)
    concern.refresh_from_db()
    assert concern.lead == cast.deputy_dsl
    assert [e.owner for e in concern.entries.filter(kind="lead")] == [cast.dsl, cast.deputy_dsl]
    client.force_login(cast.dsl)
    page = client.get(detail_url(cast, concern)).content.decode()
    assert 'id="concern-lead">Dee Deputy' in page and "Lead: Dev Safeguard" in page
    log = client.get(f"/s/{cast.school.slug}/concerns/").content.decode()
    assert "Dee Deputy" in log


@pytest.mark.clause("RS-ROLE-1")
def test_it_lets_only_a_reader_of_the_concern_lead_it(client, cast):
    about_bob = report(cast, staff=[cast.bob], category=Category.STAFF_CONDUCT)
    for lead in (cast.alice, cast.deputy_dsl, cast.bob):  # staff; not a reader of staff concerns; the subject
        with pytest.raises(actions.ValidationError, match="cannot read this concern, so cannot lead it"):
            actions.add_entry(about_bob, by=cast.head, kind="lead", owner=lead)
    with pytest.raises(actions.ValidationError, match="Choose who leads"):
        actions.add_entry(about_bob, by=cast.head, kind="lead")
    client.force_login(cast.head)
    response = client.post(
        f"{detail_url(cast, about_bob)}entries/", {"kind": "lead", "owner": cast.alice.pk, "text": "Alice leads"}
    )
    assert response.status_code == 400 and "Alice leads" in response.content.decode()
    assert not Entry.objects.filter(kind="lead").exists()
    about_bob.refresh_from_db()
    assert about_bob.lead is None
    response = client.post(f"{detail_url(cast, about_bob)}entries/", {"kind": "lead", "owner": cast.dsl.pk})
    assert response.status_code == 302
    about_bob.refresh_from_db()
    assert about_bob.lead == cast.dsl


@pytest.mark.clause("RS-ROLE-1")
def test_it_shows_the_procedure_the_concern_was_last_routed_to(client, cast):
    concern = report(cast)
    actions.add_entry(concern, by=cast.dsl, kind="routed", procedure="behaviour")
    actions.add_entry(concern, by=cast.dsl, kind="routed", procedure="child_protection")
    concern.refresh_from_db()
    assert (concern.procedure, concern.procedure_name) == ("child_protection", "Child protection")
    client.force_login(cast.dsl)
    page = client.get(detail_url(cast, concern)).content.decode()
    assert 'id="concern-procedure">Child protection' in page


@pytest.mark.clause("RS-ROLE-1")
def test_it_reopens_a_closed_concern_with_a_reason(client, cast):
    concern = report(cast)
    with pytest.raises(actions.ValidationError, match="Only a closed concern"):
        actions.add_entry(concern, by=cast.dsl, kind="reopened", reason="More came to light.")
    actions.add_entry(concern, by=cast.dsl, kind="closure", text="No further action.", reason="Resolved.")
    client.force_login(cast.dsl)
    url = f"{detail_url(cast, concern)}entries/"
    refused = client.post(url, {"kind": "reopened", "text": "The pupil disclosed more"})
    assert refused.status_code == 400 and "Say why the concern is reopened" in refused.content.decode()
    assert "The pupil disclosed more" in refused.content.decode()
    concern.refresh_from_db()
    assert concern.status == Status.CLOSED
    response = client.post(url, {"kind": "reopened", "reason": "A second disclosure to the class teacher."})
    assert response.status_code == 302
    concern.refresh_from_db()
    assert concern.status == Status.OPEN and concern.closed_at is None
    assert list(concern.entries.values_list("kind", flat=True)) == ["closure", "reopened"]
    page = client.get(detail_url(cast, concern)).content.decode()
    assert "A second disclosure to the class teacher." in page and "?kind=closure" in page
    # Closed again, with the reopening on the record.
    actions.add_entry(concern, by=cast.dsl, kind="closure", text="Handled.", reason="Parents informed.")
    concern.refresh_from_db()
    assert concern.status == Status.CLOSED
