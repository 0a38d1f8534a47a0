"""The overdue list for leaders, safeguarding leads and governors (AW-STAFF-1)."""

from __future__ import annotations

import pytest

from schoolgate.training.actions import complete_privacy_check, record_attendance
from schoolgate.training.tests.helpers import all_answers, days, induction, joined, refresher, set_up

pytestmark = pytest.mark.django_db


def overdue_page(client, cast, person) -> str:
    client.force_login(person)
    response = client.get(f"/s/{cast.school.slug}/training/overdue/")
    assert response.status_code == 200
    return response.content.decode()


def overdue_part(page: str) -> str:
    return page[page.index("<h2>Overdue") : page.index("<h2>Due in the next")]


@pytest.mark.clause("AW-STAFF-1")
def test_it_lists_who_is_overdue_with_what_and_since_when(client, cast):
    set_up(cast)
    everyone_but_alice = [p for p in cast.everyone() if p not in (cast.alice, cast.head)]
    record_attendance(refresher(cast), by=cast.head, users=everyone_but_alice + [cast.alice], completed_on=days(-1))
    record_attendance(induction(cast), by=cast.head, users=everyone_but_alice, completed_on=days(-1))
    joined(cast, cast.alice, 40)  # induction was due 10 days ago

    for person in (cast.head, cast.leader, cast.dsl, cast.deputy_dsl, cast.governor, cast.chair):
        part = overdue_part(overdue_page(client, cast, person))
        assert "Alice Staff" in part and "Induction: safe use of social media" in part
        assert f"{days(-10):%-d %B %Y}" in part and "10 days late" in part
        assert "<td>Bob Staff</td><td>Induction" not in part  # he has done it


@pytest.mark.clause("AW-STAFF-1")
def test_it_keeps_the_overdue_list_from_staff_and_volunteers(client, cast):
    set_up(cast)
    for person in (cast.alice, cast.volunteer):
        client.force_login(person)
        assert client.get(f"/s/{cast.school.slug}/training/overdue/").status_code == 403
        assert client.get(f"/s/{cast.school.slug}/training/records/").status_code == 403


def test_it_lists_training_due_soon_apart_from_what_is_overdue(client, cast):
    set_up(cast)
    joined(cast, cast.bob, 25)  # induction due in 5 days

    page = overdue_page(client, cast, cast.head)

    assert "Bob Staff" not in overdue_part(page)
    assert "Bob Staff" in page[page.index("<h2>Due in the next") :]


def test_it_drops_people_from_the_list_once_they_are_up_to_date(client, cast):
    set_up(cast)
    record_attendance(induction(cast), by=cast.head, users=[cast.alice], completed_on=days(-1))
    record_attendance(refresher(cast), by=cast.head, users=[cast.alice], completed_on=days(-1))
    complete_privacy_check(cast.school, by=cast.alice, answers=all_answers())

    assert "Alice Staff" not in overdue_part(overdue_page(client, cast, cast.head))
