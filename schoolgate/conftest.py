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

# The suite's own servers (the Bluesky network, mastodon-mock, the misbehaving servers) listen on this
# machine; production refuses such addresses (connectors/addresses.py). Tests of that refusal empty the list.
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1"]


@pytest.fixture(scope="session", autouse=True)
def _allow_the_suites_local_servers():
    from django.conf import settings

    previous = getattr(settings, "OUTBOUND_ALLOWED_PRIVATE_HOSTS", [])
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = LOOPBACK_HOSTS
    yield
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = previous


@pytest.fixture(scope="session", autouse=True)
def _test_audit_key(tmp_path_factory):
    # Like the encryption key: a fixed test key, never the developer's audit key file, and checkpoints in a
    # file of this run (tests that write checkpoints give themselves one each: the database rolls back, a
    # file does not).
    from django.conf import settings

    settings.AUDIT_KEYS = ["test-audit-key-0123456789abcdef0123456789abcdef"]
    settings.AUDIT_CHECKPOINT_FILE = tmp_path_factory.mktemp("audit") / "checkpoints.jsonl"
    yield


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
    # The Content-Security-Policy is on in tests too: a page whose script or style it refused fails the test.
    refused = []
    tab.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    yield tab
    context.close()
    assert not refused, "the page broke its Content-Security-Policy:\n" + "\n".join(refused)


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
