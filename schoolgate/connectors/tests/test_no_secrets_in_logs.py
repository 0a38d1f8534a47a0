"""No token, app secret or password reaches the logs during a full connect, publish and refresh on any network.

Every log record is captured, with the root logger and the HTTP libraries (httpx, httpcore, urllib3,
atproto, Mastodon.py) at DEBUG: the raw messages must not carry a secret at all, and the lines as the
configured handlers write them (with the redaction filter of settings.LOGGING) neither.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.parse
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import override_settings

from schoolgate.connectors.base import Credentials, MediaItem, OAuthClient
from schoolgate.connectors.bluesky.connector import BlueskyConnector
from schoolgate.connectors.facebook.connector import FacebookConnector
from schoolgate.connectors.instagram.connector import InstagramConnector
from schoolgate.connectors.mastodon.connector import MastodonConnector
from schoolgate.connectors.tests.replay import RECORDINGS, replaying
from schoolgate.connectors.x.connector import XConnector
from schoolgate.logredact import RedactSecrets

LOGGERS = ("", "httpx", "httpcore", "urllib3", "requests", "atproto", "atproto_client", "mastodon", "schoolgate")
SECRET_FIELDS = {
    "access_token",
    "refresh_token",
    "client_secret",
    "code",
    "fb_exchange_token",
    "code_verifier",
    "password",
}
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.raw: list[str] = []
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def handle(self, record: logging.LogRecord) -> bool:
        # The message as the library logged it, before any filter: secrets must not even be offered.
        self.raw.append(f"{record.name} {record.getMessage()}")
        return super().handle(record)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logs() -> Iterator[_Capture]:
    root = logging.getLogger()
    configured = [h for h in root.handlers if any(isinstance(f, RedactSecrets) for f in h.filters)]
    assert configured, "settings.LOGGING must put the redaction filter on the console handler"
    capture = _Capture()
    for log_filter in configured[0].filters:
        capture.addFilter(log_filter)
    levels = {name: logging.getLogger(name).level for name in LOGGERS}
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    root.addHandler(capture)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def assert_no_secrets(logs: _Capture, secrets: set[str]) -> None:
    secrets = {s for s in secrets if s and len(s) >= 4}
    assert secrets and logs.raw, "the test captured nothing to check"
    for secret in secrets:
        assert not [m for m in logs.raw if secret in m], f"a secret reached a log record: {secret[:6]}…"
        assert not [line for line in logs.lines if secret in line], f"a secret reached a log line: {secret[:6]}…"


def recorded_secrets(*scenarios: str) -> set[str]:
    """Every token, secret and code the recorded exchanges carry (requests and responses)."""
    found: set[str] = set()

    def walk(value):
        if isinstance(value, dict):
            for name, inner in value.items():
                if name in SECRET_FIELDS and isinstance(inner, str) and inner != "*":
                    found.add(inner)
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    for scenario in scenarios:
        for exchange in json.loads((RECORDINGS / f"{scenario}.json").read_text()):
            request = exchange["request"]
            walk(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(request["url"]).query)))
            walk(request.get("body"))
            walk(exchange["response"].get("body"))
            for name, value in request.get("headers", {}).items():
                if name.lower() == "authorization":
                    found.add(value.split(" ", 1)[-1])
    return found


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # Graph lockouts from other tests
    yield
    cache.clear()


def test_it_logs_no_bluesky_secret(logs, bsky_peer):
    remote = bsky_peer.create_account("logs")
    credentials = BlueskyConnector.connect_with_password(
        handle=remote.handle, password=remote.app_password, service_url=bsky_peer.pds_url
    )
    connector = BlueskyConnector(credentials, base_url=bsky_peer.pds_url)
    session_before = credentials.data["session"]
    connector.publish("Sports day is on Friday.", key="delivery-1@2026-11-22T09:30:00+00:00")
    refreshed = connector.refresh_credentials()
    assert refreshed.data["session"] != session_before
    # The session string holds the access and refresh tokens (JWTs), before and after the refresh.
    jwts = {part for session in (session_before, refreshed.data["session"]) for part in session.split(":::")[2:4]}
    assert_no_secrets(logs, {remote.app_password, remote.password, *jwts})


def test_it_logs_no_mastodon_secret(logs, mastodon_instance):
    redirect_uri = "https://schoolgate.example/connect/callback/mastodon/"
    client = MastodonConnector.register_app(instance_url=mastodon_instance.base_url, redirect_uri=redirect_uri)
    url = MastodonConnector.authorization_url(client=client, redirect_uri=redirect_uri, state="state-1234")
    code = mastodon_instance.approve(url, username="hillside")["code"]
    credentials = MastodonConnector.exchange_code(client=client, code=code, redirect_uri=redirect_uri)
    connector = MastodonConnector(credentials)
    connector.identity()
    connector.publish("Sports day is on Friday.", key="delivery-2")
    assert connector.refresh_credentials() is None  # Mastodon tokens do not expire
    assert_no_secrets(logs, {client.client_secret, code, credentials.data["access_token"]})


def test_it_logs_no_facebook_secret(logs):
    app = OAuthClient(client_id="1234567890123456", client_secret="fb-app-secret")
    with replaying(FacebookConnector, "facebook/oauth_exchange"):
        credentials = FacebookConnector.exchange_code(
            client=app, code="AQDcode123", redirect_uri="https://schoolgate.example/connections/facebook/callback"
        )
        FacebookConnector(credentials).identity()
    with replaying(FacebookConnector, "facebook/publish_text"):
        connector = FacebookConnector(credentials)
        connector.publish("Our Year 5 choir sang at the town hall today. Well done, everyone!", key="delivery-42")
    assert connector.refresh_credentials() is None  # a Page token from a long-lived user token does not expire
    assert any("graph.facebook.com" in line for line in logs.lines)
    assert_no_secrets(logs, {"fb-app-secret", *recorded_secrets("facebook/oauth_exchange", "facebook/publish_text")})


def test_it_logs_no_instagram_secret(logs, monkeypatch):
    monkeypatch.setattr(InstagramConnector, "sleep", staticmethod(lambda seconds: None))
    app = OAuthClient(client_id="1234567890123456", client_secret="fb-app-secret")
    with replaying(InstagramConnector, "instagram/oauth_exchange"):
        credentials = InstagramConnector.exchange_code(
            client=app, code="AQDigcode", redirect_uri="https://schoolgate.example/connections/instagram/callback"
        )
        InstagramConnector(credentials).identity()
    image = MediaItem(
        data=JPEG,
        mime_type="image/jpeg",
        alt_text="A collage of red and yellow leaves glued on paper.",
        filename="collage.jpg",
        public_url="https://schoolgate.example/m/9f8e7d6c5b4a/collage.jpg",
    )
    with replaying(InstagramConnector, "instagram/publish_single_image"):
        connector = InstagramConnector(
            Credentials(data={**credentials.data, "access_token": "EAALongUserToken-ig"}, expires_at=None)
        )
        connector.publish("Autumn leaves collage from Class 3.", media=[image], key="delivery-51")
    assert connector.refresh_credentials() is None
    assert_no_secrets(
        logs, {"fb-app-secret", *recorded_secrets("instagram/oauth_exchange", "instagram/publish_single_image")}
    )


def test_it_logs_no_x_secret(logs):
    app = OAuthClient(client_id="X0NsaWVudElEZXhhbXBsZQ", client_secret="x-client-secret")
    with replaying(XConnector, "x/oauth_exchange"):
        credentials = XConnector.exchange_code(
            client=app,
            code="VGNibzFWSWREZm01bjN1N3dicWlNUG1oa2xRRVNtY3Z",
            redirect_uri="https://schoolgate.example/connections/x/callback",
            state="s3cret-state",
        )
    media = [
        MediaItem(
            data=JPEG,
            mime_type="image/jpeg",
            alt_text="A photographer's camera on a tripod in the hall.",
            filename="camera.jpg",
        ),
        MediaItem(data=JPEG, mime_type="image/jpeg", alt_text="A blue photo backdrop.", filename="backdrop.jpg"),
    ]
    with replaying(XConnector, "x/publish_with_images"):
        XConnector(Credentials(data={**credentials.data, "access_token": "x-user-access-token"})).publish(
            "Reminder: school photos on Friday.", media=media, key="delivery-61"
        )
    old = Credentials(
        data={
            "access_token": "x-user-access-token",
            "refresh_token": "x-refresh-token-1",
            "client_id": app.client_id,
            "user_id": credentials.data["user_id"],
            "username": "hillsideprimary",
        },
        expires_at=dt.datetime.now(dt.UTC),
    )
    with (
        override_settings(NETWORK_APPS={"x": {"client_id": app.client_id, "client_secret": app.client_secret}}),
        replaying(XConnector, "x/refresh"),
    ):
        XConnector(old).refresh_credentials()
    secrets = recorded_secrets("x/oauth_exchange", "x/publish_with_images", "x/refresh")
    assert_no_secrets(logs, {"x-client-secret", *secrets})
