"""Giving and taking away roles (add_member, remove_member) and school closure dates, each audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from schoolgate.accounts.models import User
from schoolgate.audit.models import AuditEntry
from schoolgate.schools.actions import add_closure, add_member, remove_closure, remove_member
from schoolgate.schools.models import Closure, Membership, School, Trust
from schoolgate.schools.roles import Role
from schoolgate.testing import make_school, make_user

pytestmark = pytest.mark.django_db


def audited(action: str, school: School):
    return AuditEntry.objects.filter(action=action, school=school)


# add_member


def test_it_adds_a_new_person_with_a_login_but_no_password(cast):
    membership = add_member(
        cast.school,
        by=cast.head,
        email="  New.Teacher@Example.org ",
        full_name=" Nia New ",
        role=Role.STAFF,
        job_title="Year 3 teacher",
    )

    user = membership.user
    assert user.email == "new.teacher@example.org"
    assert user.full_name == "Nia New"
    assert not user.has_usable_password()
    assert (membership.school, membership.role) == (cast.school, "staff")
    assert membership.job_title == "Year 3 teacher"
    entry = audited("school.member.added", cast.school).get()
    assert entry.actor == cast.head
    assert entry.object_id == str(membership.pk)
    assert entry.detail == {"user": "new.teacher@example.org", "role": "staff", "new_login": True}


def test_it_gives_an_existing_person_another_role_without_a_second_login(cast):
    other = make_school("Other School")

    membership = add_member(
        other.school, by=other.head, email=cast.alice.email.upper(), full_name="Ignored", role=Role.GOVERNOR
    )

    assert membership.user == cast.alice
    assert User.objects.filter(email__iexact=cast.alice.email).count() == 1
    assert User.objects.get(pk=cast.alice.pk).full_name == "Alice Staff"
    assert audited("school.member.added", other.school).get().detail["new_login"] is False


def test_it_refuses_a_role_the_person_already_holds(cast):
    with pytest.raises(ValidationError, match="already holds the role Staff"):
        add_member(cast.school, by=cast.head, email=cast.alice.email, full_name="Alice Staff", role=Role.STAFF)

    assert Membership.objects.filter(user=cast.alice).count() == 1
    assert not audited("school.member.added", cast.school).exists()


def test_it_refuses_to_appoint_a_trust_admin_at_one_school(cast):
    with pytest.raises(ValidationError, match="appointed on the trust"):
        add_member(cast.school, by=cast.head, email="t@example.org", full_name="T", role=Role.TRUST_ADMIN)

    assert not User.objects.filter(email="t@example.org").exists()


@pytest.mark.parametrize("person", ["leader", "dsl", "alice", "chair"])
def test_it_lets_only_the_headteacher_or_a_trust_admin_add_people(cast, person):
    with pytest.raises(PermissionDenied):
        add_member(cast.school, by=getattr(cast, person), email="x@example.org", full_name="X", role=Role.STAFF)

    assert not User.objects.filter(email="x@example.org").exists()
    assert not audited("school.member.added", cast.school).exists()


def test_it_lets_a_trust_admin_add_people_at_a_trust_school(cast):
    trust = Trust.objects.create(name="Oak Trust")
    admin = make_user("Tess Trust", totp=True)
    trust.admins.add(admin)
    School.objects.filter(pk=cast.school.pk).update(trust=trust)
    cast.school.refresh_from_db()

    membership = add_member(cast.school, by=admin, email="new@example.org", full_name="Nia New", role=Role.STAFF)

    assert membership.school == cast.school
    assert audited("school.member.added", cast.school).get().actor == admin


# remove_member


def test_it_removes_a_role_and_audits_who_lost_it(cast):
    membership = Membership.objects.get(school=cast.school, user=cast.bob)
    pk = membership.pk

    remove_member(membership, by=cast.head)

    assert not Membership.objects.filter(pk=pk).exists()
    assert User.objects.filter(pk=cast.bob.pk).exists()  # the login stays; only the role goes
    entry = audited("school.member.removed", cast.school).get()
    assert entry.actor == cast.head
    assert entry.object_id == str(pk)
    assert entry.detail == {"user": cast.bob.email, "role": "staff"}


def test_it_refuses_to_remove_the_last_headteacher(cast):
    membership = Membership.objects.get(school=cast.school, role=Role.HEADTEACHER)

    with pytest.raises(ValidationError, match="must keep a headteacher"):
        remove_member(membership, by=cast.head)

    assert Membership.objects.filter(pk=membership.pk).exists()
    assert not audited("school.member.removed", cast.school).exists()


def test_it_removes_a_headteacher_once_the_new_one_is_in_post(cast):
    new_head = add_member(
        cast.school, by=cast.head, email="new.head@example.org", full_name="Nell Head", role=Role.HEADTEACHER
    )
    old = Membership.objects.get(school=cast.school, user=cast.head, role=Role.HEADTEACHER)

    remove_member(old, by=new_head.user)

    assert list(cast.school.members_with_role(Role.HEADTEACHER)) == [new_head.user]
    assert audited("school.member.removed", cast.school).get().detail["role"] == "headteacher"


def test_it_counts_headteachers_at_this_school_only(cast):
    other = make_school("Other School")
    membership = Membership.objects.get(school=cast.school, role=Role.HEADTEACHER)
    assert other.school.memberships.filter(role=Role.HEADTEACHER).exists()

    with pytest.raises(ValidationError):
        remove_member(membership, by=cast.head)


@pytest.mark.parametrize("person", ["leader", "alice", "chair"])
def test_it_lets_only_the_headteacher_or_a_trust_admin_remove_people(cast, person):
    membership = Membership.objects.get(school=cast.school, user=cast.bob)

    with pytest.raises(PermissionDenied):
        remove_member(membership, by=getattr(cast, person))

    assert Membership.objects.filter(pk=membership.pk).exists()


def test_it_refuses_a_headteacher_removing_people_at_another_school(cast):
    other = make_school("Other School")
    membership = Membership.objects.get(school=cast.school, user=cast.bob)

    with pytest.raises(PermissionDenied):
        remove_member(membership, by=other.head)


# The people page


def test_it_adds_a_person_from_the_people_page(client, cast):
    client.force_login(cast.head)

    response = client.post(
        f"/s/{cast.school.slug}/members/",
        {"full_name": "Nia New", "email": "nia@example.org", "role": Role.VOLUNTEER, "job_title": ""},
    )

    assert response.status_code == 302
    assert Membership.objects.filter(school=cast.school, user__email="nia@example.org", role="volunteer").exists()
    assert audited("school.member.added", cast.school).count() == 1


def test_it_shows_a_refused_addition_on_the_page(client, cast):
    client.force_login(cast.head)

    response = client.post(
        f"/s/{cast.school.slug}/members/", {"full_name": "Alice Staff", "email": cast.alice.email, "role": Role.STAFF}
    )

    assert response.status_code == 200
    assert "already holds the role Staff here." in response.content.decode()


def test_it_shows_staff_the_people_but_not_the_controls(client, cast):
    client.force_login(cast.alice)
    url = f"/s/{cast.school.slug}/members/"

    page = client.get(url).content.decode()
    assert cast.bob.email in page
    assert "Add a person or a role" not in page
    assert "Remove role" not in page
    newcomer = {"full_name": "X", "email": "x@example.org", "role": Role.STAFF}
    assert client.post(url, newcomer).status_code == 403
    bob = Membership.objects.get(school=cast.school, user=cast.bob)
    assert client.post(f"{url}{bob.pk}/remove/").status_code == 403
    assert not User.objects.filter(email="x@example.org").exists()
    assert Membership.objects.filter(pk=bob.pk).exists()


def test_it_explains_on_the_page_why_the_last_headteacher_stays(client, cast):
    client.force_login(cast.head)
    head = Membership.objects.get(school=cast.school, role=Role.HEADTEACHER)

    response = client.post(f"/s/{cast.school.slug}/members/{head.pk}/remove/", follow=True)

    assert "The school must keep a headteacher" in response.content.decode()
    assert Membership.objects.filter(pk=head.pk).exists()


def test_it_cannot_remove_a_role_at_another_school_through_this_schools_page(client, cast):
    other = make_school("Other School")
    theirs = Membership.objects.get(school=other.school, user=other.bob)
    client.force_login(cast.head)

    assert client.post(f"/s/{cast.school.slug}/members/{theirs.pk}/remove/").status_code == 404
    assert Membership.objects.filter(pk=theirs.pk).exists()


# Closures


def test_it_records_a_closure_and_audits_it(cast):
    closure = add_closure(
        cast.school,
        by=cast.leader,
        starts_on=dt.date(2025, 12, 22),
        ends_on=dt.date(2026, 1, 2),
        label="Christmas holiday",
    )

    assert list(cast.school.closures.all()) == [closure]
    entry = audited("school.closure.added", cast.school).get()
    assert entry.actor == cast.leader
    assert entry.detail == {"starts_on": "2025-12-22", "ends_on": "2026-01-02", "label": "Christmas holiday"}


def test_it_accepts_a_one_day_closure(cast):
    add_closure(
        cast.school, by=cast.head, starts_on=dt.date(2025, 9, 1), ends_on=dt.date(2025, 9, 1), label="INSET day"
    )

    assert cast.school.closures.count() == 1


def test_it_refuses_a_closure_that_ends_before_it_starts(cast):
    with pytest.raises(ValidationError) as refused:
        add_closure(
            cast.school, by=cast.head, starts_on=dt.date(2025, 9, 5), ends_on=dt.date(2025, 9, 1), label="Backwards"
        )

    assert refused.value.message_dict == {"ends_on": ["The closure cannot end before it starts."]}
    assert not Closure.objects.exists()
    assert not audited("school.closure.added", cast.school).exists()


@pytest.mark.parametrize("person", ["alice", "dsl", "chair"])
def test_it_lets_only_leaders_record_closures(cast, person):
    with pytest.raises(PermissionDenied):
        add_closure(
            cast.school,
            by=getattr(cast, person),
            starts_on=dt.date(2025, 9, 1),
            ends_on=dt.date(2025, 9, 1),
            label="INSET day",
        )

    assert not Closure.objects.exists()


def test_it_removes_a_closure_and_audits_it(cast):
    closure = add_closure(
        cast.school, by=cast.head, starts_on=dt.date(2025, 9, 1), ends_on=dt.date(2025, 9, 1), label="INSET day"
    )
    pk = closure.pk

    with pytest.raises(PermissionDenied):
        remove_closure(closure, by=cast.alice)
    remove_closure(closure, by=cast.leader)

    assert not Closure.objects.exists()
    entry = audited("school.closure.removed", cast.school).get()
    assert entry.actor == cast.leader
    assert entry.object_id == str(pk)


def test_it_shows_a_backwards_closure_on_the_page_and_saves_nothing(client, cast):
    client.force_login(cast.head)

    response = client.post(
        f"/s/{cast.school.slug}/closures/", {"label": "Backwards", "starts_on": "2025-09-05", "ends_on": "2025-09-01"}
    )

    assert response.status_code == 200
    assert "The closure cannot end before it starts." in response.content.decode()
    assert not Closure.objects.exists()


def test_it_adds_and_removes_a_closure_from_the_page(client, cast):
    client.force_login(cast.leader)
    url = f"/s/{cast.school.slug}/closures/"

    assert (
        client.post(url, {"label": "INSET day", "starts_on": "2025-09-01", "ends_on": "2025-09-01"}).status_code == 302
    )
    closure = Closure.objects.get()
    assert "INSET day" in client.get(url).content.decode()
    assert client.post(f"{url}{closure.pk}/remove/").status_code == 302

    assert not Closure.objects.exists()
    assert audited("school.closure.added", cast.school).count() == 1
    assert audited("school.closure.removed", cast.school).count() == 1


def test_it_refuses_closure_changes_from_staff_on_the_page(client, cast):
    closure = add_closure(
        cast.school, by=cast.head, starts_on=dt.date(2025, 9, 1), ends_on=dt.date(2025, 9, 1), label="INSET day"
    )
    client.force_login(cast.alice)
    url = f"/s/{cast.school.slug}/closures/"

    day_off = {"label": "Day off", "starts_on": "2025-09-02", "ends_on": "2025-09-02"}
    assert client.post(url, day_off).status_code == 403
    assert client.post(f"{url}{closure.pk}/remove/").status_code == 403
    assert list(Closure.objects.all()) == [closure]
