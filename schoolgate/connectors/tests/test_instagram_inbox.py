"""The Instagram connector's inbox (RS-MON-2) and comment moderation (RS-ABU-1), against recorded Graph API exchanges
(tests/recordings/instagram/read_inbox*.json, unhide.json, deleted_comment.json)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.cache import cache
from django.utils import timezone

from schoolgate.connectors.base import Capability, ConnectorError, Credentials, ItemGone, ItemKind, RemoteItem
from schoolgate.connectors.facebook import graph
from schoolgate.connectors.instagram.connector import InstagramConnector
from schoolgate.connectors.tests.replay import replaying

IG_USER = "17841400000000001"
MEDIA_A, MEDIA_B, MEDIA_GONE = "17920000000000001", "17920000000000002", "17920000000000003"
NOW = dt.datetime(2026, 11, 4, 18, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fixed_now(monkeypatch):
    cache.clear()  # usage lockouts live in the cache
    monkeypatch.setattr(timezone, "now", lambda: NOW)  # the first read goes back three days from here
    yield
    cache.clear()


def connect() -> InstagramConnector:
    return InstagramConnector(Credentials(data={"ig_user_id": IG_USER, "access_token": "EAALongUserToken-ig"}))


def comment(remote_id: str = "17850000000000002") -> RemoteItem:
    return RemoteItem(
        remote_id=remote_id,
        author_id="17841400000000078",
        author_handle="@local_cafe",
        text="",
        created_at=dt.datetime(2026, 11, 4, tzinfo=dt.UTC),
        in_reply_to="17850000000000001",
        kind=ItemKind.COMMENT.value,
        root_id=MEDIA_A,
    )


def test_it_says_how_each_kind_of_item_reaches_schoolgate():
    reads = InstagramConnector.reads
    assert reads[ItemKind.COMMENT].how == "poll and push"
    assert reads[ItemKind.MENTION].how == "push" and "private accounts" in reads[ItemKind.MENTION].note
    assert (
        reads[ItemKind.MESSAGE].how == "not available" and "instagram_manage_messages" in reads[ItemKind.MESSAGE].note
    )
    assert InstagramConnector.can(Capability.UNHIDE)


@pytest.mark.clause("RS-MON-2")
def test_it_reads_comments_and_replies_per_post_and_then_only_what_is_new():
    with replaying(InstagramConnector, "instagram/read_inbox") as replay:
        first = connect().read_inbox(cursor="", posts=[MEDIA_A, MEDIA_B, MEDIA_GONE])
        again = connect().read_inbox(cursor=first.cursor, posts=[MEDIA_A, MEDIA_B])
        restarted = connect().read_inbox(cursor=first.cursor, posts=[MEDIA_A, MEDIA_B])
    # Oldest first; the comments from before the first read's three days are left out.
    assert [(i.remote_id, i.kind, i.root_id, i.in_reply_to) for i in first.items] == [
        ("17850000000000001", ItemKind.COMMENT, MEDIA_A, MEDIA_A),
        ("17850000000000002", ItemKind.COMMENT, MEDIA_A, "17850000000000001"),
        ("17850000000000003", ItemKind.COMMENT, MEDIA_A, MEDIA_A),
    ]
    opening, reply, spam = first.items
    assert (opening.author_id, opening.author_handle, opening.text) == (
        "17841400000000077",
        "@grandma_pat",
        "So colourful!",
    )
    assert opening.created_at == dt.datetime(2026, 11, 4, 15, 1, 9, tzinfo=dt.UTC)
    assert "replies" not in opening.raw and opening.raw["username"] == "grandma_pat"  # evidence, replies apart
    assert reply.hidden and reply.author_handle == "@local_cafe"
    assert spam.text == "buy followers at spam.example"
    assert all("access_token" not in str(request.url) for request in replay.requests)  # token in a header only
    assert set(json.loads(first.cursor)["media"]) == {MEDIA_A, MEDIA_B}  # the deleted post is dropped

    assert again.items == [] and again.cursor == first.cursor
    # A new comment, a new reply to a comment read before, and a first comment on the other post.
    assert [(i.remote_id, i.root_id, i.in_reply_to, i.author_handle) for i in restarted.items] == [
        ("17850000000000004", MEDIA_A, MEDIA_A, "@mr_patel_gov"),
        ("17850000000000005", MEDIA_A, "17850000000000001", "@uncle_dev"),
        ("17860000000000001", MEDIA_B, MEDIA_B, "@sam_parent"),
    ]


@pytest.mark.clause("RS-MON-2")
def test_it_holds_off_when_the_app_is_throttled():
    with replaying(InstagramConnector, "instagram/read_inbox_throttled"), pytest.raises(ConnectorError) as raised:
        connect().read_inbox(cursor="", posts=[MEDIA_A])
    assert not raised.value.permanent and raised.value.retry_after == graph.DEFAULT_THROTTLE_WAIT
    assert "(#4) Application request limit reached" in raised.value.message


@pytest.mark.clause("RS-MON-2")
def test_it_reports_an_expired_token_while_reading_as_permanent():
    with replaying(InstagramConnector, "instagram/read_inbox_expired_token"), pytest.raises(ConnectorError) as raised:
        connect().read_inbox(cursor="", posts=[MEDIA_A])
    assert raised.value.permanent and "connect the account again" in raised.value.message


@pytest.mark.clause("RS-MON-2")
@pytest.mark.parametrize(
    ("scenario", "says"),
    [
        ("instagram/read_inbox_malformed_json", "Instagram answered with JSON it could not read"),
        ("instagram/read_inbox_html", "Instagram answered with a web page instead of the data"),
    ],
)
def test_it_explains_an_answer_it_cannot_read(scenario, says):
    with replaying(InstagramConnector, scenario), pytest.raises(ConnectorError) as raised:
        connect().read_inbox(cursor="", posts=[MEDIA_A])
    assert says in raised.value.message and "<" not in raised.value.message
    assert not raised.value.permanent


def test_it_refuses_a_cursor_it_did_not_write():
    with pytest.raises(ConnectorError, match="inbox cursor Schoolgate wrote"):
        connect().read_inbox(cursor='{"v": 2}', posts=[MEDIA_A])


@pytest.mark.clause("RS-ABU-1")
def test_it_shows_a_hidden_comment_again():
    with replaying(InstagramConnector, "instagram/unhide") as replay:
        connect().unhide(comment())
    assert len(replay.requests) == 1


@pytest.mark.clause("RS-ABU-1")
def test_it_says_a_comment_deleted_on_instagram_is_gone_whatever_it_was_asked_to_do():
    with replaying(InstagramConnector, "instagram/deleted_comment"):
        connector = connect()
        for act in (
            connector.hide,
            connector.unhide,
            connector.delete_others,
            lambda item: connector.reply(item, "Thank you!", key="reply-3"),
        ):
            with pytest.raises(ItemGone) as raised:
                act(comment())
            assert raised.value.permanent and "Instagram says it no longer exists" in raised.value.message
