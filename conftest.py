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
