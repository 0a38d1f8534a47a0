"""Test-wide setup: jobs run inline, secrets use a fixed test key, Playwright may share the thread."""

import os

import pytest
from hypothesis import settings as hypothesis_settings

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

# Property-based tests run the same examples on every run (CI must not turn red by chance, nor hang on an
# input one run happens to draw); HYPOTHESIS_PROFILE=explore draws new ones, to look for more defects.
hypothesis_settings.register_profile("default", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", derandomize=False, max_examples=500)
hypothesis_settings.load_profile(os.getenv("HYPOTHESIS_PROFILE", "default"))

TEST_ENCRYPTION_KEY = "x6oLkCnUjF1dGZ1r4O0wJ5s7yqFv1d8Bq2Xk9mT3pE0="


@pytest.fixture(scope="session", autouse=True)
def _test_environment():
    # Settings are imported by pytest-django before this file, so override the live objects here:
    # Huey runs jobs inline in memory (the Redis test builds a real queue of its own) and the
    # encryption key is a fixed test key, never the developer's key file.
    # The cache is each test process's own memory: with REDIS_URL set (CI's second pass) the settings would
    # put it on the Redis that Huey uses, shared by every xdist worker, whose user ids collide, and
    # `cache.clear()` would flush that Redis database. The shared caches are tested on their own
    # (schoolgate/accounts/tests/test_throttling.py).
    from django.conf import settings
    from django.test import override_settings
    from huey.contrib.djhuey import HUEY

    from schoolgate import crypto

    HUEY.immediate = True
    settings.ENCRYPTION_KEYS = [TEST_ENCRYPTION_KEY]
    crypto._fernet.cache_clear()
    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}):
        yield


@pytest.fixture(scope="session", autouse=True)
def _test_logins_pass_the_second_factor():
    # `client.force_login(user)` and `client.login(...)` stand for a completed login in the tests that use
    # them, but they skip allauth's code step, so the session lacks the record of a second factor that the
    # MFA middleware requires of senior people. Write it, as allauth does after a correct code, when the
    # person has an authenticator. The login paths themselves are tested through the real forms, and with
    # a session that lacks the record (schoolgate/accounts/tests/test_login_paths.py).
    from django.test import Client

    from schoolgate.accounts.testing import record_test_second_factor

    real_force_login, real_login = Client.force_login, Client.login

    def force_login(self, user, backend=None):
        real_force_login(self, user, backend)
        record_test_second_factor(self, user)

    def login(self, **credentials):
        logged_in = real_login(self, **credentials)
        if logged_in:
            record_test_second_factor(self)
        return logged_in

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Client, "force_login", force_login)
        patch.setattr(Client, "login", login)
        yield


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    # The test database on SQLite is a file, not pytest-django's in-memory default, so that a second
    # process (the killed and restarted worker in the publishing tests) works on the same data.
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("database") / "test.sqlite3")


@pytest.fixture(autouse=True)
def _clear_cache():
    # Rolled-back tests reuse primary keys, so cached per-user state (used TOTP codes, rate limits)
    # would leak from one test into the next.
    from django.core.cache import cache

    cache.clear()
    yield


def pytest_sessionfinish(session):
    # The Bluesky connector tests start one local Bluesky network per run, on first use, from whichever
    # xdist worker gets there first (schoolgate/connectors/tests/bsky_peer.py). The controller process (the
    # one without `workerinput`) stops it here, after every worker is done; a run without it does nothing.
    if hasattr(session.config, "workerinput"):
        return
    from schoolgate.connectors.tests.bsky_peer import shared_dir, stop_shared_peer

    # xdist hands each worker a base temp inside the controller's; `_tmp_path_factory` is how xdist finds it too.
    stop_shared_peer(shared_dir(session.config._tmp_path_factory.getbasetemp(), is_worker=False))
