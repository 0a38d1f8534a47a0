"""The dashboard shows each member their own due and overdue training, and leaders how much is overdue."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from schoolgate.training.actions import record_own_completion, refresh_deadlines
from schoolgate.training.tests.helpers import days, induction, joined, set_up
from schoolgate.training.views import dashboard_summary

pytestmark = pytest.mark.django_db


def card(page: str, heading_id: str) -> str:
    start = page.index(f'id="{heading_id}"')
    return page[start : page.index("</section>", start)]


@pytest.mark.clause("AW-STAFF-1")
def test_it_shows_a_member_their_own_overdue_and_due_items(client, cast):
    set_up(cast)
    joined(cast, cast.alice, 40)
    refresh_deadlines(cast.school)
    client.force_login(cast.alice)

    mine = card(client.get(f"/s/{cast.school.slug}/").content.decode(), "training-h")

    assert "Induction: safe use of social media" in mine and "Overdue since" in mine
    assert "Privacy self-check" in mine
    assert 'id="staff-training-h"' not in client.get(f"/s/{cast.school.slug}/").content.decode()


@pytest.mark.clause("AW-STAFF-1")
def test_it_shows_leaders_how_many_items_are_overdue_and_how_many_records_wait(client, cast):
    set_up(cast)
    record_own_completion(induction(cast), by=cast.alice, completed_on=days(-1))
    refresh_deadlines(cast.school)
    client.force_login(cast.head)

    staff = card(client.get(f"/s/{cast.school.slug}/").content.decode(), "staff-training-h")

    # Everyone joined long ago and nobody has done anything: 3 duties for each of 7 staff and volunteers.
    assert "21 overdue items for 7 people" in staff
    assert "1 record waiting for confirmation" in staff


def test_it_reads_a_members_card_in_one_query_and_a_leaders_in_three(cast):
    set_up(cast)
    refresh_deadlines(cast.school)
    today = timezone.localdate()
    cast.school.roles_of(cast.alice), cast.school.roles_of(cast.head)  # roles are cached per request

    with CaptureQueriesContext(connection) as member:
        dashboard_summary(cast.alice, cast.school, today)
    with CaptureQueriesContext(connection) as leader:
        dashboard_summary(cast.head, cast.school, today)

    assert len(member) == 1
    assert len(leader) == 3
