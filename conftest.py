"""Test-wide setup: jobs run inline, secrets use a fixed test key, Playwright may share the thread."""

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

TEST_ENCRYPTION_KEY = "x6oLkCnUjF1dGZ1r4O0wJ5s7yqFv1d8Bq2Xk9mT3pE0="


@pytest.fixture(scope="session", autouse=True)
def _test_environment():
    # Settings are imported by pytest-django before this file, so override the live objects here:
    # Huey runs jobs inline in memory (the Redis test builds a real queue of its own) and the
    # encryption key is a fixed test key, never the developer's key file.
    from django.conf import settings
    from huey.contrib.djhuey import HUEY

    from schoolgate import crypto

    HUEY.immediate = True
    settings.ENCRYPTION_KEYS = [TEST_ENCRYPTION_KEY]
    crypto._fernet.cache_clear()
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
