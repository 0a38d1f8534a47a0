"""Who may do what at a school (AW-SCOPE-1): permissions per role, several schools, trust administrators."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from schoolgate.schools.models import Membership, School, Trust
from schoolgate.schools.permissions import has_permission, has_role, permissions_for, require_permission
from schoolgate.schools.roles import Role
from schoolgate.testing import make_school, make_user

pytestmark = pytest.mark.django_db

EVERYONE = {"school.view", "policy.view", "accounts.propose", "concerns.report"}
# Leaders and the safeguarding leads moderate the inbox of every account (authorised staff only on theirs).
MODERATORS = {"inbox.moderate", "inbox.answer", "inbox.report"}
# The governors' report: the governors, the leaders who answer to them and the safeguarding leads.
REPORT_READERS = {"reporting.view"}
# Watching the internet for the school (RS-WATCH-1): leaders and the safeguarding leads set it up and triage.
LISTENERS = {"listening.configure", "listening.triage"}
# Leaders and the safeguarding leads keep staff training records and write guidance; governors see the records.
TRAINING_KEEPERS = {"training.view_records", "training.manage", "guidance.draft"}
# Every member of the school makes staff declarations (the trust's administrators are not its staff); the
# headteacher and the safeguarding leads keep the register; those who work with pupils choose them from the roster.
DECLARES = {"declarations.declare"}
DECLARATION_KEEPERS = DECLARES | {"declarations.review", "declarations.choose_pupils"}
# The permission table as the policy reads it: what each role may do at its own school.
EXPECTED = {
    Role.HEADTEACHER: EVERYONE
    | MODERATORS
    | LISTENERS
    | REPORT_READERS
    | TRAINING_KEEPERS
    | DECLARATION_KEEPERS
    | {"declarations.configure", "inbox.manage"}
    | {
        "school.manage_members",
        "school.manage_closures",
        "policy.draft",
        "policy.view_acknowledgements",
        "audit.view",
        "audit.view_restricted",
        "accounts.manage",
        "accounts.escrow",
        "posts.review",
        "posts.take_down",
        "media.upload",
        "media.delete",
        "pupils.import",
        "pupils.view",
        "pupils.consent",
        "news.view_subscribers",
        "concerns.choose_pupils",
        "concerns.manage_settings",
    },
    Role.DSL: EVERYONE
    | MODERATORS
    | LISTENERS
    | REPORT_READERS
    | TRAINING_KEEPERS
    | DECLARATION_KEEPERS
    | {"audit.view", "audit.view_restricted", "posts.review", "posts.take_down", "pupils.view", "pupils.consent"}
    | {"media.upload", "media.delete", "concerns.choose_pupils", "concerns.manage_settings"},
    Role.DEPUTY_DSL: EVERYONE
    | MODERATORS
    | LISTENERS
    | REPORT_READERS
    | TRAINING_KEEPERS
    | DECLARATION_KEEPERS
    | {"audit.view", "audit.view_restricted", "posts.review", "posts.take_down", "pupils.view", "pupils.consent"}
    | {"media.upload", "media.delete", "concerns.choose_pupils"},
    Role.LEADERSHIP: EVERYONE
    | MODERATORS
    | LISTENERS
    | REPORT_READERS
    | TRAINING_KEEPERS
    | DECLARES
    | {"declarations.choose_pupils", "inbox.manage"}
    | {
        "school.manage_closures",
        "policy.draft",
        "policy.view_acknowledgements",
        "accounts.manage",
        "accounts.escrow",
        "posts.review",
        "posts.take_down",
        "media.upload",
        "media.delete",
        "pupils.import",
        "pupils.view",
        "pupils.consent",
        "news.view_subscribers",
        "concerns.choose_pupils",
    },
    Role.STAFF: EVERYONE
    | DECLARES
    | {"declarations.choose_pupils"}
    | {"posts.review", "media.upload", "concerns.choose_pupils"},
    Role.VOLUNTEER: EVERYONE | DECLARES,
    Role.GOVERNOR: EVERYONE
    | DECLARES
    | REPORT_READERS
    | {"policy.view_acknowledgements", "audit.view", "training.view_records", "inbox.report"},
    Role.CHAIR_OF_GOVERNORS: EVERYONE
    | DECLARES
    | REPORT_READERS
    | {"policy.view_acknowledgements", "audit.view", "training.view_records", "inbox.report"},
    Role.TRUST_ADMIN: EVERYONE
    | {
        "school.manage_members",
        "school.manage_closures",
        "audit.view",
        "pupils.import",
        "pupils.view",
        "pupils.consent",
        "concerns.choose_pupils",
    },
}
CHECKED = sorted(set().union(*EXPECTED.values()))
CAST_ROLES = {
    "head": Role.HEADTEACHER,
    "dsl": Role.DSL,
    "deputy_dsl": Role.DEPUTY_DSL,
    "leader": Role.LEADERSHIP,
    "alice": Role.STAFF,
    "bob": Role.STAFF,
    "volunteer": Role.VOLUNTEER,
    "governor": Role.GOVERNOR,
    "chair": Role.CHAIR_OF_GOVERNORS,
}


def granted(user, school) -> set[str]:
    return {permission for permission in CHECKED if has_permission(user, school, permission)}


@pytest.fixture
def trust(db):
    trust = Trust.objects.create(name="Oak Trust")
    admin = make_user("Tess Trust", totp=True)
    trust.admins.add(admin)
    return trust, admin


def test_it_covers_every_role_in_the_permission_table():
    assert set(EXPECTED) == set(Role)


@pytest.mark.clause("AW-SCOPE-1")
def test_it_grants_each_role_exactly_its_permissions(cast):
    roles = {person: cast.school.roles_of(getattr(cast, person)) for person in CAST_ROLES}
    grants = {person: granted(getattr(cast, person), cast.school) for person in CAST_ROLES}

    assert roles == {person: {role} for person, role in CAST_ROLES.items()}
    assert grants == {person: EXPECTED[role] for person, role in CAST_ROLES.items()}


@pytest.mark.clause("AW-SCOPE-1")
def test_it_gives_every_member_of_the_community_a_role_and_nobody_else_any(cast):
    outsider = make_user("Olly Outsider")

    for person in cast.everyone():
        assert has_permission(person, cast.school, "school.view")
        assert has_permission(person, cast.school, "policy.view")
    assert granted(outsider, cast.school) == set()
    assert granted(AnonymousUser(), cast.school) == set()


def test_it_grants_the_union_of_several_roles_at_one_school(cast):
    Membership.objects.create(school=cast.school, user=cast.alice, role=Role.DSL)
    alice = type(cast.alice).objects.get(pk=cast.alice.pk)  # a fresh object: roles are cached per request

    assert cast.school.roles_of(alice) == {Role.STAFF, Role.DSL}
    assert granted(alice, cast.school) == EXPECTED[Role.STAFF] | EXPECTED[Role.DSL]


def test_it_grants_nothing_to_someone_whose_login_is_disabled(cast):
    cast.head.is_active = False
    cast.head.save(update_fields=["is_active"])

    assert granted(cast.head, cast.school) == set()


def test_it_raises_permission_denied_when_the_permission_is_missing(cast):
    require_permission(cast.head, cast.school, "school.manage_members")

    with pytest.raises(PermissionDenied):
        require_permission(cast.alice, cast.school, "school.manage_members")


def test_it_flags_every_permission_for_templates(cast):
    flags = permissions_for(cast.leader, cast.school)

    assert flags["policy_draft"] is True
    assert flags["school_manage_members"] is False
    expected = {p.replace(".", "_") for p in EXPECTED[Role.LEADERSHIP]}
    assert {name for name, on in flags.items() if on} == expected


# A person at two schools


def test_it_shows_a_person_every_school_where_they_hold_a_role(cast):
    other = make_school("Other School")
    Membership.objects.create(school=other.school, user=cast.alice, role=Role.HEADTEACHER)
    make_school("Third School")

    assert set(School.objects.for_user(cast.alice)) == {cast.school, other.school}
    assert list(School.objects.for_user(cast.bob)) == [cast.school]
    assert not School.objects.for_user(AnonymousUser()).exists()


def test_it_applies_only_the_roles_held_at_each_school(cast):
    other = make_school("Other School")
    Membership.objects.create(school=other.school, user=cast.alice, role=Role.HEADTEACHER)

    assert granted(cast.alice, cast.school) == EXPECTED[Role.STAFF]
    assert granted(cast.alice, other.school) == EXPECTED[Role.HEADTEACHER]
    assert has_role(cast.alice, other.school, Role.HEADTEACHER)
    assert not has_role(cast.alice, cast.school, Role.HEADTEACHER)
    # The headteacher of one school has no say at the other.
    assert granted(other.head, cast.school) == set()


def test_it_lists_each_school_once_for_someone_with_several_roles_there(cast):
    Membership.objects.create(school=cast.school, user=cast.alice, role=Role.GOVERNOR)

    assert list(School.objects.for_user(cast.alice)) == [cast.school]


def test_it_offers_a_person_at_two_schools_a_choice_of_school(client, cast):
    other = make_school("Other School")
    Membership.objects.create(school=other.school, user=cast.alice, role=Role.STAFF)
    client.force_login(cast.alice)

    page = client.get("/").content.decode()

    assert f'href="/s/{cast.school.slug}/"' in page
    assert f'href="/s/{other.school.slug}/"' in page
    assert client.get(f"/s/{other.school.slug}/policy/").status_code == 200
    assert client.get(f"/s/{make_school('Third School').school.slug}/policy/").status_code == 403


def test_it_takes_a_person_with_one_school_straight_to_its_dashboard(client, cast):
    client.force_login(cast.alice)

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == f"/s/{cast.school.slug}/"


# Trust administrators


def test_it_makes_trust_admins_trust_admin_at_every_school_of_the_trust(trust):
    oak_trust, admin = trust
    first, second, outside = make_school("First"), make_school("Second"), make_school("Outside")
    School.objects.filter(pk__in=[first.school.pk, second.school.pk]).update(trust=oak_trust)
    first.school.refresh_from_db()
    second.school.refresh_from_db()

    for school in (first.school, second.school):
        assert school.roles_of(admin) == {Role.TRUST_ADMIN}
        assert granted(admin, school) == EXPECTED[Role.TRUST_ADMIN]
    assert outside.school.roles_of(admin) == frozenset()
    assert granted(admin, outside.school) == set()
    assert set(School.objects.for_user(admin)) == {first.school, second.school}


def test_it_gives_trust_admins_no_power_to_draft_or_approve_policy(trust):
    oak_trust, admin = trust
    school = make_school("First").school
    School.objects.filter(pk=school.pk).update(trust=oak_trust)
    school.refresh_from_db()

    assert not has_permission(admin, school, "policy.draft")
    assert not has_role(admin, school, Role.HEADTEACHER)
    assert not has_role(admin, school, Role.CHAIR_OF_GOVERNORS)


def test_it_adds_trust_admin_to_the_roles_a_person_already_holds_at_a_trust_school(trust):
    oak_trust, admin = trust
    cast = make_school("First")
    School.objects.filter(pk=cast.school.pk).update(trust=oak_trust)
    cast.school.refresh_from_db()
    oak_trust.admins.add(cast.alice)

    assert cast.school.roles_of(cast.alice) == {Role.STAFF, Role.TRUST_ADMIN}
    assert list(School.objects.for_user(cast.alice)) == [cast.school]


def test_it_lets_a_trust_admin_open_each_trust_school(client, trust):
    oak_trust, admin = trust
    inside, outside = make_school("Inside"), make_school("Outside")
    School.objects.filter(pk=inside.school.pk).update(trust=oak_trust)
    client.force_login(admin)

    assert client.get(f"/s/{inside.school.slug}/members/").status_code == 200
    assert client.get(f"/s/{outside.school.slug}/members/").status_code == 403
