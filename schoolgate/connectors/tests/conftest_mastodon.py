"""Fixtures for the Mastodon connector: a real mastodon-mock server per test, and servers that misbehave.

mastodon-mock (PyPI) is a FastAPI app over in-memory SQLite. Its MockServer runs uvicorn in a daemon
thread bound to port 0 on 127.0.0.1 (the OS picks a free port, read back from the socket, so parallel
xdist workers never collide). Each test process starts one server; every test resets it to the seed
first, so tests share no state.
"""

from __future__ import annotations

import functools
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from mastodon import Mastodon
from mastodon_mock.config import DatabaseConfig, MastodonMockConfig, SeedAccount, SeedConfig, StreamingConfig
from mastodon_mock.testing import MockServer

MASTODON_DOMAIN = "social.example"
# The mock's seed gives each account a fixed token; these are test fixtures, not credentials.
MASTODON_SEED = SeedConfig(
    accounts=[
        SeedAccount(username="hillside", display_name="Hillside Primary", access_token="hillside_token"),
        SeedAccount(username="parent", display_name="A Parent", access_token="parent_token"),
        SeedAccount(username="troll", display_name="Not Nice", access_token="troll_token"),
    ]
)


@functools.cache
def _local_http() -> httpx.Client:
    """One client per test process: building a new one each time costs ~0.3 s of TLS setup."""
    return httpx.Client(timeout=5)


@dataclass
class MastodonMock:
    """A running mock instance, and what tests do to it from outside the connector."""

    server: MockServer
    base_url: str

    def token(self, username: str) -> str:
        return f"{username}_token"

    def client(self, username: str) -> Mastodon:
        """Mastodon.py logged in as a seeded account, to act as the other people in a test."""
        return Mastodon(
            access_token=self.token(username),
            api_base_url=self.base_url,
            request_timeout=10,
            mastodon_version="4.0.0",
            version_check_mode="created",
            ratelimit_method="throw",
        )

    def fail(
        self,
        *,
        path: str,
        methods: tuple[str, ...] = ("POST",),
        count: int = 1,
        kind: str = "status",
        status: int | None = None,
        body: object = None,
        headers: dict | None = None,
    ) -> None:
        """Make the next `count` matching requests fail (mastodon-mock's fault injection)."""
        effect = {"type": kind, "status": status, "body": body, "headers": headers}
        rule = {
            "match": {"path": path, "methods": list(methods)},
            "effect": {k: v for k, v in effect.items() if v is not None},
            "count": count,
        }
        _local_http().post(f"{self.base_url}/api/v1/_mock/faults", json=rule).raise_for_status()

    def revoke(self, token: str) -> None:
        _local_http().post(f"{self.base_url}/oauth/revoke", data={"token": token}).raise_for_status()

    def approve(self, authorization_url: str, *, username: str) -> dict[str, str]:
        """Play the person on the instance's login page: open it, pick the account, follow the redirect.

        Returns the query of the redirect back to Schoolgate (code and state).
        """
        page = _local_http().get(authorization_url)
        page.raise_for_status()
        assert f'value="{username}"' in page.text
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(authorization_url).query))
        answer = _local_http().post(
            f"{self.base_url}/oauth/authorize",
            data={
                "username": username,
                "redirect_uri": query["redirect_uri"],
                "client_id": query["client_id"],
                "scope": query["scope"],
                "state": query["state"],
            },
        )
        assert answer.status_code == 302, answer.text
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.headers["location"]).query))


def _wait_until_it_answers(url: str, *, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if _local_http().get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout:g}s")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def mastodon_server(tmp_path_factory) -> Iterator[MockServer]:
    config = MastodonMockConfig(
        domain=MASTODON_DOMAIN,
        database=DatabaseConfig(path=":memory:"),
        media_storage_path=str(tmp_path_factory.mktemp("mastodon-media")),
        seed=MASTODON_SEED,
        streaming=StreamingConfig(enabled=False),
    )
    server = MockServer(config=config, host="127.0.0.1").start()
    try:
        _wait_until_it_answers(f"{server.base_url}/health")
        yield server
    finally:
        server.stop()


@pytest.fixture
def mastodon_instance(mastodon_server) -> MastodonMock:
    """The mock instance, back to its seed for this test: tables dropped and re-seeded, faults cleared.

    One server per test process, reset per test: a fresh server costs ~1 s (its first request is slow),
    a reset ~0.1 s, and leaves nothing behind from the test before (posts, tokens, idempotency keys).
    """
    _local_http().post(f"{mastodon_server.base_url}/api/v1/_mock/reset").raise_for_status()
    return MastodonMock(server=mastodon_server, base_url=mastodon_server.base_url)


class _CaptivePortal(BaseHTTPRequestHandler):
    """Answers every request with a 200 HTML page, like a Wi-Fi login page or a maintenance screen."""

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        body = b"<!doctype html><html><body><h1>Sign in to continue</h1></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, format, *args):  # keep test output quiet
        pass


@pytest.fixture
def html_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CaptivePortal)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def closed_port_url() -> str:
    """An address on this machine where nothing listens (a port that was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
