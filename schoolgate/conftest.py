"""Fixtures shared by every app's tests."""

import pytest

from schoolgate.connectors.tests.bsky_peer import BskyPeer, PeerUnavailable, shared_dir, shared_peer
from schoolgate.connectors.tests.conftest_mastodon import (  # noqa: F401 - fixtures shared with the UI tests
    closed_port_url,
    html_server,
    mastodon_instance,
    mastodon_server,
)
from schoolgate.testing import make_school


@pytest.fixture
def cast(db):
    return make_school()


@pytest.fixture
def mailoutbox_cleared(mailoutbox):
    mailoutbox.clear()
    return mailoutbox


CHROMIUM = "/usr/bin/chromium"
# Flags for a closed network: without the background-networking ones Chromium keeps dialling out.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    import pathlib

    from playwright.sync_api import sync_playwright

    if not pathlib.Path(CHROMIUM).exists():
        pytest.fail(f"Browser tests need Debian's Chromium at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on 127.0.0.1; Django's mailer points at it. Yields received messages."""
    import socket
    from email import message_from_bytes

    from aiosmtpd.controller import Controller

    received = []

    class Collect:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            received.append({"to": list(envelope.rcpt_tos), "message": message_from_bytes(envelope.content)})
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }
    yield received
    controller.stop()


@pytest.fixture(scope="session")
def bsky_peer(request, tmp_path_factory) -> BskyPeer:
    """PDS and AppView URLs of the run's Bluesky network, and `create_account()` for fresh test accounts.

    Fails (never skips) when the network cannot be installed or started: these tests are the only proof
    that the connector works against real Bluesky software.
    """
    is_worker = hasattr(request.config, "workerinput")
    try:
        return shared_peer(shared_dir(tmp_path_factory.getbasetemp(), is_worker=is_worker))
    except PeerUnavailable as error:
        problem = str(error)
    pytest.fail(f"The local Bluesky network is unavailable: {problem}", pytrace=False)
