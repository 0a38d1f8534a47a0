"""The Bluesky connector against a real local Bluesky network (PDS + AppView, tools/bsky-peer)."""

from __future__ import annotations

import datetime as dt
import io
import socket
import time

import pytest
from atproto import Client, models
from atproto_client.exceptions import RateLimitExceededError
from atproto_client.request import Response
from PIL import Image

from schoolgate.connectors.base import Capability, ConnectorError, MediaItem, NotSupported, RemoteItem
from schoolgate.connectors.bluesky.connector import BlueskyConnector, connector_error, record_key
from schoolgate.connectors.http import with_retries
from schoolgate.connectors.registry import connector_class

APPVIEW_WAIT = 20  # seconds; the AppView indexes asynchronously (35 ms to over a second here)
CREATED = dt.datetime(2026, 11, 22, 9, 30, tzinfo=dt.UTC)


def key(name: str) -> str:
    return f"{name}@{CREATED.isoformat()}"


def eventually(check, *, what: str):
    """Poll until check() returns something truthy: the AppView catches up on its own time."""
    deadline = time.monotonic() + APPVIEW_WAIT
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"The AppView did not show {what} within {APPVIEW_WAIT} s.")
        time.sleep(0.1)


def image(color: tuple[int, int, int], fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, fmt)
    return buffer.getvalue()


def sdk_client(peer, account) -> Client:
    return peer.client(account.session)


def get_record(client: Client, uri: str):
    repo, collection, rkey = uri.removeprefix("at://").split("/")
    return client.com.atproto.repo.get_record(
        models.ComAtprotoRepoGetRecord.Params(repo=repo, collection=collection, rkey=rkey)
    )


def reply_from(client: Client, did: str, text: str, *, to: str) -> str:
    parent = client.get_posts([to]).posts[0]
    parent_ref = models.ComAtprotoRepoStrongRef.Main(uri=parent.uri, cid=parent.cid)
    root_ref = parent.record.reply.root if parent.record.reply else parent_ref
    return client.send_post(
        text, profile_identify=did, reply_to=models.AppBskyFeedPost.ReplyRef(root=root_ref, parent=parent_ref)
    ).uri


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def school(bsky_peer):
    account = bsky_peer.create_account("school")
    credentials = BlueskyConnector.connect_with_password(
        handle=account.handle, password=account.app_password, service_url=bsky_peer.pds_url
    )
    return account, BlueskyConnector(credentials)


@pytest.fixture
def parent(bsky_peer):
    account = bsky_peer.create_account("parent")
    return account, sdk_client(bsky_peer, account)


@pytest.fixture
def thread(bsky_peer, school, parent):
    """Our post with a parent's reply under it, once the AppView has both."""
    _, connector = school
    parent_account, parent_client = parent
    post = connector.publish("Sports day is on Friday.", key=key("sports-day"))
    eventually(lambda: parent_client.get_posts([post.remote_id]).posts, what="the school's post")
    reply_uri = reply_from(parent_client, parent_account.did, "Will it be on the field?", to=post.remote_id)
    replies = eventually(lambda: connector.fetch_replies(post.remote_id), what="the reply")
    return post, replies[0], reply_uri


def test_it_is_the_registered_bluesky_connector():
    assert connector_class("bluesky") is BlueskyConnector


def test_it_connects_with_an_app_password(bsky_peer, school):
    account, connector = school
    data = connector.credentials.data
    assert (data["did"], data["handle"], data["service_url"]) == (account.did, account.handle, bsky_peer.pds_url)
    assert account.app_password not in str(data)
    assert connector.credentials.expires_at > dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    assert connector.find_published(key("nothing-yet")) is None  # the stored session works


def test_it_refuses_a_wrong_password_with_a_permanent_error(bsky_peer):
    account = bsky_peer.create_account("school")
    with pytest.raises(ConnectorError) as caught:
        BlueskyConnector.connect_with_password(
            handle=account.handle, password="wrong-wrong-wrong", service_url=bsky_peer.pds_url
        )
    assert caught.value.permanent
    assert f"did not accept the handle '{account.handle}'" in caught.value.message


def test_it_refuses_the_main_password(bsky_peer):
    account = bsky_peer.create_account("school")
    with pytest.raises(ConnectorError) as caught:
        BlueskyConnector.connect_with_password(
            handle=account.handle, password=account.password, service_url=bsky_peer.pds_url
        )
    assert caught.value.permanent
    assert "main password" in caught.value.message


def test_it_publishes_text(bsky_peer, school):
    account, connector = school
    published = connector.publish("Welcome back! Term starts on Monday.", key=key("welcome"))
    rkey = record_key(key("welcome"))
    assert published.remote_id == f"at://{account.did}/app.bsky.feed.post/{rkey}"
    assert published.url == f"https://bsky.app/profile/{account.did}/post/{rkey}"
    record = get_record(sdk_client(bsky_peer, account), published.remote_id)
    assert record.value.text == "Welcome back! Term starts on Monday."


def test_it_publishes_two_images_with_alt_text(bsky_peer, school):
    account, connector = school
    photos = [
        MediaItem(data=image((200, 30, 60)), mime_type="image/png", alt_text="A red banner", filename="a.png"),
        MediaItem(data=image((20, 90, 200), "JPEG"), mime_type="image/jpeg", alt_text="A blue sky", filename="b.jpg"),
    ]
    published = connector.publish("Our art exhibition", media=photos, key=key("art"))
    client = sdk_client(bsky_peer, account)
    embedded = get_record(client, published.remote_id).value.embed.images
    assert [picture.alt for picture in embedded] == ["A red banner", "A blue sky"]
    assert (embedded[0].aspect_ratio.width, embedded[0].aspect_ratio.height) == (64, 48)
    for photo, picture in zip(photos, embedded, strict=True):
        blob = client.com.atproto.sync.get_blob(
            models.ComAtprotoSyncGetBlob.Params(did=account.did, cid=picture.image.ref.link)
        )
        assert blob == photo.data
        assert picture.image.mime_type == photo.mime_type


def test_it_posts_once_for_the_same_key(bsky_peer, school):
    account, connector = school
    first = connector.publish("Parents' evening: book a slot.", key=key("evening"))
    # A retry after a crash, even from a fresh connector and with edited text, finds the first post.
    again = BlueskyConnector(connector.credentials).publish("Parents' evening (retry)", key=key("evening"))
    assert again == first
    assert connector.find_published(key("evening")) == first
    posts = sdk_client(bsky_peer, account).com.atproto.repo.list_records(
        models.ComAtprotoRepoListRecords.Params(repo=account.did, collection="app.bsky.feed.post")
    )
    assert [post.value.text for post in posts.records] == ["Parents' evening: book a slot."]


def test_it_derives_record_keys_from_the_delivery_not_the_attempt():
    assert record_key(key("delivery-1")) == record_key(key("delivery-1"))
    assert record_key(key("delivery-1")) != record_key(key("delivery-2"))
    later = f"delivery-1@{(CREATED + dt.timedelta(seconds=1)).isoformat()}"
    assert record_key(later) > record_key(key("delivery-1"))  # TIDs sort by time
    tid = record_key(key("delivery-1"))
    assert len(tid) == 13 and tid[0] in "234567abcdefghij"
    with pytest.raises(ValueError, match="creation time"):
        record_key("delivery-1")


def test_it_reads_replies(thread, parent):
    post, reply, reply_uri = thread
    parent_account, _ = parent
    assert reply.remote_id == reply_uri
    assert (reply.author_id, reply.author_handle) == (parent_account.did, parent_account.handle)
    assert reply.text == "Will it be on the field?"
    assert reply.in_reply_to == post.remote_id
    assert reply.created_at.tzinfo is not None
    assert reply.url.startswith(f"https://bsky.app/profile/{parent_account.did}/post/")
    assert not reply.hidden


def test_it_replies_to_a_reply(bsky_peer, school, thread):
    account, connector = school
    post, reply, _ = thread
    answer = connector.reply(reply, "Yes, weather permitting.", key=key("answer"))
    assert connector.reply(reply, "Yes, weather permitting.", key=key("answer")) == answer  # once per key
    record = get_record(sdk_client(bsky_peer, account), answer.remote_id).value
    assert (record.reply.root.uri, record.reply.parent.uri) == (post.remote_id, reply.remote_id)
    nested = eventually(
        lambda: [item for item in connector.fetch_replies(post.remote_id) if item.remote_id == answer.remote_id],
        what="our answer in the thread",
    )
    assert nested[0].in_reply_to == reply.remote_id


def test_it_hides_a_reply_with_the_thread_gate(bsky_peer, school, thread):
    account, connector = school
    post, reply, _ = thread
    connector.hide(reply)
    connector.hide(reply)  # hiding twice changes nothing
    rkey = post.remote_id.rsplit("/", 1)[1]
    gate = get_record(sdk_client(bsky_peer, account), f"at://{account.did}/app.bsky.feed.threadgate/{rkey}").value
    assert gate.hidden_replies == [reply.remote_id]
    assert gate.allow is None  # everyone may still reply
    eventually(
        lambda: [item for item in connector.fetch_replies(post.remote_id) if item.hidden], what="the reply as hidden"
    )


def test_it_reads_mentions(school, parent):
    account, connector = school
    parent_account, parent_client = parent
    text = f"Thank you @{account.handle} for the concert!"
    parent_client.send_post(text, profile_identify=parent_account.did, facets=parent_client.detect_facets(text))
    mentions = eventually(lambda: connector.fetch_mentions(), what="the mention")
    assert (mentions[0].text, mentions[0].author_id) == (text, parent_account.did)
    assert connector.fetch_mentions(since=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)) == []


def test_it_blocks_an_account(bsky_peer, school, parent):
    account, connector = school
    parent_account, _ = parent
    connector.block(parent_account.did)
    connector.block(parent_account.did)  # a second run finds the first block
    blocks = sdk_client(bsky_peer, account).com.atproto.repo.list_records(
        models.ComAtprotoRepoListRecords.Params(repo=account.did, collection="app.bsky.graph.block")
    )
    assert [record.value.subject for record in blocks.records] == [parent_account.did]


def test_it_mutes_an_account(bsky_peer, school, parent):
    account, connector = school
    parent_account, _ = parent
    connector.mute(parent_account.did)
    client = sdk_client(bsky_peer, account)
    eventually(
        lambda: [m for m in client.app.bsky.graph.get_mutes().mutes if m.did == parent_account.did], what="the mute"
    )


def test_it_reports_a_reply_to_the_moderation_service(thread, school):
    _, connector = school
    _, reply, _ = thread
    connector.report(reply, reason="Names a pupil.")  # the local network's Ozone accepts it


def test_it_deletes_its_own_post_but_no_one_elses(bsky_peer, school, thread):
    account, connector = school
    post, reply, _ = thread
    connector.delete_own(post.remote_id)
    assert connector.find_published(key("sports-day")) is None
    with pytest.raises(ConnectorError) as caught:
        connector.delete_own(reply.remote_id)
    assert caught.value.permanent


def test_it_says_it_cannot_delete_other_peoples_replies(school):
    _, connector = school
    assert Capability.DELETE_OTHERS not in BlueskyConnector.capabilities
    assert not BlueskyConnector.can(Capability.DELETE_OTHERS)
    item = RemoteItem(
        remote_id="at://did:plc:x/app.bsky.feed.post/3k",
        author_id="did:plc:x",
        author_handle="x",
        text="",
        created_at=CREATED,
    )
    with pytest.raises(NotSupported) as caught:
        connector.delete_others(item)
    assert caught.value.permanent
    assert "Bluesky does not allow deleting other people's comments" in caught.value.message


def test_it_treats_an_unreachable_server_as_transient_and_retries(bsky_peer, school):
    _, connector = school
    unreachable = BlueskyConnector(connector.credentials, base_url=f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(ConnectorError) as caught:
        unreachable.publish("Lost in transit", key=key("lost"))
    assert not caught.value.permanent
    assert "Could not reach Bluesky" in caught.value.message

    attempts = [unreachable, unreachable, connector]  # the network comes back on the third try
    slept = []
    published = with_retries(lambda: attempts.pop(0).publish("Retried", key=key("retried")), sleep=slept.append)
    assert slept == [1.0, 2.0]
    assert connector.find_published(key("retried")) == published


def test_it_refreshes_the_session(school):
    _, connector = school
    before = connector.credentials.data["session"]
    refreshed = connector.refresh_credentials()
    assert refreshed.data["session"] != before
    assert BlueskyConnector(refreshed).find_published(key("nothing")) is None


def test_it_reports_a_revoked_app_password_as_permanent(bsky_peer, school):
    account, connector = school
    sdk_client(bsky_peer, account).com.atproto.server.revoke_app_password(
        models.ComAtprotoServerRevokeAppPassword.Data(name="schoolgate")
    )
    with pytest.raises(ConnectorError) as caught:
        connector.refresh_credentials()
    assert caught.value.permanent
    assert "Reconnect the account" in caught.value.message


def test_it_waits_as_told_when_rate_limited():
    reset = int(time.time()) + 30
    error = RateLimitExceededError(
        Response(success=False, status_code=429, content=None, headers={"ratelimit-reset": str(reset)})
    )
    mapped = connector_error(error, doing="publishing the post")
    assert not mapped.permanent
    assert 25 <= mapped.retry_after <= 30
