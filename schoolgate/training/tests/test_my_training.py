"""Each member sees their own training, what is due, and the factsheets they have not read."""

from __future__ import annotations

import pytest

from schoolgate.training.actions import record_attendance, record_own_completion
from schoolgate.training.tests.helpers import days, induction, joined, set_up

pytestmark = pytest.mark.django_db


@pytest.mark.clause("AW-STAFF-1")
def test_it_shows_a_member_their_own_training_and_when_each_is_due(client, cast):
    set_up(cast)
    joined(cast, cast.alice, 10)  # induction due in 20 days (the self-check too), the refresher in 355
    record_attendance(induction(cast), by=cast.head, users=[cast.bob], completed_on=days(-3))
    client.force_login(cast.alice)

    page = client.get(f"/s/{cast.school.slug}/training/").content.decode()
    courses = page[page.index('id="courses-h"') : page.index('id="privacy-h"')]

    assert "Induction: safe use of social media" in courses
    assert f"Next due {days(20):%-d %B %Y}" in courses and f"Next due {days(355):%-d %B %Y}" in courses
    assert "Privacy self-check" in page
    assert "Bob Staff" not in page  # nobody else's records


def test_it_shows_a_self_record_as_waiting_until_confirmed(client, cast):
    set_up(cast)
    record_own_completion(induction(cast), by=cast.alice, completed_on=days(-1), note="Online module")
    client.force_login(cast.alice)

    page = client.get(f"/s/{cast.school.slug}/training/").content.decode()

    assert "Online module" in page and "Waiting for confirmation" in page


def test_it_creates_a_schools_default_courses_the_first_time_anyone_opens_training(client, cast):
    client.force_login(cast.alice)

    page = client.get(f"/s/{cast.school.slug}/training/").content.decode()

    assert "Annual refresher" in page


def test_it_keeps_what_was_typed_when_a_self_record_is_refused(client, cast):
    set_up(cast)
    client.force_login(cast.alice)

    response = client.post(
        f"/s/{cast.school.slug}/training/record/",
        {"course": induction(cast).pk, "completed_on": days(2).isoformat(), "note": "Certificate 77"},
    )

    assert response.status_code == 400
    assert "future" in response.content.decode() and 'value="Certificate 77"' in response.content.decode()
