"""Courses and training settings as data each school sets: added, changed, audited, validated."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from schoolgate.audit.models import AuditEntry
from schoolgate.schools.roles import Role
from schoolgate.training.actions import save_course
from schoolgate.training.models import Course, TrainingSettings
from schoolgate.training.tests.helpers import set_up

pytestmark = pytest.mark.django_db


@pytest.mark.clause("AW-STAFF-1")
def test_it_lets_a_school_add_a_course_for_the_roles_it_names(client, cast):
    set_up(cast)
    client.force_login(cast.leader)

    response = client.post(
        f"/s/{cast.school.slug}/training/courses/new/",
        {
            "name": "Safeguarding for DSLs",
            "kind": "other",
            "description": "Level 3, every two years",
            "roles": [Role.DSL, Role.DEPUTY_DSL],
            "renewal_months": "24",
            "due_within_days": "90",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    course = Course.objects.get(name="Safeguarding for DSLs")
    assert (course.roles, course.renewal_months, course.due_within_days) == ([Role.DSL, Role.DEPUTY_DSL], 24, 90)
    assert AuditEntry.objects.filter(action="training.course.added", object_id=str(course.pk)).exists()
    page = client.get(f"/s/{cast.school.slug}/training/courses/").content.decode()
    assert "Safeguarding for DSLs" in page and "Every 2 years" in page


def test_it_refuses_a_course_without_roles_or_with_a_taken_name_and_keeps_the_form(client, cast):
    set_up(cast)
    client.force_login(cast.head)

    response = client.post(
        f"/s/{cast.school.slug}/training/courses/new/",
        {
            "name": "Induction: safe use of social media",
            "kind": "other",
            "roles": [Role.STAFF],
            "due_within_days": "30",
        },
    )
    assert response.status_code == 400
    assert "already a course called" in response.content.decode()
    response = client.post(
        f"/s/{cast.school.slug}/training/courses/new/",
        {"name": "Phones on trips", "kind": "other", "due_within_days": "30"},
    )
    assert response.status_code == 400
    assert 'value="Phones on trips"' in response.content.decode()
    assert Course.objects.filter(school=cast.school).count() == 2


def test_it_audits_what_changed_in_a_course(cast):
    set_up(cast)
    course = Course.objects.get(school=cast.school, kind="refresher")

    save_course(cast.school, by=cast.dsl, course=course, renewal_months=6)

    entry = AuditEntry.objects.get(action="training.course.changed")
    assert entry.changes == {"renewal_months": [12, 6]}


def test_it_lets_only_leaders_and_safeguarding_leads_change_courses(client, cast):
    set_up(cast)
    for person in (cast.alice, cast.governor):
        with pytest.raises(PermissionDenied):
            save_course(cast.school, by=person, name="Anything", roles=[Role.STAFF])
        client.force_login(person)
        assert client.get(f"/s/{cast.school.slug}/training/courses/new/").status_code == 403
    client.force_login(cast.governor)
    assert client.get(f"/s/{cast.school.slug}/training/courses/").status_code == 200


def test_it_refuses_a_settings_value_out_of_range_and_keeps_the_rest(client, cast):
    set_up(cast)
    client.force_login(cast.head)

    response = client.post(
        f"/s/{cast.school.slug}/training/settings/",
        {
            "privacy_check_months": "0",
            "privacy_check_due_within_days": "21",
            "privacy_check_roles": [Role.STAFF],
            "reminder_days_before": "7",
        },
    )

    assert response.status_code == 400
    assert 'value="21"' in response.content.decode()
    assert TrainingSettings.objects.get(school=cast.school).privacy_check_due_within_days == 30
