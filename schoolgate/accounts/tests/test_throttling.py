"""Failed logins are throttled per account and per client address, in a cache every web process shares."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid

import pytest
import redis
from allauth.mfa.totp.internal.auth import TOTP
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection as db_connection
from django.test import Client

from conftest import TEST_ENCRYPTION_KEY
from schoolgate.accounts.models import User
from schoolgate.schools.models import Membership, School
from schoolgate.schools.roles import Role
from schoolgate.testing import PASSWORD, REDIS_URL, TOTP_SECRET, require_redis, totp_code

LOGIN = "/accounts/login/"
ENTER_CODE = "/accounts/2fa/authenticate/"
ADMIN_LOGIN = "/admin/login/"
TOO_MANY = "Too many failed login attempts"


@pytest.fixture(autouse=True)
def one_step_of_clock_drift(settings):
    settings.MFA_TOTP_TOLERANCE = 1


@pytest.fixture(autouse=True)
def quick_password_hashing(settings):
    # Hundreds of password checks here; the throttle, not the hash, is what is tested.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def person(full_name: str, *, totp: bool = False) -> User:
    # Not make_user(): it caches one hash of PASSWORD for the whole run, which must not be this MD5 one.
    user = User.objects.create_user(f"{full_name.lower().replace(' ', '.')}@example.org", PASSWORD, full_name=full_name)
    if totp:
        TOTP.activate(user, TOTP_SECRET)
    return user


@pytest.fixture
def alice(db) -> User:
    return person("Alice Staff")


@pytest.fixture
def bob(db) -> User:
    return person("Bob Staff")


def client_at(address: str, **headers) -> Client:
    return Client(REMOTE_ADDR=address, headers=headers)


def attempt(client: Client, email: str, password: str, *, next_url: str = ""):
    return client.post(LOGIN + (f"?next={next_url}" if next_url else ""), {"login": email, "password": password})


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def refused_as_too_many(response) -> bool:
    # The form says so; past 30 posts a minute from one address the whole login page answers 429.
    return response.status_code == 429 or (response.status_code == 200 and TOO_MANY in response.content.decode())


# Per account and per address, on the login form


@pytest.mark.django_db
def test_it_refuses_even_the_right_password_after_five_wrong_ones_for_an_account(alice, bob):
    attacker = client_at("203.0.113.7")
    outcomes = [refused_as_too_many(attempt(attacker, alice.email, f"wrong-{n}")) for n in range(30)]

    assert outcomes == [False] * 5 + [True] * 25
    # The 31st, with the right password, from another address: the account is held, not only the address.
    owner = client_at("198.51.100.20")
    assert refused_as_too_many(attempt(owner, alice.email, PASSWORD))
    assert not logged_in(owner)
    assert refused_as_too_many(attempt(owner, alice.email.upper(), PASSWORD))  # any spelling of the email
    # Others are not held back by it.
    attempt(owner, bob.email, PASSWORD)
    assert logged_in(owner)


@pytest.mark.django_db
def test_it_refuses_an_address_that_tries_ten_accounts_even_with_a_right_password(bob):
    sprayer = client_at("203.0.113.8")
    outcomes = [refused_as_too_many(attempt(sprayer, f"guess{n}@example.org", "Summer2025!")) for n in range(30)]

    assert outcomes == [False] * 10 + [True] * 20
    attempt(sprayer, bob.email, PASSWORD)
    assert not logged_in(sprayer)
    # The same person, from elsewhere, logs in.
    elsewhere = client_at("198.51.100.21")
    attempt(elsewhere, bob.email, PASSWORD)
    assert logged_in(elsewhere)


@pytest.mark.django_db
def test_it_throttles_the_login_the_admin_sends_people_to(db):
    host = person("Tess Trust", totp=True)
    host.is_staff = host.is_superuser = True
    host.save(update_fields=["is_staff", "is_superuser"])
    attacker = client_at("203.0.113.9")

    for n in range(30):
        # Django's own admin form would check this password; it is never checked there now.
        posted = attacker.post(ADMIN_LOGIN, {"username": host.email, "password": f"wrong-{n}", "next": "/admin/"})
        assert posted.status_code == 302 and posted["Location"].startswith(LOGIN)
        attempt(attacker, host.email, f"wrong-{n}", next_url="/admin/")
    right = attacker.post(ADMIN_LOGIN, {"username": host.email, "password": PASSWORD, "next": "/admin/"})
    assert right["Location"].startswith(LOGIN) and not logged_in(attacker)

    assert refused_as_too_many(attempt(attacker, host.email, PASSWORD, next_url="/admin/"))
    assert attacker.get("/admin/")["Location"].startswith(ADMIN_LOGIN)
    assert refused_as_too_many(attempt(client_at("198.51.100.22"), host.email, PASSWORD, next_url="/admin/"))


@pytest.mark.django_db
def test_it_refuses_even_the_right_code_after_five_wrong_ones(db):
    head = person("Hannah Head", totp=True)
    Membership.objects.create(school=School.objects.create(name="Oak", slug="oak"), user=head, role=Role.HEADTEACHER)
    client = client_at("203.0.113.10")
    assert attempt(client, head.email, PASSWORD)["Location"] == ENTER_CODE

    for n in range(5):
        assert "Incorrect code" in client.post(ENTER_CODE, {"code": totp_code(offset=20 + n)}).content.decode()
    response = client.post(ENTER_CODE, {"code": totp_code()})

    assert "Too many" in response.content.decode()
    assert not logged_in(client)


# The client's real address behind a proxy


@pytest.mark.django_db
def test_it_ignores_a_forwarded_address_unless_a_proxy_is_trusted(bob):
    # A client cannot escape the per-address throttle by inventing X-Forwarded-For.
    for n in range(10):
        attempt(client_at("203.0.113.11", x_forwarded_for=f"10.0.0.{n}"), f"guess{n}@example.org", "wrong-password")

    assert refused_as_too_many(attempt(client_at("203.0.113.11", x_forwarded_for="10.0.0.99"), bob.email, PASSWORD))


@pytest.mark.django_db
def test_it_counts_each_client_behind_a_trusted_proxy_on_its_own(bob, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    proxy = "192.0.2.1"
    for n in range(10):
        # The client puts anything first; the proxy appends the address it saw, which is the one counted.
        attempt(client_at(proxy, x_forwarded_for=f"10.0.0.{n}, 203.0.113.12"), f"guess{n}@example.org", "wrong")
    assert refused_as_too_many(attempt(client_at(proxy, x_forwarded_for="203.0.113.12"), bob.email, PASSWORD))

    # Everyone else behind the same proxy still logs in.
    colleague = client_at(proxy, x_forwarded_for="198.51.100.23")
    attempt(colleague, bob.email, PASSWORD)
    assert logged_in(colleague)


@pytest.mark.django_db
def test_it_reads_the_client_address_from_a_trusted_header(bob, settings):
    settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = "X-Real-IP"
    for n in range(10):
        attempt(client_at("192.0.2.1", x_real_ip="203.0.113.13"), f"guess{n}@example.org", "wrong")

    assert refused_as_too_many(attempt(client_at("192.0.2.1", x_real_ip="203.0.113.13"), bob.email, PASSWORD))
    colleague = client_at("192.0.2.1", x_real_ip="198.51.100.24")
    attempt(colleague, bob.email, PASSWORD)
    assert logged_in(colleague)


# Shared between web processes, as gunicorn's workers are


def production_settings(**env: str) -> dict:
    """The settings schoolgate/settings.py builds from these environment variables (and no others of ours)."""
    ours = {"REDIS_URL", "SECRET_KEY", "TRUSTED_PROXY_COUNT", "TRUSTED_CLIENT_IP_HEADER"}
    names = ["CACHES", "ALLAUTH_TRUSTED_PROXY_COUNT", "ALLAUTH_TRUSTED_CLIENT_IP_HEADER"]
    script = (
        f"import json; from schoolgate import settings as s; print(json.dumps({{n: getattr(s, n) for n in {names}}}))"
    )
    printed = subprocess.run(  # noqa: S603 - our own interpreter reading our own settings
        [sys.executable, "-c", script],
        env={**{k: v for k, v in os.environ.items() if k not in ours}, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(printed.stdout)


def production_cache(*, redis_url: str | None) -> dict:
    return production_settings(**({"REDIS_URL": redis_url} if redis_url else {}))["CACHES"]["default"]


def test_it_uses_redis_when_redis_url_is_set_and_the_database_otherwise():
    assert production_cache(redis_url=None)["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    on_redis = production_cache(redis_url="redis://cache.internal:6379/3")
    assert on_redis["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert on_redis["LOCATION"] == "redis://cache.internal:6379/3"


def test_it_reads_the_trusted_proxy_settings_from_the_environment():
    assert production_settings()["ALLAUTH_TRUSTED_PROXY_COUNT"] == 0
    assert production_settings()["ALLAUTH_TRUSTED_CLIENT_IP_HEADER"] is None
    assert production_settings(TRUSTED_PROXY_COUNT="2")["ALLAUTH_TRUSTED_PROXY_COUNT"] == 2
    header = production_settings(TRUSTED_CLIENT_IP_HEADER="X-Real-IP")["ALLAUTH_TRUSTED_CLIENT_IP_HEADER"]
    assert header == "X-Real-IP"


# A second web process: it logs in with wrong passwords through the real login form, on the same database.
OTHER_PROCESS = textwrap.dedent(
    """
    import json, sys
    import django
    from django.conf import settings
    settings.DATABASES["default"]["NAME"] = sys.argv[1]
    settings.ENCRYPTION_KEYS = [sys.argv[2]]
    settings.CACHES = {"default": json.loads(sys.argv[3])}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # as in the test
    django.setup()
    from django.test import Client
    from django.test.utils import setup_test_environment
    setup_test_environment()  # lets the test client's host in
    client = Client(REMOTE_ADDR="198.51.100.30")
    for n in range(int(sys.argv[5])):
        response = client.post("/accounts/login/", {"login": sys.argv[4], "password": f"wrong-{n}"})
        assert response.status_code == 200 and "_auth_user_id" not in client.session
    print("done")
    """
)


def fail_in_another_process(cache_config: dict, email: str, times: int) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "schoolgate.settings"}
    done = subprocess.run(  # noqa: S603 - our own interpreter running our own script
        [
            sys.executable,
            "-c",
            OTHER_PROCESS,
            db_connection.settings_dict["NAME"],
            TEST_ENCRYPTION_KEY,
            json.dumps(cache_config),
            email,
            str(times),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stdout.strip() == "done", done.stderr


@pytest.fixture(params=["database", "redis"])
def shared_cache(request, settings):
    """This process's cache switched to the production one; on Redis under a key prefix of its own."""
    if request.param == "database":
        config = production_cache(redis_url=None)
        settings.CACHES = {"default": config}
        call_command("createcachetable", verbosity=0)  # what bin/up runs after migrate
        yield config
        cache.clear()  # this test database's own table
        return
    require_redis("the shared-cache test on Redis")
    prefix = f"schoolgate-test-{uuid.uuid4().hex}"
    config = {**production_cache(redis_url=REDIS_URL), "KEY_PREFIX": prefix}
    settings.CACHES = {"default": config}
    yield config
    # Never cache.clear() here: on Redis that empties the whole database, Huey's queue and other runs included.
    with redis.Redis.from_url(REDIS_URL) as client:
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)


def test_it_counts_failed_logins_across_web_processes(transactional_db, shared_cache):
    pat = person("Pat Shared")
    here = client_at("198.51.100.30")
    for n in range(3):
        attempt(here, pat.email, f"wrong-here-{n}")

    fail_in_another_process(shared_cache, pat.email, times=2)

    # 3 here + 2 there = 5: the next attempt is refused, though its password is right.
    assert refused_as_too_many(attempt(here, pat.email, PASSWORD))
    assert not logged_in(here)
