"""Every way in (allauth's login, the Django admin's, a session that skipped the code step) needs the second factor."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, TOTP
from django.test import Client

from schoolgate.accounts.testing import forget_second_factor
from schoolgate.schools.models import Membership, School, Trust
from schoolgate.schools.roles import Role
from schoolgate.testing import PASSWORD, TOTP_SECRET, make_user, totp_code

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ENTER_CODE = "/accounts/2fa/authenticate/"
CODE_AGAIN = "/accounts/2fa/reauthenticate/"
ACTIVATE_TOTP = "/accounts/2fa/totp/activate/"
ADMIN_LOGIN = "/admin/login/"


@pytest.fixture(autouse=True)
def one_step_of_clock_drift(settings):
    # Accept the neighbouring 30-second step, so a test crossing a step boundary still has a valid code.
    settings.MFA_TOTP_TOLERANCE = 1


@pytest.fixture
def trust_admin(cast):
    """The person hosting Schoolgate, as in the demo: trust administrator, Django staff and superuser."""
    admin = make_user("Tess Trust", totp=True)
    admin.is_staff = admin.is_superuser = True
    admin.save(update_fields=["is_staff", "is_superuser"])
    trust = Trust.objects.create(name="Oak Trust")
    trust.admins.add(admin)
    School.objects.filter(pk=cast.school.pk).update(trust=trust)
    return admin


def pupils_page(cast) -> str:
    return f"/s/{cast.school.slug}/pupils/"


def logged_in_as(client) -> int | None:
    user_id = client.session.get("_auth_user_id")
    return int(user_id) if user_id else None


def enter_password(client, user, *, next_url: str | None = None):
    data = {"login": user.email, "password": PASSWORD}
    return client.post(f"{LOGIN}?next={next_url}" if next_url else LOGIN, data)


# The Django admin's login


def test_it_sends_the_admin_login_page_to_the_one_login_form(client, db):
    response = client.get(f"{ADMIN_LOGIN}?next=/admin/pupils/pupil/")

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=%2Fadmin%2Fpupils%2Fpupil%2F"
    assert client.get("/admin/")["Location"] == f"{ADMIN_LOGIN}?next=/admin/"


def test_it_opens_no_session_for_a_password_posted_to_the_admin_login(client, cast, trust_admin):
    response = client.post(ADMIN_LOGIN, {"username": trust_admin.email, "password": PASSWORD, "next": "/admin/"})

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert logged_in_as(client) is None
    assert client.get(pupils_page(cast))["Location"].startswith(LOGIN)
    assert client.get("/admin/")["Location"].startswith(ADMIN_LOGIN)
    assert client.get("/admin/pupils/pupil/")["Location"].startswith(ADMIN_LOGIN)


def test_it_lets_the_admin_in_through_the_login_form_and_the_code_step(client, cast, trust_admin):
    login_page = client.get("/admin/", follow=True)
    assert login_page.redirect_chain[-1][0] == f"{LOGIN}?next=%2Fadmin%2F"

    response = enter_password(client, trust_admin, next_url="/admin/")
    assert response["Location"] == ENTER_CODE
    assert client.get("/admin/")["Location"].startswith(ADMIN_LOGIN)  # the password alone opens nothing
    assert client.get(pupils_page(cast))["Location"].startswith(LOGIN)

    response = client.post(ENTER_CODE, {"code": totp_code()})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get(pupils_page(cast)).status_code == 200


def test_it_refuses_the_admin_to_a_logged_in_person_who_is_not_staff_without_a_redirect_loop(client, cast):
    enter_password(client, cast.alice)

    response = client.get(ADMIN_LOGIN + "?next=/admin/")

    assert response.status_code == 403
    assert "only for the people who host Schoolgate" in response.content.decode()


# allauth's login


@pytest.mark.parametrize("person", ["head", "dsl", "leader"])
def test_it_opens_nothing_on_the_password_alone_for_a_senior_role(client, cast, person):
    user = getattr(cast, person)

    assert enter_password(client, user)["Location"] == ENTER_CODE

    assert logged_in_as(client) is None
    for path in (pupils_page(cast), f"/s/{cast.school.slug}/", "/admin/"):
        assert client.get(path).status_code == 302, path
    client.post(ENTER_CODE, {"code": totp_code()})
    assert client.get(pupils_page(cast)).status_code == 200


def test_it_does_not_ask_a_person_without_a_senior_role_for_a_code(client, cast):
    response = enter_password(client, cast.alice)

    assert response["Location"] == "/"
    assert client.get(f"/s/{cast.school.slug}/").status_code == 200
    assert client.get(f"/s/{cast.school.slug}/policy/").status_code == 200
    # Even a session with no record of any login step: nothing asks her for a code she does not need.
    forget_second_factor(client)
    assert client.get(f"/s/{cast.school.slug}/").status_code == 200


# A session that did not pass the code step (a path that skipped it, a future single sign-on)


def test_it_sends_a_session_without_the_code_step_to_enter_a_code_before_anything(client, cast, trust_admin):
    client.force_login(trust_admin)
    forget_second_factor(client)

    for path in (pupils_page(cast), f"/s/{cast.school.slug}/", "/admin/", "/admin/pupils/pupil/", "/notifications/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == f"{CODE_AGAIN}?next={path}", path
    # Nor may it change what guards the account: the password, or the authenticator itself.
    for path in ("/accounts/password/change/", "/accounts/2fa/totp/deactivate/", "/accounts/2fa/"):
        assert client.get(path)["Location"].startswith(CODE_AGAIN), path
    assert client.get(f"/p/{cast.school.slug}/policy/").status_code == 200  # public pages stay public

    code_page = client.get(f"{CODE_AGAIN}?next=/admin/").content.decode()
    # The one way on is the code: no "use your password instead", which would only lead back here.
    assert "Enter your authenticator code" in code_page and "/accounts/reauthenticate/" not in code_page
    assert client.post(f"{CODE_AGAIN}?next=/admin/", {"code": totp_code(offset=20)}).status_code == 200
    assert client.get("/admin/").status_code == 302

    response = client.post(f"{CODE_AGAIN}?next={pupils_page(cast)}", {"code": totp_code()})
    assert response["Location"] == pupils_page(cast)
    assert client.get(pupils_page(cast)).status_code == 200
    assert client.get("/admin/").status_code == 200


def test_it_asks_for_the_code_when_a_logged_in_person_is_given_a_senior_role(client, cast):
    enter_password(client, cast.alice)
    assert client.get(f"/s/{cast.school.slug}/").status_code == 200

    Membership.objects.create(school=cast.school, user=cast.alice, role=Role.DSL)
    TOTP.activate(cast.alice, TOTP_SECRET)

    assert client.get(pupils_page(cast))["Location"] == f"{CODE_AGAIN}?next={pupils_page(cast)}"
    client.post(f"{CODE_AGAIN}?next={pupils_page(cast)}", {"code": totp_code()})
    assert client.get(pupils_page(cast)).status_code == 200


def test_it_holds_django_staff_to_the_second_factor_even_without_a_school_role(client, db):
    host = make_user("Harry Host")
    host.is_staff = True
    host.save(update_fields=["is_staff"])

    enter_password(client, host)
    assert client.get("/admin/")["Location"] == f"{ACTIVATE_TOTP}?next=/admin/"

    TOTP.activate(host, TOTP_SECRET)
    assert client.get("/admin/")["Location"] == f"{CODE_AGAIN}?next=/admin/"


def test_it_counts_setting_up_an_authenticator_as_the_code_step(client, cast):
    head = make_user("New Head")
    Membership.objects.create(school=cast.school, user=head, role=Role.HEADTEACHER)
    enter_password(client, head)
    client.post(f"/accounts/reauthenticate/?next={ACTIVATE_TOTP}", {"password": PASSWORD})
    client.get(ACTIVATE_TOTP)
    client.post(ACTIVATE_TOTP, {"code": totp_code(client.session[SECRET_SESSION_KEY])})

    assert Authenticator.objects.filter(user=head, type=Authenticator.Type.TOTP).exists()
    assert client.get(pupils_page(cast)).status_code == 200


def test_it_lets_a_test_login_stand_for_a_completed_login(client, cast):
    # The harness (root conftest.py) records the code step for force_login and login, as a real login would.
    client.force_login(cast.head)
    assert client.get(pupils_page(cast)).status_code == 200

    other = Client()
    assert other.login(email=cast.dsl.email, password=PASSWORD)
    assert other.get(pupils_page(cast)).status_code == 200
