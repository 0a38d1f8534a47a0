"""One person's chronology: every concern about a pupil or a member of staff that the reader may read, every entry
in time order (corrections beside what they correct), as a page and a PDF for a transfer; every read audited."""

from __future__ import annotations

import datetime as dt

import pytest

from schoolgate.audit.models import AuditEntry
from schoolgate.concerns import actions
from schoolgate.concerns.models import Category
from schoolgate.concerns.tests.helpers import SECRET, report
from schoolgate.pupils.models import Pupil
from schoolgate.testing import make_school

pytestmark = pytest.mark.django_db


@pytest.fixture
def pupil(cast):
    return Pupil.objects.create(
        school=cast.school, upn="C1", legal_forename="Cal", legal_surname="Child", date_of_birth=dt.date(2015, 6, 1)
    )


def pupil_url(cast, pupil, pdf: bool = False) -> str:
    return f"/s/{cast.school.slug}/concerns/pupils/{pupil.pk}/chronology{'.pdf' if pdf else '/'}"


def staff_url(cast, user, pdf: bool = False) -> str:
    return f"/s/{cast.school.slug}/concerns/staff/{user.pk}/chronology{'.pdf' if pdf else '/'}"


@pytest.mark.clause("RS-ROLE-1")
def test_it_shows_every_concern_and_entry_about_a_pupil_in_time_order(client, cast, pupil):
    first = report(cast, text=f"{SECRET}-first", pupils=[pupil])
    wrong = actions.add_entry(first, by=cast.dsl, kind="note", text="Spoke to the Year 3 teacher.")
    fix = actions.add_entry(
        first, by=cast.dsl, kind="correction", corrects=wrong, text="Year 4 teacher.", reason="Misheard the year."
    )
    second = report(cast, text=f"{SECRET}-second", pupils=[pupil], category=Category.BULLYING)
    # A phone call made before the second report, recorded after it: placed when it happened.
    between = fix.recorded_at + (second.reported_at - fix.recorded_at) / 2
    actions.add_entry(
        first,
        by=cast.dsl,
        kind="parent_contact",
        contact="Mrs Child",
        contact_method="phone",
        occurred_at=between,
        shared="What Cal told us.",
        outcome="She will talk to him.",
    )
    actions.add_entry(second, by=cast.head, kind="outcome", text="Apologies made.", reason="Both families agree.")
    unrelated = report(cast, text=f"{SECRET}-other")
    client.force_login(cast.dsl)
    page = client.get(pupil_url(cast, pupil)).content.decode()
    order = [
        f"{SECRET}-first",
        "Spoke to the Year 3 teacher.",
        "Year 4 teacher.",
        "Misheard the year.",
        "She will talk to him.",
        f"{SECRET}-second",
        "Apologies made.",
    ]
    positions = [page.index(text) for text in order]
    assert positions == sorted(positions)
    assert f'href="#entry-{wrong.pk}"' in page and "corrected by" in page
    assert unrelated.reference not in page and f"{SECRET}-other" not in page
    assert first.reference in page and second.reference in page and "1 June 2015" in page
    # Reached from the concern's page.
    detail = client.get(f"/s/{cast.school.slug}/concerns/{first.pk}/").content.decode()
    assert pupil_url(cast, pupil) in detail


@pytest.mark.clause("AW-CON-1")
def test_it_refuses_the_chronology_and_its_pdf_to_anyone_who_does_not_read_the_concerns(client, cast, pupil):
    report(cast, pupils=[pupil])
    report(cast, staff=[cast.bob], category=Category.STAFF_CONDUCT)
    other = make_school("Elsewhere")
    for user in (cast.alice, cast.leader, cast.volunteer, cast.governor, cast.chair):
        client.force_login(user)
        for url in (pupil_url(cast, pupil), pupil_url(cast, pupil, pdf=True)):
            response = client.get(url)
            assert response.status_code == 404, (user, url)
            assert SECRET not in response.content.decode(errors="replace")
    # The deputy reads concerns about pupils, not those about staff.
    client.force_login(cast.deputy_dsl)
    assert client.get(pupil_url(cast, pupil)).status_code == 200
    assert client.get(staff_url(cast, cast.bob)).status_code == 404
    client.force_login(cast.dsl)
    assert client.get(staff_url(cast, cast.bob)).status_code == 200
    # Another school's DSL: not a member here.
    client.force_login(other.dsl)
    assert client.get(pupil_url(cast, pupil)).status_code == 403
    # A pupil or person of this school with no concern: no record to show.
    client.force_login(cast.dsl)
    nobody = Pupil.objects.create(school=cast.school, upn="C2", legal_forename="No", legal_surname="Concerns")
    assert client.get(pupil_url(cast, nobody)).status_code == 404
    assert client.get(staff_url(cast, cast.alice)).status_code == 404
    assert not AuditEntry.objects.filter(action__startswith="concerns.chronology", actor=cast.alice).exists()


@pytest.mark.clause("AW-CON-1")
def test_it_never_shows_the_headteacher_their_own_chronology(client, cast):
    report(cast, text=f"{SECRET}-head", staff=[cast.head], category=Category.STAFF_CONDUCT)
    report(cast, text=f"{SECRET}-head-and-bob", staff=[cast.head, cast.bob], category=Category.STAFF_CONDUCT)
    client.force_login(cast.head)
    assert client.get(staff_url(cast, cast.head)).status_code == 404
    assert client.get(staff_url(cast, cast.head, pdf=True)).status_code == 404
    # Nor through the colleague named with them, nor in the list of people with concerns.
    assert client.get(staff_url(cast, cast.bob)).status_code == 404
    people = client.get(f"/s/{cast.school.slug}/concerns/people/").content.decode()
    assert "Hannah Head" not in people and SECRET not in people
    client.force_login(cast.chair)
    page = client.get(staff_url(cast, cast.head)).content.decode()
    assert f"{SECRET}-head" in page and f"{SECRET}-head-and-bob" in page
    assert "Hannah Head" in client.get(f"/s/{cast.school.slug}/concerns/people/?q=hannah").content.decode()


@pytest.mark.clause("AW-CON-1")
def test_it_audits_every_view_and_download_and_sends_the_pdf_privately(client, cast, pupil):
    concern = report(cast, pupils=[pupil])
    client.force_login(cast.dsl)
    client.get(pupil_url(cast, pupil))
    response = client.get(pupil_url(cast, pupil, pdf=True))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"].startswith("attachment;")
    reads = AuditEntry.objects.filter(action__startswith="concerns.chronology", actor=cast.dsl).order_by("seq")
    assert [(e.action, e.restricted, e.school_id) for e in reads] == [
        ("concerns.chronology_opened", True, None),
        ("concerns.chronology_downloaded", True, None),
    ]
    assert reads[1].detail == {"school": cast.school.pk, "pupil": pupil.pk, "concerns": [concern.pk]}
    assert SECRET not in str([e.detail for e in reads])


def test_it_lists_the_people_with_concerns_and_finds_them_by_name(client, cast, pupil):
    report(cast, pupils=[pupil])
    report(cast, pupils=[pupil], category=Category.BULLYING)
    report(cast, staff=[cast.bob], category=Category.STAFF_CONDUCT)
    Pupil.objects.create(school=cast.school, upn="C3", legal_forename="Nat", legal_surname="Noconcern")
    client.force_login(cast.dsl)
    page = client.get(f"/s/{cast.school.slug}/concerns/people/").content.decode()
    assert "Cal Child" in page and "Bob Staff" in page and "Noconcern" not in page
    assert "Cal Child</a> — 2 concerns" in page and "Bob Staff</a> — 1 concern<" in page
    page = client.get(f"/s/{cast.school.slug}/concerns/people/?q=child").content.decode()
    assert "Cal Child" in page and "Bob Staff" not in page
    assert pupil_url(cast, pupil) in page
    # The deputy reads pupils' concerns only.
    client.force_login(cast.deputy_dsl)
    page = client.get(f"/s/{cast.school.slug}/concerns/people/").content.decode()
    assert "Cal Child" in page and "Bob Staff" not in page
    client.force_login(cast.alice)
    assert client.get(f"/s/{cast.school.slug}/concerns/people/").status_code == 403
