"""The Mastodon connector's inbox side against a real mastodon-mock server (see conftest_mastodon.py)."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from schoolgate.connectors.base import (
    Capability,
    ConnectorError,
    Credentials,
    ItemGone,
    ItemKind,
    RemoteItem,
    RemoteMedia,
)
from schoolgate.connectors.mastodon import connector as mastodon_connector
from schoolgate.connectors.mastodon.connector import INBOX_PAGE, MastodonConnector
from schoolgate.connectors.tests.conftest_mastodon import _local_http

pytestmark = pytest.mark.clause("RS-MON-2")

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNk+A8AAQUBAScY42YAAAAASUVORK5CYII=")
NOTIFICATIONS = "/api/v1/notifications"


def connect(instance, username: str = "hillside") -> MastodonConnector:
    credentials = Credentials(data={"access_token": instance.token(username), "instance": instance.base_url})
    return MastodonConnector(credentials)


def our_post(instance, text: str = "Sports day is on Friday.") -> str:
    return connect(instance).publish(text, key=f"delivery-{text}").remote_id


def relationship(instance, account_id: str) -> dict:
    return instance.client("hillside").account_relationships(account_id)[0]


def test_it_says_how_each_kind_reaches_schoolgate():
    assert set(MastodonConnector.reads) == {ItemKind.REPLY, ItemKind.MENTION, ItemKind.MESSAGE}
    assert all(way.how == "poll" for way in MastodonConnector.reads.values())
    assert "mentions" in MastodonConnector.reads[ItemKind.REPLY].note
    for capability in (Capability.UNBLOCK, Capability.UNMUTE, Capability.READ_MESSAGES):
        assert MastodonConnector.can(capability)
    for missing in (Capability.HIDE, Capability.UNHIDE, Capability.DELETE_OTHERS):
        assert not MastodonConnector.can(missing)


def test_it_reads_replies_mentions_and_messages_oldest_first(mastodon_instance):
    post = our_post(mastodon_instance)
    parent = mastodon_instance.client("parent")
    picture = parent.media_post(PNG, mime_type="image/png", description="The muddy field", file_name="field.png")
    reply = parent.status_post("@hillside Is it still on if it rains?", in_reply_to_id=post, media_ids=[picture])
    mention = parent.status_post("Well done @hillside on the concert!")
    message = parent.status_post("@hillside My child is being bullied.", visibility="direct")

    page = connect(mastodon_instance).read_inbox(cursor="", posts=[post])

    assert [item.remote_id for item in page.items] == [str(reply["id"]), str(mention["id"]), str(message["id"])]
    first, second, third = page.items
    assert (first.kind, first.root_id, first.in_reply_to) == (ItemKind.REPLY, post, post)
    assert (second.kind, second.root_id) == (ItemKind.MENTION, "")
    assert (third.kind, third.root_id) == (ItemKind.MESSAGE, str(message["id"]))
    assert first.text == "@hillside Is it still on if it rains?"
    assert first.author_handle == "@parent" and first.author_name == "A Parent"
    assert first.author_id == str(reply["account"]["id"])
    assert first.url == reply["url"]
    assert first.media == (RemoteMedia(url=picture["url"], mime_type="image/png", alt_text="The muddy field"),)
    # The status as Mastodon sent it, as JSON: dates as text.
    assert json.loads(json.dumps(first.raw))["id"] == str(reply["id"])
    assert first.raw["created_at"].startswith(reply["created_at"].date().isoformat())
    assert first.raw["visibility"] == "public" and third.raw["visibility"] == "direct"
    assert page.more is False


def test_it_reads_nothing_twice_and_what_came_later_after_a_persisted_cursor(mastodon_instance):
    post = our_post(mastodon_instance)
    parent = mastodon_instance.client("parent")
    first = parent.status_post("@hillside What time does it start?", in_reply_to_id=post)
    connector = connect(mastodon_instance)
    page = connector.read_inbox(cursor="", posts=[post])
    assert [item.remote_id for item in page.items] == [str(first["id"])]

    again = connector.read_inbox(cursor=page.cursor, posts=[post])
    assert again.items == [] and again.cursor == page.cursor

    later = mastodon_instance.client("troll").status_post("@hillside boring", in_reply_to_id=post)
    restarted = connect(mastodon_instance).read_inbox(cursor=page.cursor, posts=[post])
    assert [item.remote_id for item in restarted.items] == [str(later["id"])]
    assert restarted.items[0].author_handle == "@troll"
    # The same cursor gives the same items.
    assert connector.read_inbox(cursor=page.cursor, posts=[post]).items == restarted.items


def test_it_reads_back_only_a_few_days_on_a_first_run(mastodon_instance, monkeypatch):
    parent = mastodon_instance.client("parent")
    parent.status_post("@hillside an old question")
    # Everything already there is older than the first read's window.
    monkeypatch.setattr(mastodon_connector, "FIRST_READ_BACK", dt.timedelta(0))
    connector = connect(mastodon_instance)
    first = connector.read_inbox(cursor="")
    assert first.items == [] and first.more is False

    new = parent.status_post("@hillside a new question")
    assert [item.remote_id for item in connector.read_inbox(cursor=first.cursor).items] == [str(new["id"])]


def test_it_pages_upwards_from_the_cursor_when_more_arrived_than_one_page(mastodon_instance):
    connector = connect(mastodon_instance)
    start = connector.read_inbox(cursor="").cursor
    parent = mastodon_instance.client("parent")
    sent = [str(parent.status_post(f"@hillside question {n}")["id"]) for n in range(INBOX_PAGE + 3)]

    first = connector.read_inbox(cursor=start)
    assert first.more is True
    assert [item.remote_id for item in first.items] == sent[:INBOX_PAGE]  # the oldest first
    second = connector.read_inbox(cursor=first.cursor)
    assert second.more is False
    assert [item.remote_id for item in second.items] == sent[INBOX_PAGE:]
    assert connector.read_inbox(cursor=second.cursor).items == []


def test_it_reads_mentions_the_notification_policy_filtered(mastodon_instance):
    # Since Mastodon 4.3 the policy can hold back mentions from people the account does not follow.
    _local_http().patch(
        f"{mastodon_instance.base_url}/api/v2/notifications/policy",
        headers={"Authorization": f"Bearer {mastodon_instance.token('hillside')}"},
        json={"for_not_following": "filter"},
    ).raise_for_status()
    held = mastodon_instance.client("parent").status_post("@hillside Is the school open tomorrow?")
    assert mastodon_instance.client("hillside").notifications(types=["mention"]) == []

    page = connect(mastodon_instance).read_inbox(cursor="")

    assert [item.remote_id for item in page.items] == [str(held["id"])]


def test_it_skips_a_mention_whose_status_was_deleted_but_moves_past_it(mastodon_instance):
    parent = mastodon_instance.client("parent")
    connector = connect(mastodon_instance)
    start = connector.read_inbox(cursor="").cursor
    gone = parent.status_post("@hillside oops, wrong account")
    kept = parent.status_post("@hillside Is lunch included?")
    parent.status_delete(gone["id"])

    page = connector.read_inbox(cursor=start)

    assert [item.remote_id for item in page.items] == [str(kept["id"])]
    assert connector.read_inbox(cursor=page.cursor).items == []


def test_it_passes_on_a_rate_limit_with_when_to_retry(mastodon_instance):
    mastodon_instance.fail(path=NOTIFICATIONS, methods=("GET",), kind="ratelimit")  # 429, Retry-After: 300
    with pytest.raises(ConnectorError) as raised:
        connect(mastodon_instance).read_inbox(cursor="")
    assert not raised.value.permanent
    assert raised.value.status == 429
    assert raised.value.retry_after == 300


def test_it_explains_a_malformed_answer_and_returns_nothing(mastodon_instance):
    mastodon_instance.client("parent").status_post("@hillside hello")
    mastodon_instance.fail(path=NOTIFICATIONS, methods=("GET",), kind="malformed")
    with pytest.raises(ConnectorError, match="could not be read") as raised:
        connect(mastodon_instance).read_inbox(cursor="")
    assert not raised.value.permanent
    assert "truncated" not in raised.value.message  # never the body itself


def test_it_refuses_a_cursor_it_did_not_write(mastodon_instance):
    with pytest.raises(ConnectorError, match="not a Mastodon inbox cursor") as raised:
        connect(mastodon_instance).read_inbox(cursor="12345")
    assert raised.value.permanent


def test_it_unblocks_and_unmutes(mastodon_instance):
    troll = mastodon_instance.client("troll").account_verify_credentials()
    troll_id = str(troll["id"])
    connector = connect(mastodon_instance)
    connector.block(troll_id)
    connector.mute(troll_id)
    assert relationship(mastodon_instance, troll_id)["blocking"]
    assert relationship(mastodon_instance, troll_id)["muting"]

    connector.unblock(troll_id)
    assert not relationship(mastodon_instance, troll_id)["blocking"]
    assert relationship(mastodon_instance, troll_id)["muting"]
    connector.unmute(troll_id)
    assert not relationship(mastodon_instance, troll_id)["muting"]


def test_it_says_when_the_status_to_answer_was_deleted(mastodon_instance):
    parent = mastodon_instance.client("parent")
    status = parent.status_post("@hillside a question")
    item = RemoteItem(
        remote_id=str(status["id"]),
        author_id=str(status["account"]["id"]),
        author_handle="@parent",
        text="",
        created_at=status["created_at"],
    )
    parent.status_delete(status["id"])
    with pytest.raises(ItemGone) as raised:
        connect(mastodon_instance).reply(item, "@parent Thank you.", key="reply-1")
    assert raised.value.status == 404
