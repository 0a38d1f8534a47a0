"""The Facebook Page connector against recorded Graph API exchanges (tests/recordings/facebook/)."""

from __future__ import annotations

import base64
import datetime as dt
import os
import urllib.parse

import pytest
from django.core.cache import cache

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
from schoolgate.connectors.facebook import graph
from schoolgate.connectors.facebook.connector import SCOPES, FacebookConnector
from schoolgate.connectors.http import with_retries
from schoolgate.connectors.marker import delivery_marker
from schoolgate.connectors.tests.replay import replaying

PAGE_ID = "104567890123456"
POST_ID = f"{PAGE_ID}_122100000000000001"
TEXT = "Our Year 5 choir sang at the town hall today. Well done, everyone!"
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNk+A8AAQUBAScY42YAAAAASUVORK5CYII=")
APP = OAuthClient(client_id="1234567890123456", client_secret="fb-app-secret")
REDIRECT_URI = "https://schoolgate.example/connections/facebook/callback"


@pytest.fixture(autouse=True)
def _no_lockouts():
    cache.clear()  # usage lockouts live in the cache; each test starts unthrottled
    yield
    cache.clear()


def connect() -> FacebookConnector:
    return FacebookConnector(Credentials(data={"page_id": PAGE_ID, "access_token": "EAAPageToken-hillside"}))


def comment(remote_id: str, author_id: str = "7000000000000002") -> RemoteItem:
    return RemoteItem(
        remote_id=remote_id,
        author_id=author_id,
        author_handle="Alex Neighbour",
        text="",
        created_at=dt.datetime(2026, 11, 3, tzinfo=dt.UTC),
    )


def test_it_is_registered_with_what_facebook_allows():
    assert registry.connector_class("facebook") is FacebookConnector
    assert FacebookConnector.can(Capability.BLOCK) and FacebookConnector.can(Capability.DELETE_OTHERS)
    assert not FacebookConnector.can(Capability.REPORT)
    assert not FacebookConnector.can(Capability.MUTE)


def test_it_publishes_with_images_as_unpublished_photos_attached_to_one_post():
    media = [
        MediaItem(
            data=PNG, mime_type="image/png", alt_text="Pupils in blue jumpers singing on a stage.", filename="choir.png"
        ),
        MediaItem(data=PNG, mime_type="image/png", alt_text="The choir bowing to the audience.", filename="bow.png"),
    ]
    with replaying(FacebookConnector, "facebook/publish_with_images"):
        published = connect().publish(TEXT, media=media, key="delivery-41")
    assert published.remote_id == POST_ID
    assert published.url == f"https://www.facebook.com/{POST_ID}"


def test_it_publishes_text():
    with replaying(FacebookConnector, "facebook/publish_text"):
        assert connect().publish(TEXT, key="delivery-42").remote_id == POST_ID


def test_it_finds_a_post_an_earlier_attempt_made_by_its_marker():
    with replaying(FacebookConnector, "facebook/find_published"):
        connector = connect()
        found = connector.find_published("delivery-41")
        assert connector.find_published("delivery-99") is None
    assert found.remote_id == POST_ID
    assert found.url == f"https://www.facebook.com/{PAGE_ID}/posts/122100000000000001"


def test_it_reads_comments_and_replies():
    with replaying(FacebookConnector, "facebook/fetch_replies"):
        items = connect().fetch_replies(POST_ID)
    assert [item.remote_id for item in items] == [
        "122100000000000001_1001",
        "122100000000000001_1002",
        "122100000000000001_1003",
    ]
    first, reply, private = items
    assert first.author_id == "7000000000000001" and first.author_handle == "Sam Parent"
    assert first.in_reply_to == POST_ID and first.created_at == dt.datetime(2026, 11, 3, 9, 15, 2, tzinfo=dt.UTC)
    assert reply.in_reply_to == "122100000000000001_1001" and reply.hidden
    assert private.author_id == ""  # Meta leaves out "from" when it may not share who wrote it


def test_it_replies_to_a_comment():
    with replaying(FacebookConnector, "facebook/reply"):
        published = connect().reply(
            comment("122100000000000001_1001"), "Thank you! It was Somewhere Over the Rainbow.", key="reply-7"
        )
    assert published.remote_id == "122100000000000001_1004"


def test_it_hides_a_comment():
    with replaying(FacebookConnector, "facebook/hide"):
        connect().hide(comment("122100000000000001_1003"))


def test_it_deletes_another_persons_comment():
    with replaying(FacebookConnector, "facebook/delete_others"):
        connect().delete_others(comment("122100000000000001_1003"))


def test_it_deletes_its_own_post():
    with replaying(FacebookConnector, "facebook/delete_own"):
        connect().delete_own(POST_ID)


def test_it_blocks_a_person_from_the_page():
    with replaying(FacebookConnector, "facebook/block"):
        connect().block("7000000000000002")


def test_it_refuses_what_the_graph_api_cannot_do():
    connector = connect()
    with pytest.raises(NotSupported, match="reporting"):
        connector.report(comment("1"), reason="spam")
    with pytest.raises(NotSupported, match="muting"):
        connector.mute("7000000000000002")


def test_it_retries_a_temporary_error():
    waits = []
    with replaying(FacebookConnector, "facebook/temporary_error_then_replies"):
        connector = connect()
        items = with_retries(lambda: connector.fetch_replies(POST_ID), sleep=waits.append)
    assert len(items) == 3
    assert waits == [1.0]


def test_it_waits_as_long_as_meta_says_when_throttled():
    with replaying(FacebookConnector, "facebook/throttled"):
        connector = connect()
        with pytest.raises(ConnectorError) as raised:
            connector.fetch_replies(POST_ID)
        # The lockout is remembered: the next call waits without touching the network (the recording
        # has no second exchange, so a request would fail the test).
        with pytest.raises(ConnectorError) as again:
            connector.fetch_replies(POST_ID)
    assert not raised.value.permanent
    assert raised.value.retry_after == 12 * 60  # estimated_time_to_regain_access, in minutes
    assert "(#4) Application request limit reached" in raised.value.message
    assert not again.value.permanent and again.value.retry_after > 700


def test_it_backs_off_when_usage_headers_pass_ninety_percent():
    with replaying(FacebookConnector, "facebook/usage_near_limit"):
        connector = connect()
        assert len(connector.fetch_replies(POST_ID)) == 3  # the answer is still used
        with pytest.raises(ConnectorError) as raised:
            connector.fetch_replies(POST_ID)  # ...but the next call holds off
    assert not raised.value.permanent and raised.value.retry_after == pytest.approx(graph.DEFAULT_THROTTLE_WAIT, abs=5)


def test_it_reports_an_expired_token_as_permanent():
    with replaying(FacebookConnector, "facebook/expired_token"), pytest.raises(ConnectorError) as raised:
        connect().publish(TEXT, key="delivery-43")
    assert raised.value.permanent
    assert "connect the account again" in raised.value.message
    assert "code 190/463" in raised.value.message and "fbtrace_id Hx7Yq2LmN0p" in raised.value.message


def test_it_explains_html_instead_of_json():
    with replaying(FacebookConnector, "facebook/html_instead_of_json"), pytest.raises(ConnectorError) as raised:
        connect().identity()
    assert not raised.value.permanent
    assert "Facebook answered with a web page instead of the data" in raised.value.message
    assert "<" not in raised.value.message  # never the page itself


def test_it_sends_people_to_the_facebook_login_dialog():
    url = FacebookConnector.authorization_url(client=APP, redirect_uri=REDIRECT_URI, state="s3cret-state")
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    assert (
        f"{parts.scheme}://{parts.netloc}{parts.path}" == f"https://www.facebook.com/{graph.GRAPH_VERSION}/dialog/oauth"
    )
    assert query == {
        "client_id": APP.client_id,
        "redirect_uri": REDIRECT_URI,
        "state": "s3cret-state",
        "response_type": "code",
        "scope": ",".join(SCOPES),
    }


def test_it_exchanges_the_code_for_a_page_token():
    with replaying(FacebookConnector, "facebook/oauth_exchange"):
        credentials = FacebookConnector.exchange_code(client=APP, code="AQDcode123", redirect_uri=REDIRECT_URI)
        identity = FacebookConnector(credentials).identity()
    assert credentials.data["page_id"] == PAGE_ID
    assert credentials.data["access_token"] == "EAAPageToken-hillside"
    assert credentials.data["other_pages"] == [{"id": "109876543210987", "name": "Hillside PTA"}]
    assert credentials.expires_at is None  # Page tokens from a long-lived user token do not expire
    assert identity.handle == "Hillside Primary School" and identity.url == "https://www.facebook.com/hillsideprimary"


def test_it_marks_posts_invisibly():
    marker = delivery_marker("delivery-41")
    assert len(marker) == 24 and set(marker) <= {"\u200b", "\u200c"}
    assert marker != delivery_marker("delivery-42")


LIVE_TOKEN = os.environ.get("SCHOOLGATE_LIVE_FACEBOOK_PAGE_TOKEN", "")
LIVE_PAGE = os.environ.get("SCHOOLGATE_LIVE_FACEBOOK_PAGE_ID", "")


@pytest.mark.skipif(
    not (LIVE_TOKEN and LIVE_PAGE),
    reason="live Facebook test: set SCHOOLGATE_LIVE_FACEBOOK_PAGE_TOKEN "
    "and SCHOOLGATE_LIVE_FACEBOOK_PAGE_ID to a test Page's token and id to run it",
)
def test_it_publishes_finds_and_deletes_on_a_real_page():
    connector = FacebookConnector(Credentials(data={"page_id": LIVE_PAGE, "access_token": LIVE_TOKEN}))
    key = f"live-{dt.datetime.now(dt.UTC).timestamp()}"
    assert connector.identity().remote_id == LIVE_PAGE
    published = connector.publish(
        "Schoolgate live connector test; this post deletes itself.",
        media=[MediaItem(data=PNG, mime_type="image/png", alt_text="A single grey pixel.", filename="pixel.png")],
        key=key,
    )
    try:
        found = connector.find_published(key)
        assert found is not None and found.remote_id == published.remote_id  # the marker survives the round trip
        assert connector.fetch_replies(published.remote_id) == []
    finally:
        connector.delete_own(published.remote_id)
