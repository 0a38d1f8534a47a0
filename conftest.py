"""Test settings that must be in place before Django loads."""

import os

os.environ["HUEY_IMMEDIATE"] = "1"  # jobs run inline in tests; the Redis test builds a real queue itself
os.environ.setdefault("SCHOOLGATE_ENCRYPTION_KEYS", "x6oLkCnUjF1dGZ1r4O0wJ5s7yqFv1d8Bq2Xk9mT3pE0=")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
