"""Logging in: email and password, sign-up closed, TOTP for the powerful roles, its secret encrypted."""

from __future__ import annotations

import json

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.core.cache import cache

from schoolgate import crypto
from schoolgate.accounts.models import User
from schoolgate.schools.models import Membership, School, Trust
from schoolgate.schools.roles import Role
from schoolgate.testing import PASSWORD, TOTP_SECRET, make_school, make_user, totp_code

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ACTIVATE_TOTP = "/accounts/2fa/totp/activate/"
ENTER_CODE = "/accounts/2fa/authenticate/"
REAUTHENTICATE = "/accounts/reauthenticate/"


@pytest.fixture(autouse=True)
def fresh_cache():
    # Used TOTP codes and failed-login counts live in the cache; start each test without them.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def one_step_of_clock_drift(settings):
    # Accept the code of the neighbouring 30-second step, so a test that crosses a step boundary
    # still has a valid code; codes far from now (offset=20) stay wrong.
    settings.MFA_TOTP_TOLERANCE = 1


def logged_in_as(client) -> int | None:
    user_id = client.session.get("_auth_user_id")
    return int(user_id) if user_id else None


def log_in(client, user):
    return client.post(LOGIN, {"login": user.email, "password": PASSWORD})


def person_without_totp(cast, role: str) -> User:
    user = make_user(f"New {role}")
    if role == Role.TRUST_ADMIN:
        trust = Trust.objects.create(name="Oak Trust")
        trust.admins.add(user)
        School.objects.filter(pk=cast.school.pk).update(trust=trust)
    else:
        Membership.objects.create(school=cast.school, user=user, role=role)
    return user


def school_pages(cast) -> list[str]:
    slug = cast.school.slug
    return [
        "/",
        f"/s/{slug}/",
        f"/s/{slug}/policy/",
        f"/s/{slug}/policy/v/{cast.policy.pk}/",
        f"/s/{slug}/members/",
        f"/s/{slug}/closures/",
        "/notifications/",
    ]


# Email and password


def test_it_logs_in_with_email_and_password(client, cast):
    response = log_in(client, cast.alice)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert logged_in_as(client) == cast.alice.pk
    assert client.get("/")["Location"] == f"/s/{cast.school.slug}/"


def test_it_accepts_the_email_address_in_any_case(client, cast):
    client.post(LOGIN, {"login": cast.alice.email.upper(), "password": PASSWORD})

    assert logged_in_as(client) == cast.alice.pk


def test_it_refuses_a_wrong_password(client, cast):
    response = client.post(LOGIN, {"login": cast.alice.email, "password": "not-the-password"})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert logged_in_as(client) is None
    assert client.get(f"/s/{cast.school.slug}/")["Location"].startswith(LOGIN)


def test_it_sends_anonymous_visitors_to_the_login_page(client, cast):
    response = client.get(f"/s/{cast.school.slug}/policy/")

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/s/{cast.school.slug}/policy/"


def test_it_refuses_a_login_that_has_been_disabled(client, cast):
    cast.alice.is_active = False
    cast.alice.save(update_fields=["is_active"])

    log_in(client, cast.alice)

    assert logged_in_as(client) is None


def test_it_keeps_sign_up_closed(client, db):
    page = client.get("/accounts/signup/")
    client.post(
        "/accounts/signup/",
        {"email": "stranger@example.org", "password1": "a-long-new-password-1", "password2": "a-long-new-password-1"},
    )

    assert "Sign Up Closed" in page.content.decode()
    assert not User.objects.filter(email="stranger@example.org").exists()
    assert logged_in_as(client) is None


# Roles that must use a second factor


@pytest.mark.parametrize("role", [Role.HEADTEACHER, Role.DSL, Role.DEPUTY_DSL, Role.LEADERSHIP, Role.TRUST_ADMIN])
def test_it_sends_powerful_roles_without_totp_to_set_it_up_from_any_school_page(client, cast, role):
    user = person_without_totp(cast, role)
    client.force_login(user)

    for path in school_pages(cast):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == f"{ACTIVATE_TOTP}?next={path}"


@pytest.mark.parametrize("person", ["alice", "volunteer", "governor", "chair"])
def test_it_lets_other_roles_in_without_totp(client, cast, person):
    user = getattr(cast, person)
    assert not user.has_totp()
    client.force_login(user)

    for path in (f"/s/{cast.school.slug}/", f"/s/{cast.school.slug}/policy/"):
        assert client.get(path).status_code == 200, path


def test_it_lets_powerful_roles_in_once_totp_is_set_up(client, cast):
    client.force_login(cast.head)  # the cast's headteacher has an authenticator

    assert client.get(f"/s/{cast.school.slug}/").status_code == 200


def test_it_requires_totp_at_every_school_when_any_role_requires_it(client, cast):
    other = make_school("Other School")
    Membership.objects.create(school=other.school, user=cast.alice, role=Role.DSL)
    client.force_login(cast.alice)

    response = client.get(f"/s/{cast.school.slug}/")  # where she is only staff

    assert response["Location"].startswith(ACTIVATE_TOTP)


def test_it_still_lets_a_person_without_totp_read_public_pages_and_log_out(client, cast):
    client.force_login(person_without_totp(cast, Role.HEADTEACHER))

    assert client.get(f"/p/{cast.school.slug}/policy/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert logged_in_as(client) is None


def test_it_sets_up_totp_and_stores_the_secret_encrypted(client, cast):
    head = person_without_totp(cast, Role.HEADTEACHER)
    log_in(client, head)
    assert client.get(f"/s/{cast.school.slug}/")["Location"].startswith(ACTIVATE_TOTP)
    # allauth asks for the password once more before a second factor is added.
    assert client.get(ACTIVATE_TOTP)["Location"].startswith(REAUTHENTICATE)
    client.post(f"{REAUTHENTICATE}?next={ACTIVATE_TOTP}", {"password": PASSWORD})

    assert client.get(ACTIVATE_TOTP).status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post(ACTIVATE_TOTP, {"code": totp_code(secret)})

    assert response.status_code == 302
    stored = Authenticator.objects.get(user=head, type=Authenticator.Type.TOTP).data["secret"]
    assert secret not in stored
    assert crypto.decrypt(stored) == secret
    assert client.get(f"/s/{cast.school.slug}/").status_code == 200


def test_it_refuses_to_set_up_totp_with_a_wrong_code(client, cast):
    head = person_without_totp(cast, Role.HEADTEACHER)
    log_in(client, head)
    client.post(f"{REAUTHENTICATE}?next={ACTIVATE_TOTP}", {"password": PASSWORD})
    client.get(ACTIVATE_TOTP)
    secret = client.session[SECRET_SESSION_KEY]

    response = client.post(ACTIVATE_TOTP, {"code": totp_code(secret, offset=20)})

    assert response.status_code == 200
    assert not head.has_totp()


# Logging in with TOTP


def test_it_asks_for_the_code_after_the_password(client, cast):
    response = log_in(client, cast.head)

    assert response.status_code == 302
    assert response["Location"] == ENTER_CODE
    assert logged_in_as(client) is None
    assert client.get(f"/s/{cast.school.slug}/")["Location"].startswith(LOGIN)

    response = client.post(ENTER_CODE, {"code": totp_code()})

    assert response.status_code == 302
    assert logged_in_as(client) == cast.head.pk
    assert client.get(f"/s/{cast.school.slug}/").status_code == 200


def test_it_refuses_a_wrong_code(client, cast):
    log_in(client, cast.head)

    response = client.post(ENTER_CODE, {"code": totp_code(offset=20)})

    assert response.status_code == 200
    assert logged_in_as(client) is None


def test_it_refuses_a_code_used_once_already(client, cast):
    log_in(client, cast.head)
    code = totp_code()
    client.post(ENTER_CODE, {"code": code})
    assert logged_in_as(client) == cast.head.pk
    client.post("/accounts/logout/")

    log_in(client, cast.head)
    response = client.post(ENTER_CODE, {"code": code})

    assert response.status_code == 200
    assert logged_in_as(client) is None


def test_it_cannot_skip_the_code_step(client, cast):
    log_in(client, cast.head)

    for path in ("/", f"/s/{cast.school.slug}/", f"/s/{cast.school.slug}/policy/"):
        assert client.get(path)["Location"].startswith(LOGIN), path
    assert logged_in_as(client) is None


# The secret at rest


def test_it_encrypts_the_totp_secret_at_rest(cast):
    authenticator = Authenticator.objects.get(user=cast.head, type=Authenticator.Type.TOTP)

    stored = authenticator.data["secret"]
    assert stored != TOTP_SECRET
    assert TOTP_SECRET not in json.dumps(authenticator.data)
    assert crypto.decrypt(stored) == TOTP_SECRET


def test_it_stores_each_secret_with_its_own_ciphertext(cast):
    head = Authenticator.objects.get(user=cast.head, type=Authenticator.Type.TOTP).data["secret"]
    dsl = Authenticator.objects.get(user=cast.dsl, type=Authenticator.Type.TOTP).data["secret"]

    # Same secret, different ciphertexts: Fernet adds a random IV and a timestamp to each.
    assert head != dsl
    assert crypto.decrypt(head) == crypto.decrypt(dsl) == TOTP_SECRET
