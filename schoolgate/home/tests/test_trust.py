"""A trust's own pages: every school's state at a glance (counts only), adding a school, taking one out."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from schoolgate.audit.models import AuditEntry
from schoolgate.concerns.tests.helpers import SECRET, report
from schoolgate.notifications.models import Notification
from schoolgate.policy.models import Nation, PolicySettings
from schoolgate.schools.models import Membership, School, Trust
from schoolgate.schools.roles import Role
from schoolgate.testing import make_school, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def trust():
    trust = Trust.objects.create(name="Riverside Learning Trust")
    trust.casts = {}
    for name in ("Oak Primary", "Elm Academy"):
        cast = make_school(name)
        cast.school.trust = trust
        cast.school.save(update_fields=["trust"])
        trust.casts[name] = cast
    trust.admin = make_user("Tara Trust", totp=True)
    trust.admins.add(trust.admin)
    return trust


def page(client, trust) -> str:
    client.force_login(trust.admin)
    response = client.get(f"/t/{trust.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_every_school_of_the_trust_with_counts_and_never_a_concerns_words(client, trust):
    report(trust.casts["Oak Primary"])
    html = page(client, trust)
    assert "Oak Primary" in html and "Elm Academy" in html
    assert SECRET not in html
    row = html[html.index("Oak Primary</a></td>") :].split("</tr>")[0]
    assert "v1" in row and "<td>1</td>" in row  # the policy in force, and one open concern


def test_it_shows_the_trust_to_its_administrators_only(client, trust):
    head = School.objects.get(name="Oak Primary").memberships.get(role=Role.HEADTEACHER).user
    client.force_login(head)
    assert client.get(f"/t/{trust.pk}/").status_code == 404
    other = Trust.objects.create(name="Another Trust")
    client.force_login(trust.admin)
    assert client.get(f"/t/{other.pk}/").status_code == 404


def test_it_adds_a_school_with_its_headteacher_invited_and_a_first_policy_draft(client, trust):
    client.force_login(trust.admin)
    response = client.post(
        f"/t/{trust.pk}/schools/new/",
        {
            "name": "Ash Bank School",
            "slug": "ash-bank",
            "nation": Nation.WALES,
            "email_domains": "ashbank.sch.uk",
            "headteacher_name": "Harriet Oak",
            "headteacher_email": "h.oak@ashbank.sch.uk",
        },
    )
    assert response.status_code == 302
    school = School.objects.get(slug="ash-bank")
    assert school.trust == trust and school.email_domains == "ashbank.sch.uk"
    head = Membership.objects.get(school=school, role=Role.HEADTEACHER).user
    assert head.email == "h.oak@ashbank.sch.uk" and not head.has_usable_password()
    draft = PolicySettings.objects.get(version__document__school=school)
    assert draft.bank_holiday_nation == Nation.WALES and draft.version.is_draft
    [invitation] = Notification.objects.filter(user=head)
    assert "choose a password" in invitation.body and "authenticator" in invitation.body
    assert invitation.url == "/accounts/password/reset/"  # no token of any kind in our database or the email
    assert AuditEntry.objects.filter(action="school.created", school=school).exists()
    assert "Ash Bank School" in page(client, trust)


def test_it_refuses_a_web_address_another_school_uses_and_saves_nothing(client, trust):
    client.force_login(trust.admin)
    taken = School.objects.get(name="Oak Primary").slug
    before = (School.objects.count(), Notification.objects.count())
    response = client.post(
        f"/t/{trust.pk}/schools/new/",
        {
            "name": "Second Oak",
            "slug": taken,
            "nation": Nation.ENGLAND,
            "headteacher_name": "Sam New",
            "headteacher_email": "sam@new.example",
        },
    )
    assert response.status_code == 200
    assert f"The address “{taken}” is already used by another school." in response.content.decode()
    assert (School.objects.count(), Notification.objects.count()) == before


def test_it_takes_a_school_out_of_the_trust_and_its_administrators_lose_their_rights_there(client, trust):
    elm = School.objects.get(name="Elm Academy")
    assert Role.TRUST_ADMIN in elm.roles_of(trust.admin)
    client.force_login(trust.admin)
    response = client.post(f"/t/{trust.pk}/leave/", {"school": elm.slug})
    assert response.status_code == 302
    elm.refresh_from_db()
    assert elm.trust is None
    assert client.get(f"/s/{elm.slug}/").status_code == 403
    entry = AuditEntry.objects.get(action="school.left_trust", school=elm)
    assert entry.detail == {"trust": "Riverside Learning Trust"}
    assert client.post(f"/t/{trust.pk}/leave/", {"school": elm.slug}).status_code == 400  # no longer in it


def test_it_invites_a_new_member_added_to_a_school():
    cast = make_school()
    from schoolgate.schools.actions import add_member

    add_member(cast.school, by=cast.head, email="new.teacher@example.org", full_name="Nia New", role=Role.STAFF)
    [invitation] = Notification.objects.filter(user__email="new.teacher@example.org")
    assert "choose a password" in invitation.body and "authenticator" not in invitation.body
    add_member(cast.school, by=cast.head, email=cast.alice.email, full_name="Alice Staff", role=Role.GOVERNOR)
    assert not Notification.objects.filter(user=cast.alice, subject__startswith="You have been added").exists()
    assert timezone.now() - invitation.created_at < dt.timedelta(minutes=1)
