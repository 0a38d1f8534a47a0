"""The concern settings page: who reads each kind of concern, the procedures and their clocks, the clocks' lengths
and the retention rules; refusals shown clearly with nothing saved; access follows at once; audited."""

from __future__ import annotations

import pytest

from schoolgate.audit.models import AuditEntry
from schoolgate.concerns import access
from schoolgate.concerns.clocks import SchoolCalendar
from schoolgate.concerns.models import Category, ConcernSettings
from schoolgate.concerns.tests.helpers import SECRET, report
from schoolgate.notifications.models import Notification

pytestmark = pytest.mark.django_db


def url(cast) -> str:
    return f"/s/{cast.school.slug}/concerns/settings/"


def form(**overrides) -> dict:
    """The settings page as it comes, the defaults, with the procedures formset."""
    data = {
        "readers_safeguarding": ["dsl", "deputy_dsl", "headteacher"],
        "readers_staff": ["dsl", "headteacher"],
        "readers_headteacher": ["chair_of_governors"],
        "initial_assessment_role": "",
        "lado_referral_working_days": "1",
        "breach_notification_hours": "72",
        "clock_warning_hours": "6",
        "retention_pupil_years": "25",
        "retention_staff_years": "10",
        "retention_pension_age": "67",
        "procedures-TOTAL_FORMS": "3",
        "procedures-INITIAL_FORMS": "2",
        "procedures-MIN_NUM_FORMS": "0",
        "procedures-MAX_NUM_FORMS": "30",
        "procedures-0-key": "child_protection",
        "procedures-0-name": "Child protection",
        "procedures-0-clock": "",
        "procedures-1-key": "allegations",
        "procedures-1-name": "Allegations against staff",
        "procedures-1-clock": "lado",
        "procedures-2-key": "",
        "procedures-2-name": "",
        "procedures-2-clock": "",
    }
    data.update(overrides)
    return data


def saved(cast) -> ConcernSettings:
    return ConcernSettings.objects.get(school=cast.school)


@pytest.mark.clause("AW-CON-1")
def test_it_lets_the_headteacher_and_the_dsl_change_who_reads_concerns_at_once(client, cast):
    concern = report(cast, text=SECRET)
    detail = f"/s/{cast.school.slug}/concerns/{concern.pk}/"
    client.force_login(cast.deputy_dsl)
    assert client.get(detail).status_code == 200
    client.force_login(cast.head)
    assert client.get(url(cast)).status_code == 200
    response = client.post(url(cast), form(readers_safeguarding=["dsl", "headteacher"]))
    assert response.status_code == 302
    assert saved(cast).readers["safeguarding"] == ["dsl", "headteacher"]
    # The existing concern follows the table at once.
    client.force_login(cast.deputy_dsl)
    assert client.get(detail).status_code == 404
    client.force_login(cast.dsl)
    assert client.get(url(cast)).status_code == 200
    for user in (cast.deputy_dsl, cast.leader, cast.alice, cast.chair, cast.governor):
        client.force_login(user)
        assert client.get(url(cast)).status_code == 403
        assert client.post(url(cast), form(readers_safeguarding=["staff"])).status_code == 403
    assert saved(cast).readers["safeguarding"] == ["dsl", "headteacher"]
    entry = AuditEntry.objects.get(action="concerns.settings_changed")
    assert entry.school == cast.school and not entry.restricted and entry.actor == cast.head
    assert entry.changes["readers"][1]["safeguarding"] == ["dsl", "headteacher"]


@pytest.mark.clause("AW-CON-1")
def test_it_refuses_a_table_the_rules_forbid_and_saves_nothing(client, cast):
    client.force_login(cast.head)
    response = client.post(url(cast), form(readers_headteacher=["headteacher", "chair_of_governors"]))
    page = response.content.decode()
    assert response.status_code == 400 and "cannot be read by a headteacher" in page
    response = client.post(url(cast), form(readers_staff=[], retention_pupil_years="30"))
    page = response.content.decode()
    assert response.status_code == 400 and "Someone must read about a member of staff" in page
    assert 'value="30"' in page  # what was typed is kept
    assert not ConcernSettings.objects.filter(school=cast.school).exists()
    assert not AuditEntry.objects.filter(action="concerns.settings_changed").exists()


def test_it_refuses_numbers_outside_the_rules_bounds(client, cast):
    client.force_login(cast.dsl)
    response = client.post(
        url(cast), form(breach_notification_hours="96", retention_pupil_years="10", lado_referral_working_days="x")
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "At most 72." in page and "the guidance keeps child protection records until the pupil is 25" in page
    assert "Give a whole number." in page
    assert not ConcernSettings.objects.filter(school=cast.school).exists()


def test_it_edits_the_procedures_and_the_clock_each_starts(client, cast):
    client.force_login(cast.head)
    data = form(
        **{
            "procedures-0-name": "Safeguarding and child protection",
            "procedures-1-DELETE": "on",
            "procedures-2-name": "Staff conduct (allegations)",
            "procedures-2-clock": "lado",
        }
    )
    assert client.post(url(cast), data).status_code == 302
    assert saved(cast).procedures == [
        {"key": "child_protection", "name": "Safeguarding and child protection"},
        {"key": "staff_conduct_allegations", "name": "Staff conduct (allegations)", "clock": "lado"},
    ]
    concern = report(cast)
    from schoolgate.concerns import actions

    cast.school._concern_settings = None
    actions.add_entry(concern, by=cast.dsl, kind="routed", procedure="staff_conduct_allegations")
    assert concern.clocks.get().kind == "lado"
    # Two with one name, or none at all: refused.
    refused = client.post(url(cast), form(**{"procedures-1-name": "Child protection"}))
    assert refused.status_code == 400 and "two procedures called" in refused.content.decode()
    refused = client.post(url(cast), form(**{"procedures-0-DELETE": "on", "procedures-1-DELETE": "on"}))
    assert refused.status_code == 400 and "Keep at least one procedure" in refused.content.decode()
    assert len(saved(cast).procedures) == 2


def test_it_sets_the_initial_assessor_and_the_clocks(client, cast):
    client.force_login(cast.head)
    refused = client.post(url(cast), form(initial_assessment_role="volunteer"))
    assert refused.status_code == 400 and "reads no concerns under this table" in refused.content.decode()
    data = form(initial_assessment_role="headteacher", lado_referral_working_days="2", clock_warning_hours="12")
    data["closures_stop_working_days"] = "on"
    assert client.post(url(cast), data).status_code == 302
    settings = saved(cast)
    assert settings.initial_assessment_role == "headteacher" and settings.lado_referral_working_days == 2
    assert settings.clock_warning_hours == 12 and settings.closures_stop_working_days
    cast.school._concern_settings = None
    about_bob = report(cast, staff=[cast.bob], category=Category.STAFF_CONDUCT)
    clock = about_bob.clocks.get()
    # Counted with the new settings: two working days, closures not counted.
    assert clock.due_at == SchoolCalendar(cast.school, closures=True).add_working_days(clock.started_at, 2)
    assert access.concern_settings(cast.school).lado_referral_working_days == 2


@pytest.mark.clause("AW-CON-1")
def test_it_tells_the_chair_when_who_reads_concerns_about_the_headteacher_changes(client, cast):
    client.force_login(cast.head)
    assert client.post(url(cast), form(readers_headteacher=["governor"])).status_code == 302
    told = Notification.objects.filter(subject="Who reads concerns about the headteacher has changed")
    assert {n.user for n in told} == {cast.chair, cast.governor}
    assert all("Hannah Head changed" in n.body for n in told)
