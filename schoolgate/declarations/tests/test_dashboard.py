"""The dashboard card: a member's due declaration and a reviewer's waiting count, in a query or two, without
what any declaration says."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from schoolgate.declarations import actions
from schoolgate.declarations.tests.helpers import RELATIONSHIP, declare_relationship, request_exception
from schoolgate.declarations.views import dashboard_summary
from schoolgate.schools.models import Membership

pytestmark = pytest.mark.django_db


def test_it_shows_a_members_due_declaration_and_links_their_page(client, cast):
    Membership.objects.filter(school=cast.school).update(created_at=timezone.now() - dt.timedelta(days=400))
    actions.sweep_annual_declarations()
    client.force_login(cast.alice)

    page = client.get(f"/s/{cast.school.slug}/").content.decode()

    assert "Your annual declaration was due on" in page and "Overdue" in page
    assert f'href="/s/{cast.school.slug}/declarations/"' in page


def test_it_counts_what_waits_for_a_reviewer_and_an_approver_without_content(client, cast):
    declare_relationship(cast)
    request_exception(cast, by=cast.bob)

    for person, waiting in [(cast.dsl, 1), (cast.deputy_dsl, 1), (cast.head, 1), (cast.alice, None), (cast.bob, None)]:
        client.force_login(person)
        page = client.get(f"/s/{cast.school.slug}/").content.decode()
        assert RELATIONSHIP not in page
        assert dashboard_summary(person, cast.school)["waiting"] == waiting, person
        assert ("1 waiting for you" in page) == bool(waiting), person


def test_it_costs_the_dashboard_a_query_or_two(cast, django_assert_max_num_queries):
    declare_relationship(cast)
    for person in (cast.alice, cast.dsl, cast.head):
        cast.school.roles_of(person)  # the dashboard has already loaded the person's roles
        cast.school._declaration_settings = None
        with django_assert_max_num_queries(3):
            dashboard_summary(person, cast.school)
        with django_assert_max_num_queries(2):
            dashboard_summary(person, cast.school)  # the school's settings are read once per request
