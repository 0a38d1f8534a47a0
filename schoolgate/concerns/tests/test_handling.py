"""Handling a concern (RS-ROLE-1, AW-CON-4): an append-only chronology of assessment, routing, agencies, actions,
parent contact, outcome and closure; corrections are new entries; every text encrypted, key rotation included."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from schoolgate import crypto
from schoolgate.concerns import actions
from schoolgate.concerns.models import AppendOnly, Category, ConcernSettings, Entry, Status
from schoolgate.concerns.tests.helpers import SECRET, png, report
from schoolgate.pupils.models import Pupil

pytestmark = pytest.mark.django_db


@pytest.mark.clause("RS-ROLE-1")
def test_it_records_assessment_routing_agencies_and_actions_in_order(cast):
    concern = report(cast, staff=[cast.bob], category=Category.STAFF_CONDUCT)
    actions.add_entry(concern, by=cast.head, kind="assessment", text="Meets the harm threshold.")
    actions.add_entry(concern, by=cast.head, kind="routed", procedure="allegations", owner=cast.head)
    actions.add_entry(
        concern, by=cast.dsl, kind="agency", agency="lado", agency_decision="referred", reference="LADO-77"
    )
    due = timezone.localdate() + dt.timedelta(days=3)
    actions.add_entry(concern, by=cast.head, kind="action", text="Meet Bob with HR.", owner=cast.leader, due_on=due)
    kinds = [(e.kind, e.procedure_name, e.agency) for e in concern.entries.all()]
    assert kinds == [
        ("assessment", "", ""),
        ("routed", "Allegations against staff", ""),
        ("agency", "", "lado"),
        ("action", "", ""),
    ]
    assert concern.clocks.get().stopped_at is not None
    action = concern.entries.get(kind="action")
    assert action.owner == cast.leader and action.due_on == due and action.body["text"] == "Meet Bob with HR."


@pytest.mark.clause("RS-ROLE-1")
def test_it_leaves_the_initial_assessment_to_the_role_the_policy_names(cast):
    ConcernSettings.objects.create(school=cast.school, initial_assessment_role="headteacher")
    concern = report(cast)
    with pytest.raises(actions.ValidationError, match="initial assessment is made by the Headteacher"):
        actions.add_entry(concern, by=cast.dsl, kind="assessment", text="Low risk.")
    actions.add_entry(concern, by=cast.head, kind="assessment", text="Low risk.")
    # A concern about the headteacher is assessed by its readers (the chair), not by the head.
    about_head = report(cast, staff=[cast.head], category=Category.STAFF_CONDUCT)
    actions.add_entry(about_head, by=cast.chair, kind="assessment", text="Refer to the LADO.")
    assert Entry.objects.filter(kind="assessment").count() == 2


def test_it_routes_only_to_the_schools_procedures_and_starts_their_clocks(cast):
    ConcernSettings.objects.create(
        school=cast.school, procedures=[{"key": "gdpr", "name": "Our breach procedure", "clock": "ico"}]
    )
    concern = report(cast)
    with pytest.raises(actions.ValidationError, match="procedures"):
        actions.add_entry(concern, by=cast.dsl, kind="routed", procedure="allegations")
    actions.add_entry(concern, by=cast.dsl, kind="routed", procedure="gdpr")
    assert concern.entries.get().procedure_name == "Our breach procedure"
    assert concern.clocks.get().kind == "ico"


@pytest.mark.clause("AW-CON-4")
def test_it_records_contact_with_parents_who_when_how_what_and_outcome(client, cast):
    pupil = Pupil.objects.create(school=cast.school, upn="P1", legal_forename="Pat", legal_surname="Pupil")
    concern = report(cast, category=Category.UNDERAGE_USE, pupils=[pupil])
    client.force_login(cast.dsl)
    url = f"/s/{cast.school.slug}/concerns/{concern.pk}/entries/"
    refused = client.post(url, {"kind": "parent_contact", "contact": "Mrs Pupil (mother)"})
    assert refused.status_code == 400 and "Say what was shared" in refused.content.decode()
    assert "Mrs Pupil (mother)" in refused.content.decode() and not concern.entries.exists()
    when = timezone.localtime() - dt.timedelta(hours=2)
    response = client.post(
        url,
        {
            "kind": "parent_contact",
            "contact": "Mrs Pupil (mother)",
            "occurred_at": when.strftime("%Y-%m-%dT%H:%M"),
            "contact_method": "phone",
            "shared": "Pat has a TikTok account; the site is 13+.",
            "outcome": "Mother will close the account tonight.",
        },
    )
    assert response.status_code == 302
    entry = concern.entries.get()
    assert entry.contact_method == "phone" and entry.occurred_at.replace(second=0, microsecond=0) == when.replace(
        second=0, microsecond=0
    )
    assert entry.body == {
        "contact": "Mrs Pupil (mother)",
        "shared": "Pat has a TikTok account; the site is 13+.",
        "outcome": "Mother will close the account tonight.",
    }
    page = client.get(f"/s/{cast.school.slug}/concerns/{concern.pk}/").content.decode()
    assert "Mother will close the account tonight." in page and "With Mrs Pupil (mother) (phone)" in page


@pytest.mark.clause("RS-ROLE-1")
def test_it_never_changes_an_entry_and_shows_a_correction_beside_it(client, cast):
    concern = report(cast)
    wrong = actions.add_entry(concern, by=cast.dsl, kind="note", text="Spoke to Year 5 teacher.")
    with pytest.raises(AppendOnly):
        wrong.seal(text="Spoke to Year 6 teacher.")
        wrong.save()
    with pytest.raises(AppendOnly):
        wrong.delete()
    with pytest.raises(actions.ValidationError, match="why"):
        actions.add_entry(concern, by=cast.dsl, kind="correction", corrects=wrong, text="Year 6 teacher.")
    fix = actions.add_entry(
        concern, by=cast.dsl, kind="correction", corrects=wrong, text="Year 6 teacher.", reason="Misheard the year."
    )
    assert Entry.objects.get(pk=wrong.pk).body["text"] == "Spoke to Year 5 teacher."
    client.force_login(cast.dsl)
    page = client.get(f"/s/{cast.school.slug}/concerns/{concern.pk}/").content.decode()
    assert "Spoke to Year 5 teacher." in page and "Year 6 teacher." in page and "Misheard the year." in page
    assert f'href="#entry-{fix.pk}"' in page and f'href="#entry-{wrong.pk}"' in page


@pytest.mark.clause("RS-ROLE-1")
def test_it_closes_only_with_reasons_and_no_clock_running(cast):
    concern = report(cast, staff=[cast.bob], category=Category.STAFF_CONDUCT)
    with pytest.raises(actions.ValidationError, match="deadline is open"):
        actions.add_entry(concern, by=cast.head, kind="closure", text="No further action.", reason="Unfounded.")
    actions.add_entry(
        concern,
        by=cast.head,
        kind="agency",
        agency="lado",
        agency_decision="not_referred",
        reason="LADO consulted informally: below the harm threshold.",
    )
    with pytest.raises(actions.ValidationError, match="reason"):
        actions.add_entry(concern, by=cast.head, kind="closure", text="No further action.")
    actions.add_entry(concern, by=cast.head, kind="closure", text="No further action.", reason="Unfounded.")
    concern.refresh_from_db()
    assert concern.status == Status.CLOSED and concern.closed_at is not None


def test_it_encrypts_handling_text_and_rotation_covers_every_concern_column(cast, settings):
    from cryptography.fernet import Fernet

    concern = report(cast, files=[png()])
    actions.add_entry(concern, by=cast.dsl, kind="note", text=SECRET)
    with connection.cursor() as cursor:
        cursor.execute("SELECT body_encrypted FROM concerns_entry")
        assert SECRET not in cursor.fetchone()[0]
    old_keys = list(settings.ENCRYPTION_KEYS)
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *old_keys]
    crypto._fernet.cache_clear()
    try:
        call_command("rotate_encryption_key", stdout=open("/dev/null", "w"))  # noqa: SIM115
        settings.ENCRYPTION_KEYS = settings.ENCRYPTION_KEYS[:1]
        crypto._fernet.cache_clear()
        concern.refresh_from_db()
        assert concern.content["text"] == SECRET
        assert concern.evidence.get().data().startswith(b"\x89PNG") and concern.evidence.get().name
        assert concern.entries.get().body["text"] == SECRET
    finally:
        settings.ENCRYPTION_KEYS = old_keys
        crypto._fernet.cache_clear()
