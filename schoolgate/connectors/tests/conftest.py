"""Fixtures for connector tests (the Bluesky network fixture is in schoolgate/conftest.py: the UI tests use it too)."""

from __future__ import annotations

# --- Mastodon connector fixtures (defined in conftest_mastodon.py; keep this section when editing) ---
from schoolgate.connectors.tests.conftest_mastodon import (  # noqa: E402, F401
    closed_port_url,
    html_server,
    mastodon_instance,
    mastodon_server,
)

# --- end Mastodon connector fixtures ---
