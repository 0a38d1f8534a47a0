"""The X connector against recorded X API v2 exchanges (tests/recordings/x/)."""

from __future__ import annotations

import datetime as dt
import os
import time
import urllib.parse

import pytest
from django.test import override_settings
from django.utils import timezone

from schoolgate.connectors import registry
from schoolgate.connectors.base import (
    Capability,
    ConnectorError,
    Credentials,
    MediaItem,
    NotSupported,
    OAuthClient,
    RemoteItem,
)
from schoolgate.connectors.http import with_retries
from schoolgate.connectors.tests.replay import replaying
from schoolgate.connectors.x.connector import SCOPES, XConnector, code_challenge, code_verifier

ME = "1500000000000000001"
TWEET = "1860000000000000001"
TEXT = "Reminder: school photos on Friday."
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
APP = OAuthClient(client_id="X0NsaWVudElEZXhhbXBsZQ", client_secret="x-client-secret")
REDIRECT_URI = "https://schoolgate.example/connections/x/callback"


def connect() -> XConnector:
    return XConnector(Credentials(data={"access_token": "x-user-access-token", "user_id": ME}))


def reply_item(remote_id: str, author_id: str = "2000000000000000002") -> RemoteItem:
    return RemoteItem(
        remote_id=remote_id,
        author_id=author_id,
        author_handle="@troll_account",
        text="",
        created_at=dt.datetime(2026, 11, 5, tzinfo=dt.UTC),
        in_reply_to=TWEET,
    )


def test_it_is_registered_with_what_x_allows():
    assert registry.connector_class("x") is XConnector
    assert XConnector.can(Capability.HIDE) and XConnector.can(Capability.MUTE)
    for missing in (Capability.DELETE_OTHERS, Capability.BLOCK, Capability.REPORT):
        assert not XConnector.can(missing)


def test_it_publishes_with_images_and_alt_text():
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
        published = connect().publish(TEXT, media=media, key="delivery-61")
    assert published.remote_id == TWEET
    assert published.url == f"https://x.com/i/web/status/{TWEET}"


def test_it_finds_a_post_an_earlier_attempt_made_by_its_marker():
    with replaying(XConnector, "x/find_published"):
        connector = connect()
        found = connector.find_published("delivery-61")
        assert connector.find_published("delivery-99") is None
    assert found.remote_id == TWEET


def test_it_reads_replies_through_the_conversation():
    with replaying(XConnector, "x/fetch_replies"):
        items = connect().fetch_replies(TWEET)
    assert [(item.remote_id, item.in_reply_to) for item in items] == [
        ("1860000000000000011", TWEET),
        ("1860000000000000012", "1860000000000000011"),
    ]
    assert items[0].author_handle == "@parent_jo" and items[0].author_name == "Jo Parent"
    assert items[0].created_at == dt.datetime(2026, 11, 5, 8, 1, tzinfo=dt.UTC)


def test_it_reads_mentions_since_a_time():
    with replaying(XConnector, "x/fetch_mentions"):
        items = connect().fetch_mentions(since=dt.datetime(2026, 11, 5, tzinfo=dt.UTC))
    assert [item.remote_id for item in items] == ["1860000000000000011"]


def test_it_replies_in_the_thread():
    with replaying(XConnector, "x/reply"):
        published = connect().reply(
            reply_item("1860000000000000011", "2000000000000000001"), "@parent_jo Yes, every class.", key="reply-3"
        )
    assert published.remote_id == "1860000000000000013"


def test_it_hides_a_reply():
    with replaying(XConnector, "x/hide"):
        connect().hide(reply_item("1860000000000000012"))


def test_it_mutes_an_account():
    with replaying(XConnector, "x/mute"):
        connect().mute("2000000000000000002")


def test_it_deletes_its_own_post():
    with replaying(XConnector, "x/delete_own"):
        connect().delete_own(TWEET)


def test_it_cannot_delete_others_block_or_report():
    connector = connect()
    with pytest.raises(NotSupported, match="deleting other people's comments"):
        connector.delete_others(reply_item("1860000000000000012"))
    with pytest.raises(NotSupported, match="enterprise"):
        connector.block("2000000000000000002")
    with pytest.raises(NotSupported, match="reporting"):
        connector.report(reply_item("1860000000000000012"), reason="abuse")


def test_it_waits_for_the_rate_limit_reset_and_retries(monkeypatch):
    monkeypatch.setattr(time, "time", lambda: 1_793_000_000 - 45)  # 45 s before the recorded reset
    waits = []
    with replaying(XConnector, "x/rate_limited_then_replies"):
        connector = connect()
        items = with_retries(lambda: connector.fetch_replies(TWEET), sleep=waits.append)
    assert len(items) == 2
    assert waits == [45.0]


def test_it_reports_a_revoked_token_as_permanent():
    with replaying(XConnector, "x/unauthorized"), pytest.raises(ConnectorError) as raised:
        connect().publish(TEXT, key="delivery-62")
    assert raised.value.permanent and raised.value.status == 401


def test_it_surfaces_a_refused_post():
    with replaying(XConnector, "x/duplicate_refused"), pytest.raises(ConnectorError) as raised:
        connect().publish(TEXT, key="delivery-63")
    assert raised.value.permanent
    assert "duplicate content" in raised.value.message


def test_it_explains_html_instead_of_json():
    with replaying(XConnector, "x/html_instead_of_json"), pytest.raises(ConnectorError) as raised:
        connect().identity()
    assert "X answered with a web page" in raised.value.message
    assert "Over capacity" not in raised.value.message  # never the page itself


def test_it_sends_people_to_authorize_with_a_pkce_challenge():
    url = XConnector.authorization_url(client=APP, redirect_uri=REDIRECT_URI, state="s3cret-state")
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://x.com/i/oauth2/authorize"
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] == code_challenge(code_verifier(APP, "s3cret-state"))
    assert query["scope"] == " ".join(SCOPES) and "offline.access" in query["scope"]
    assert code_verifier(APP, "s3cret-state") != code_verifier(APP, "other-state")
    assert 43 <= len(code_verifier(APP, "s3cret-state")) <= 128


def test_it_exchanges_the_code_with_the_verifier_for_expiring_tokens():
    with replaying(XConnector, "x/oauth_exchange") as replay:
        credentials = XConnector.exchange_code(
            client=APP,
            code="VGNibzFWSWREZm01bjN1N3dicWlNUG1oa2xRRVNtY3Z",
            redirect_uri=REDIRECT_URI,
            state="s3cret-state",
        )
    sent = dict(urllib.parse.parse_qsl(replay.requests[0].content.decode()))
    assert sent["code_verifier"] == code_verifier(APP, "s3cret-state")
    assert credentials.data["access_token"] == "x-user-access-token"
    assert credentials.data["refresh_token"] == "x-refresh-token-1"
    assert credentials.data["user_id"] == ME
    assert timezone.now() + dt.timedelta(minutes=119) < credentials.expires_at <= timezone.now() + dt.timedelta(hours=2)


def test_it_needs_the_state_to_finish_pkce():
    with pytest.raises(ConnectorError, match="state") as raised:
        XConnector.exchange_code(client=APP, code="abc", redirect_uri=REDIRECT_URI)
    assert raised.value.permanent


@override_settings(NETWORK_APPS={"x": {"client_id": APP.client_id, "client_secret": APP.client_secret}})
def test_it_refreshes_tokens_with_the_refresh_token():
    old = Credentials(
        data={
            "access_token": "x-user-access-token",
            "refresh_token": "x-refresh-token-1",
            "client_id": APP.client_id,
            "user_id": ME,
            "username": "hillsideprimary",
        }
    )
    with replaying(XConnector, "x/refresh"):
        new = XConnector(old).refresh_credentials()
    assert new.data["access_token"] == "x-user-access-token-2"
    assert new.data["refresh_token"] == "x-refresh-token-2"  # X rotates refresh tokens
    assert new.data["user_id"] == ME and new.expires_at > timezone.now() + dt.timedelta(minutes=119)


LIVE_TOKEN = os.environ.get("SCHOOLGATE_LIVE_X_ACCESS_TOKEN", "")


@pytest.mark.skipif(
    not LIVE_TOKEN,
    reason="live X test: set SCHOOLGATE_LIVE_X_ACCESS_TOKEN to a test account's OAuth 2.0 "
    "user token (scopes tweet.read tweet.write users.read media.write) to run it",
)
def test_it_publishes_finds_and_deletes_on_a_real_account():
    connector = XConnector(Credentials(data={"access_token": LIVE_TOKEN}))
    key = f"live-{dt.datetime.now(dt.UTC).timestamp()}"
    assert connector.identity().handle.startswith("@")
    published = connector.publish("Schoolgate live connector test; this post deletes itself.", key=key)
    try:
        found = connector.find_published(key)
        assert found is not None and found.remote_id == published.remote_id
    finally:
        connector.delete_own(published.remote_id)
