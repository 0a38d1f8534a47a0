"""The X connector's inbox side against recorded X API v2 exchanges (tests/recordings/x/inbox_*.json)."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from django.utils import timezone

from schoolgate.connectors import cursors
from schoolgate.connectors.base import ConnectorError, Credentials, ItemKind, RemoteMedia
from schoolgate.connectors.tests.replay import replaying
from schoolgate.connectors.x.connector import XConnector

pytestmark = pytest.mark.clause("RS-MON-2")

ME = "1500000000000000001"
OUR_POST = "1860000000000000001"
NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)  # the recordings' first read starts three days before
AFTER_FIRST_READ = cursors.dump({"since_id": "1860000000000000023"})


@pytest.fixture(autouse=True)
def _now(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def connect() -> XConnector:
    return XConnector(Credentials(data={"access_token": "x-user-access-token", "user_id": ME}))


def test_it_says_reads_are_paid_and_messages_not_read():
    reads = XConnector.reads
    for kind in (ItemKind.REPLY, ItemKind.MENTION, ItemKind.QUOTE):
        assert reads[kind].how == "paid"
        assert "per post" in reads[kind].note and "pay-per-use" in reads[kind].note
    assert reads[ItemKind.MESSAGE].how == "not available"
    assert ItemKind.COMMENT not in reads


def test_it_reads_a_bounded_first_page_oldest_first_then_nothing_again():
    with replaying(XConnector, "x/inbox_first_read") as replay:
        connector = connect()
        page = connector.read_inbox(cursor="", posts=[OUR_POST])
        again = connector.read_inbox(cursor=page.cursor, posts=[OUR_POST])

    assert replay.requests[0].url.params["start_time"] == "2026-11-29T09:00:00Z"
    assert "since_id" not in replay.requests[0].url.params
    reply, mention, quote = page.items
    assert [reply.kind, mention.kind, quote.kind] == [ItemKind.REPLY, ItemKind.MENTION, ItemKind.QUOTE]
    assert (reply.remote_id, reply.root_id, reply.in_reply_to) == ("1860000000000000021", OUR_POST, OUR_POST)
    assert mention.root_id == "1860000000000000022" and quote.root_id == OUR_POST  # the post it quotes
    assert reply.author_id == "2000000000000000001"
    assert (reply.author_handle, reply.author_name) == ("@parent_jo", "Jo Parent")
    assert reply.text == "@hillsideprimary Is it still on? The field looks like this"
    assert reply.created_at == dt.datetime(2026, 11, 30, 8, 1, tzinfo=dt.UTC)
    assert reply.url == "https://x.com/i/web/status/1860000000000000021"
    assert reply.media == (
        RemoteMedia(
            url="https://pbs.twimg.com/media/GdFieldMud1.jpg",
            mime_type="image/jpeg",
            alt_text="The school field under water",
        ),
    )
    assert mention.media[0].mime_type == "video/mp4" and mention.media[0].url.endswith("/clip.jpg")
    # The post as X sent it, with the author and media it refers to, as JSON.
    assert json.loads(json.dumps(reply.raw))["conversation_id"] == OUR_POST
    assert reply.raw["includes"]["users"][0]["username"] == "parent_jo"
    assert page.more is False
    assert cursors.load(page.cursor, network="X") == {"v": 1, "since_id": "1860000000000000023"}

    assert again.items == [] and again.more is False
    assert again.cursor == page.cursor  # never backwards


def test_it_reads_later_mentions_page_by_page_from_a_persisted_cursor():
    with replaying(XConnector, "x/inbox_later_pages") as replay:
        newest = connect().read_inbox(cursor=AFTER_FIRST_READ, posts=[OUR_POST])
        older = connect().read_inbox(cursor=newest.cursor, posts=[OUR_POST])  # a restart in between
        after = connect().read_inbox(cursor=older.cursor, posts=[OUR_POST])

    assert [item.remote_id for item in newest.items] == ["1860000000000000032", "1860000000000000033"]
    assert newest.more is True
    assert [item.remote_id for item in older.items] == ["1860000000000000031"]
    # A reply further down our post's conversation is still a reply to our post.
    assert older.items[0].kind == ItemKind.REPLY and older.items[0].root_id == OUR_POST
    assert older.more is False
    assert replay.requests[1].url.params["since_id"] == "1860000000000000023"
    assert replay.requests[2].url.params["since_id"] == "1860000000000000033"
    assert "pagination_token" not in replay.requests[2].url.params
    assert after.items == [] and after.cursor == older.cursor


def test_it_passes_on_a_rate_limit_with_when_to_retry(monkeypatch):
    monkeypatch.setattr(time, "time", lambda: 1_793_000_000 - 90)  # 90 s before the recorded reset
    with replaying(XConnector, "x/inbox_rate_limited"), pytest.raises(ConnectorError) as raised:
        connect().read_inbox(cursor=AFTER_FIRST_READ, posts=[OUR_POST])
    assert not raised.value.permanent
    assert raised.value.status == 429
    assert raised.value.retry_after == 90.0


def test_it_explains_answers_it_cannot_read_and_returns_nothing():
    with replaying(XConnector, "x/inbox_unreadable"):
        connector = connect()
        with pytest.raises(ConnectorError, match="could not be read") as malformed:
            connector.read_inbox(cursor=AFTER_FIRST_READ, posts=[OUR_POST])
        with pytest.raises(ConnectorError, match="X answered with a web page") as html:
            connector.read_inbox(cursor=AFTER_FIRST_READ, posts=[OUR_POST])
        with pytest.raises(ConnectorError, match="does not recognise") as wrong_shape:
            connector.read_inbox(cursor=AFTER_FIRST_READ, posts=[OUR_POST])
    for raised in (malformed, html, wrong_shape):
        assert not raised.value.permanent
    assert "same q" not in malformed.value.message and "technically wrong" not in html.value.message


def test_it_refuses_a_cursor_it_did_not_write():
    with pytest.raises(ConnectorError, match="not an X inbox cursor") as raised:
        connect().read_inbox(cursor="1860000000000000023")
    assert raised.value.permanent
