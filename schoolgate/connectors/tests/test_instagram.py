"""The Instagram connector against recorded Graph API exchanges (tests/recordings/instagram/)."""

from __future__ import annotations

import datetime as dt
import os
import urllib.parse

import pytest
from django.core.cache import cache
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
    check_post,
)
from schoolgate.connectors.http import with_retries
from schoolgate.connectors.instagram.connector import SCOPES, InstagramConnector
from schoolgate.connectors.tests.replay import replaying

IG_USER = "17841400000000001"
MEDIA_ID = "17920000000000001"
TEXT = "Autumn leaves collage from Class 3."
CDN = "https://schoolgate.example/m/9f8e7d6c5b4a"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
APP = OAuthClient(client_id="1234567890123456", client_secret="fb-app-secret")
REDIRECT_URI = "https://schoolgate.example/connections/instagram/callback"


@pytest.fixture(autouse=True)
def _no_lockouts(monkeypatch):
    cache.clear()
    waits = []
    monkeypatch.setattr(InstagramConnector, "sleep", staticmethod(waits.append))
    yield waits
    cache.clear()


def connect() -> InstagramConnector:
    return InstagramConnector(Credentials(data={"ig_user_id": IG_USER, "access_token": "EAALongUserToken-ig"}))


def image(name: str, alt: str) -> MediaItem:
    return MediaItem(data=JPEG, mime_type="image/jpeg", alt_text=alt, filename=name, public_url=f"{CDN}/{name}")


def comment(remote_id: str) -> RemoteItem:
    return RemoteItem(
        remote_id=remote_id,
        author_id="17841400000000079",
        author_handle="@spam_account_99",
        text="",
        created_at=dt.datetime(2026, 11, 4, tzinfo=dt.UTC),
        in_reply_to=MEDIA_ID,
    )


def test_it_is_registered_without_blocking_or_text_only_posts():
    assert registry.connector_class("instagram") is InstagramConnector
    assert not InstagramConnector.can(Capability.BLOCK)
    assert not InstagramConnector.can(Capability.MUTE)
    assert not InstagramConnector.can(Capability.REPORT)
    assert InstagramConnector.limits.needs_public_image_url
    assert "Instagram cannot publish a post without an image." in check_post(InstagramConnector, "Just words")


def test_it_publishes_one_image_from_its_public_url():
    with replaying(InstagramConnector, "instagram/publish_single_image"):
        published = connect().publish(
            TEXT, media=[image("collage.jpg", "A collage of red and yellow leaves glued on paper.")], key="delivery-51"
        )
    assert published.remote_id == MEDIA_ID
    assert published.url == "https://www.instagram.com/p/DAbCdEfGhIj/"


def test_it_publishes_several_images_as_a_carousel_once_instagram_has_fetched_them(_no_lockouts):
    media = [image("one.jpg", "Leaves arranged as a hedgehog."), image("two.jpg", "Leaves arranged as a tree.")]
    with replaying(InstagramConnector, "instagram/publish_carousel"):
        published = connect().publish(TEXT, media=media, key="delivery-52")
    assert published.remote_id == MEDIA_ID
    assert _no_lockouts == [1.0]  # one wait while the container was IN_PROGRESS


def test_it_refuses_a_post_without_an_image():
    with pytest.raises(NotSupported, match="posts without an image"):
        connect().publish(TEXT, key="delivery-50")


def test_it_refuses_an_image_without_a_public_url():
    item = MediaItem(data=JPEG, mime_type="image/jpeg", alt_text="Leaves.", filename="leaves.jpg")
    with pytest.raises(ConnectorError, match="no public URL") as raised:
        connect().publish(TEXT, media=[item], key="delivery-50")
    assert raised.value.permanent


def test_it_finds_a_post_an_earlier_attempt_made_by_its_marker():
    with replaying(InstagramConnector, "instagram/find_published"):
        connector = connect()
        found = connector.find_published("delivery-51")
        assert connector.find_published("delivery-99") is None
    assert found.remote_id == MEDIA_ID and found.url == "https://www.instagram.com/p/DAbCdEfGhIj/"


def test_it_reads_comments_and_their_replies():
    with replaying(InstagramConnector, "instagram/fetch_replies"):
        items = connect().fetch_replies(MEDIA_ID)
    assert [(item.remote_id, item.in_reply_to) for item in items] == [
        ("17850000000000001", MEDIA_ID),
        ("17850000000000002", "17850000000000001"),
        ("17850000000000003", MEDIA_ID),
    ]
    assert items[0].author_handle == "@grandma_pat" and items[0].author_id == "17841400000000077"
    assert items[1].hidden
    assert items[0].created_at == dt.datetime(2026, 11, 4, 15, 1, 9, tzinfo=dt.UTC)


def test_it_replies_to_a_comment():
    with replaying(InstagramConnector, "instagram/reply"):
        published = connect().reply(comment("17850000000000001"), "Thank you, Class 3 worked hard!", key="reply-1")
    assert published.remote_id == "17850000000000004"


def test_it_hides_a_comment():
    with replaying(InstagramConnector, "instagram/hide"):
        connect().hide(comment("17850000000000003"))


def test_it_deletes_another_persons_comment():
    with replaying(InstagramConnector, "instagram/delete_others"):
        connect().delete_others(comment("17850000000000003"))


def test_it_deletes_its_own_post():
    with replaying(InstagramConnector, "instagram/delete_own"):
        connect().delete_own(MEDIA_ID)


def test_it_cannot_block_mute_or_report():
    connector = connect()
    for attempt in (
        lambda: connector.block("17841400000000079"),
        lambda: connector.mute("17841400000000079"),
        lambda: connector.report(comment("17850000000000003"), reason="spam"),
    ):
        with pytest.raises(NotSupported, match="Instagram does not allow"):
            attempt()


def test_it_retries_a_temporary_error():
    waits = []
    with replaying(InstagramConnector, "instagram/temporary_error_then_replies"):
        connector = connect()
        items = with_retries(lambda: connector.fetch_replies(MEDIA_ID), sleep=waits.append)
    assert len(items) == 3 and waits == [1.0]


def test_it_reports_an_expired_token_as_permanent():
    with replaying(InstagramConnector, "instagram/expired_token"), pytest.raises(ConnectorError) as raised:
        connect().publish(
            TEXT, media=[image("collage.jpg", "A collage of red and yellow leaves glued on paper.")], key="delivery-53"
        )
    assert raised.value.permanent and "connect the account again" in raised.value.message
    assert "fbtrace_id IgT0kenExp1" in raised.value.message


def test_it_explains_html_instead_of_json():
    with replaying(InstagramConnector, "instagram/html_instead_of_json"), pytest.raises(ConnectorError) as raised:
        connect().identity()
    assert "Instagram answered with a web page instead of the data" in raised.value.message
    assert "<" not in raised.value.message  # never the page itself


def test_it_sends_people_to_facebook_login_with_instagram_scopes():
    url = InstagramConnector.authorization_url(client=APP, redirect_uri=REDIRECT_URI, state="s3cret-state")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert url.startswith("https://www.facebook.com/v23.0/dialog/oauth?")
    assert query["scope"] == ",".join(SCOPES) and "instagram_content_publish" in query["scope"]
    assert query["state"] == "s3cret-state" and query["redirect_uri"] == REDIRECT_URI


def test_it_exchanges_the_code_for_the_pages_instagram_account():
    with replaying(InstagramConnector, "instagram/oauth_exchange"):
        credentials = InstagramConnector.exchange_code(client=APP, code="AQDigcode", redirect_uri=REDIRECT_URI)
        identity = InstagramConnector(credentials).identity()
    assert credentials.data["ig_user_id"] == IG_USER
    assert credentials.data["access_token"] == "EAALongUserToken-ig"
    # Long-lived user tokens last about 60 days; the health page warns before then.
    assert timezone.now() + dt.timedelta(days=59) < credentials.expires_at < timezone.now() + dt.timedelta(days=61)
    assert identity.handle == "@hillsideprimary" and identity.url == "https://www.instagram.com/hillsideprimary/"


LIVE_TOKEN = os.environ.get("SCHOOLGATE_LIVE_INSTAGRAM_TOKEN", "")
LIVE_USER = os.environ.get("SCHOOLGATE_LIVE_INSTAGRAM_USER_ID", "")
LIVE_IMAGE_URL = os.environ.get("SCHOOLGATE_LIVE_INSTAGRAM_IMAGE_URL", "")


@pytest.mark.skipif(
    not (LIVE_TOKEN and LIVE_USER and LIVE_IMAGE_URL),
    reason="live Instagram test: set SCHOOLGATE_LIVE_INSTAGRAM_TOKEN, SCHOOLGATE_LIVE_INSTAGRAM_USER_ID "
    "and SCHOOLGATE_LIVE_INSTAGRAM_IMAGE_URL (a public JPEG) for a test account to run it",
)
def test_it_publishes_finds_and_deletes_on_a_real_account():
    connector = InstagramConnector(Credentials(data={"ig_user_id": LIVE_USER, "access_token": LIVE_TOKEN}))
    key = f"live-{dt.datetime.now(dt.UTC).timestamp()}"
    assert connector.identity().remote_id == LIVE_USER
    item = MediaItem(data=b"", mime_type="image/jpeg", alt_text="Schoolgate test image.", public_url=LIVE_IMAGE_URL)
    published = connector.publish("Schoolgate live connector test; this post deletes itself.", media=[item], key=key)
    try:
        found = connector.find_published(key)
        assert found is not None and found.remote_id == published.remote_id
        assert connector.fetch_replies(published.remote_id) == []
    finally:
        connector.delete_own(published.remote_id)
