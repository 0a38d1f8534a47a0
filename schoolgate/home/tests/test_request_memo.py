"""A GET reads the policy in force and the person's roles once; anything else (a POST, a job) reads them afresh."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from schoolgate.policy.models import PolicySettings
from schoolgate.requestmemo import memoized, request_memo
from schoolgate.schools.models import Membership
from schoolgate.schools.roles import Role


def queries_on(table: str, captured) -> int:
    return sum(1 for query in captured if f'FROM "{table}"' in query["sql"])


def test_it_reads_the_policy_and_the_roles_once_per_page(client, cast):
    client.force_login(cast.alice)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/s/{cast.school.slug}/").status_code == 200

    assert queries_on("policy_policysettings", captured) == 1  # however many of the dashboard's cards read it
    assert queries_on("schools_trust_admins", captured) == 1


def test_it_reads_afresh_outside_a_get(cast):
    with CaptureQueriesContext(connection) as captured:
        PolicySettings.objects.in_force_at(cast.school)
        PolicySettings.objects.in_force_at(cast.school)
    assert queries_on("policy_policysettings", captured) == 2


def test_it_sees_a_role_given_after_an_earlier_request(client, cast):
    client.force_login(cast.alice)
    assert client.get(f"/s/{cast.school.slug}/pupils/").status_code == 403
    Membership.objects.create(school=cast.school, user=cast.alice, role=Role.HEADTEACHER)

    # The next page knows she is now the headteacher: a role that must first set up a second factor.
    response = client.get(f"/s/{cast.school.slug}/pupils/")
    assert response.status_code == 302 and response.url.startswith("/accounts/2fa/totp/activate/")


def test_it_keeps_each_requests_values_to_itself():
    with request_memo():
        assert memoized("k", lambda: 1) == 1
        assert memoized("k", lambda: 2) == 1
    with request_memo():
        assert memoized("k", lambda: 3) == 3
    assert memoized("k", lambda: 4) == 4
