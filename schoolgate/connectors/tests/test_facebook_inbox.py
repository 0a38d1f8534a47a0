"""The Facebook connector's inbox (RS-MON-2) and comment moderation (RS-ABU-1), against recorded Graph API exchanges
(tests/recordings/facebook/read_inbox*.json, unhide.json, deleted_comment.json)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.cache import cache
from django.utils import timezone

from schoolgate.connectors.base import (
    Capability,
    ConnectorError,
    Credentials,
    ItemGone,
    ItemKind,
    RemoteItem,
    RemoteMedia,
)
from schoolgate.connectors.facebook import connector as facebook
from schoolgate.connectors.facebook.connector import FacebookConnector
from schoolgate.connectors.tests.replay import replaying

PAGE_ID = "104567890123456"
POST_A, POST_B, POST_GONE = (f"{PAGE_ID}_12210000000000000{n}" for n in (1, 2, 3))
NOW = dt.datetime(2026, 11, 3, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fixed_now(monkeypatch):
    cache.clear()  # usage lockouts live in the cache
    monkeypatch.setattr(timezone, "now", lambda: NOW)  # the first read goes back three days from here
    yield
    cache.clear()


def connect() -> FacebookConnector:
    return FacebookConnector(Credentials(data={"page_id": PAGE_ID, "access_token": "EAAPageToken-hillside"}))


def comment(remote_id: str = "122100000000000001_1002") -> RemoteItem:
    return RemoteItem(
        remote_id=remote_id,
        author_id="7000000000000002",
        author_handle="Alex Neighbour",
        text="",
        created_at=dt.datetime(2026, 11, 3, tzinfo=dt.UTC),
        kind=ItemKind.COMMENT.value,
        root_id=POST_A,
    )


def test_it_says_how_each_kind_of_item_reaches_schoolgate():
    reads = FacebookConnector.reads
    assert reads[ItemKind.COMMENT].how == "poll and push"
    assert reads[ItemKind.MESSAGE].how == "not available" and "pages_messaging" in reads[ItemKind.MESSAGE].note
    assert reads[ItemKind.MENTION].how == "not available"
    assert ItemKind.REPLY not in reads  # Facebook has comments, not replies
    assert FacebookConnector.can(Capability.UNHIDE)


@pytest.mark.clause("RS-MON-2")
def test_it_reads_comments_post_by_post_and_then_only_what_is_new():
    with replaying(FacebookConnector, "facebook/read_inbox") as replay:
        first = connect().read_inbox(cursor="", posts=[POST_A, POST_B, POST_GONE])
        again = connect().read_inbox(cursor=first.cursor, posts=[POST_A, POST_B])
        restarted = connect().read_inbox(cursor=json.loads(json.dumps(first.cursor)), posts=[POST_A, POST_B])
    assert [(i.remote_id, i.kind, i.root_id, i.in_reply_to) for i in first.items] == [
        ("122100000000000001_1001", ItemKind.COMMENT, POST_A, POST_A),
        ("122100000000000001_1002", ItemKind.COMMENT, POST_A, "122100000000000001_1001"),
        ("122100000000000001_1003", ItemKind.COMMENT, POST_A, POST_A),
    ]
    opening, reply, private = first.items
    assert (opening.author_id, opening.author_handle, opening.text) == (
        "7000000000000001",
        "Sam Parent",
        "Lovely! Which song was it?",
    )
    assert opening.created_at == dt.datetime(2026, 11, 3, 9, 15, 2, tzinfo=dt.UTC)
    assert opening.url == f"https://www.facebook.com/{PAGE_ID}/posts/122100000000000001?comment_id=1001"
    assert opening.media == (
        RemoteMedia(url="https://scontent.xx.fbcdn.net/v/t39.1997-6/thumbs.png", alt_text="A thumbs up"),
    )
    assert opening.raw["attachment"]["type"] == "photo"  # Meta's own record, kept as evidence
    assert reply.hidden and reply.author_handle == "Alex Neighbour"
    assert private.author_id == ""  # Meta leaves out "from" when it may not share who wrote it
    assert not first.more
    # The first read went back three days, never further; the deleted post is dropped from the cursor.
    first_query = replay.requests[0].url.params
    assert first_query["since"] == str(int((NOW - dt.timedelta(days=3)).timestamp()))
    assert "access_token" not in str(replay.requests[0].url)  # the token travels in a header
    assert set(json.loads(first.cursor)["posts"]) == {POST_A, POST_B}

    assert again.items == [] and again.cursor == first.cursor  # the overlap comes back and is recognised
    assert [(i.remote_id, i.root_id, i.author_handle) for i in restarted.items] == [
        ("122100000000000001_1005", POST_A, "Jo Carer"),
        ("122100000000000002_2001", POST_B, "Pat Guardian"),
    ]


@pytest.mark.clause("RS-MON-2")
def test_it_reads_a_busy_post_on_over_several_reads(monkeypatch):
    monkeypatch.setattr(facebook, "INBOX_PAGES_PER_POST", 1)
    with replaying(FacebookConnector, "facebook/read_inbox_busy_post"):
        first = connect().read_inbox(cursor="", posts=[POST_A])
        second = connect().read_inbox(cursor=first.cursor, posts=[POST_A])
    assert first.more and [i.remote_id for i in first.items] == ["122100000000000001_1001"]
    assert second.more and [i.remote_id for i in second.items] == ["122100000000000001_1002"]


@pytest.mark.clause("RS-MON-2")
def test_it_waits_as_long_as_meta_says_when_the_page_is_throttled():
    with replaying(FacebookConnector, "facebook/read_inbox_throttled"), pytest.raises(ConnectorError) as raised:
        connect().read_inbox(cursor="", posts=[POST_A])
    assert not raised.value.permanent and raised.value.retry_after == 5 * 60
    assert "rate limit" in raised.value.message and "(#32) Page request limit reached" in raised.value.message


@pytest.mark.clause("RS-MON-2")
def test_it_reports_an_expired_token_while_reading_as_permanent():
    with replaying(FacebookConnector, "facebook/read_inbox_expired_token"), pytest.raises(ConnectorError) as raised:
        connect().read_inbox(cursor="", posts=[POST_A])
    assert raised.value.permanent and "connect the account again" in raised.value.message


@pytest.mark.clause("RS-MON-2")
@pytest.mark.parametrize(
    ("scenario", "says"),
    [
        ("facebook/read_inbox_malformed_json", "Facebook answered with JSON it could not read"),
        ("facebook/read_inbox_html", "Facebook answered with a web page instead of the data"),
        ("facebook/read_inbox_not_a_list", "not a list of comments"),
    ],
)
def test_it_explains_an_answer_it_cannot_read(scenario, says):
    with replaying(FacebookConnector, scenario), pytest.raises(ConnectorError) as raised:
        connect().read_inbox(cursor="", posts=[POST_A])
    assert says in raised.value.message and "<" not in raised.value.message
    assert not raised.value.permanent  # worth trying again later


def test_it_refuses_a_cursor_it_did_not_write():
    with pytest.raises(ConnectorError, match="not a Facebook inbox cursor") as raised:
        connect().read_inbox(cursor="min_id=5", posts=[POST_A])
    assert raised.value.permanent


@pytest.mark.clause("RS-ABU-1")
def test_it_shows_a_hidden_comment_again():
    with replaying(FacebookConnector, "facebook/unhide") as replay:
        connect().unhide(comment())
    assert replay.requests[0].method == "POST"


@pytest.mark.clause("RS-ABU-1")
def test_it_says_a_comment_deleted_on_facebook_is_gone_whatever_it_was_asked_to_do():
    with replaying(FacebookConnector, "facebook/deleted_comment"):
        connector = connect()
        for act in (
            connector.hide,
            connector.unhide,
            connector.delete_others,
            lambda item: connector.reply(item, "Thank you for asking.", key="reply-9"),
        ):
            with pytest.raises(ItemGone) as raised:
                act(comment())
            assert raised.value.permanent and "no longer exists" in raised.value.message
            assert "code 100/33" in raised.value.message
