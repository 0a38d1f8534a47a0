"""The Bluesky connector's inbox: reading replies, mentions and quotes, and undoing moderation, on a real network."""

from __future__ import annotations

import json
import time

import pytest
from atproto import models
from atproto_client.exceptions import BadRequestError, RateLimitExceededError
from atproto_client.request import Response

from schoolgate.connectors.base import Capability, ConnectorError, ItemGone, ItemKind, RemoteItem
from schoolgate.connectors.bluesky.connector import BlueskyConnector
from schoolgate.connectors.tests.test_bluesky import (
    closed_port,
    eventually,
    get_record,
    image,
    key,
    reply_from,
    sdk_client,
)


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
def our_post(school, parent):
    """A post of ours that the parent's AppView view already has."""
    _, connector = school
    _, parent_client = parent
    post = connector.publish("Sports day is on Friday.", key=key("sports-day"))
    eventually(lambda: parent_client.get_posts([post.remote_id]).posts, what="the school's post")
    return post


def read_until(connector, cursor: str, count: int, *, what: str):
    """The page read from `cursor` once the AppView lists `count` new items (the same cursor reads the same)."""
    return eventually(
        lambda: page if len((page := connector.read_inbox(cursor=cursor)).items) >= count else None, what=what
    )


def gate_of(bsky_peer, account, post_uri: str):
    rkey = post_uri.rsplit("/", 1)[1]
    return get_record(sdk_client(bsky_peer, account), f"at://{account.did}/app.bsky.feed.threadgate/{rkey}").value


def mention_reply(parent, account, text: str, *, to: str) -> str:
    """A reply in our thread that also @mentions us: Bluesky files it as a mention."""
    parent_account, client = parent
    parent_view = client.get_posts([to]).posts[0]
    ref = models.ComAtprotoRepoStrongRef.Main(uri=parent_view.uri, cid=parent_view.cid)
    full = f"{text} @{account.handle}"
    return client.send_post(
        full,
        profile_identify=parent_account.did,
        reply_to=models.AppBskyFeedPost.ReplyRef(root=ref, parent=ref),
        facets=client.detect_facets(full),
    ).uri


@pytest.mark.clause("RS-MON-2")
def test_it_says_how_each_kind_is_read():
    reads = BlueskyConnector.reads
    assert {kind: way.how for kind, way in reads.items()} == {
        "reply": "poll",
        "mention": "poll",
        "quote": "poll",
        "message": "not available",
    }
    assert "chat service" in reads["message"].note
    assert ItemKind.COMMENT.value not in reads
    assert [label for label, _ in BlueskyConnector.read_summary()][-1] == "Private messages"


@pytest.mark.clause("RS-ABU-1")
def test_it_offers_undoing_moderation():
    for capability in (Capability.UNHIDE, Capability.UNBLOCK, Capability.UNMUTE):
        assert BlueskyConnector.can(capability)


@pytest.mark.clause("RS-MON-2")
def test_it_reads_a_reply_a_mention_and_a_quote(school, parent, our_post):
    account, connector = school
    parent_account, parent_client = parent
    start = connector.read_inbox(cursor="")
    assert (start.items, start.more) == ([], False)

    photo = parent_client.upload_blob(image((10, 120, 40))).blob
    reply_ref = parent_client.get_posts([our_post.remote_id]).posts[0]
    ref = models.ComAtprotoRepoStrongRef.Main(uri=reply_ref.uri, cid=reply_ref.cid)
    reply_uri = parent_client.send_post(
        "Will it be on the field?",
        profile_identify=parent_account.did,
        reply_to=models.AppBskyFeedPost.ReplyRef(root=ref, parent=ref),
        embed=models.AppBskyEmbedImages.Main(images=[models.AppBskyEmbedImages.Image(image=photo, alt="The field")]),
    ).uri
    mention_text = f"Thank you @{account.handle} for the concert!"
    mention_uri = parent_client.send_post(
        mention_text, profile_identify=parent_account.did, facets=parent_client.detect_facets(mention_text)
    ).uri
    quote_uri = parent_client.send_post(
        "Can't wait!", profile_identify=parent_account.did, embed=models.AppBskyEmbedRecord.Main(record=ref)
    ).uri

    page = read_until(connector, start.cursor, 3, what="the reply, mention and quote")
    assert [item.remote_id for item in page.items] == [reply_uri, mention_uri, quote_uri]  # oldest first
    assert not page.more
    reply, mention, quote = page.items
    assert (reply.kind, reply.root_id, reply.in_reply_to) == ("reply", our_post.remote_id, our_post.remote_id)
    assert (mention.kind, mention.root_id, mention.in_reply_to) == ("mention", mention_uri, "")
    assert (quote.kind, quote.root_id) == ("quote", our_post.remote_id)
    assert [item.text for item in page.items] == ["Will it be on the field?", mention_text, "Can't wait!"]
    for item in page.items:
        assert (item.author_id, item.author_handle) == (parent_account.did, parent_account.handle)
        assert item.url == f"https://bsky.app/profile/{parent_account.did}/post/{item.remote_id.rsplit('/', 1)[1]}"
        assert item.created_at.tzinfo is not None
        assert not item.hidden
    assert [(m.alt_text, m.mime_type) for m in reply.media] == [("The field", "image/png")]
    assert reply.media[0].url.startswith("http")
    assert (mention.media, quote.media) == ((), ())
    # The evidence: the notification and the post as received, as plain JSON.
    assert json.loads(json.dumps(reply.raw)) == reply.raw
    assert reply.raw["notification"]["reason"] == "reply"
    assert reply.raw["notification"]["record"]["text"] == "Will it be on the field?"
    assert reply.raw["post"]["uri"] == reply_uri

    again = connector.read_inbox(cursor=start.cursor)  # the same cursor gives the same items
    assert [item.remote_id for item in again.items] == [reply_uri, mention_uri, quote_uri]
    after = connector.read_inbox(cursor=page.cursor)  # and the returned one gives nothing new
    assert (after.items, after.more) == ([], False)
    mark, later = json.loads(page.cursor)["mark"], json.loads(after.cursor)["mark"]
    assert later["newest"] >= mark["newest"]  # the cursor never goes backwards


@pytest.mark.clause("RS-MON-2")
def test_it_reads_only_what_is_new_after_a_restart(school, parent, our_post):
    _, connector = school
    parent_account, parent_client = parent
    first_uri = reply_from(parent_client, parent_account.did, "Is it on the field?", to=our_post.remote_id)
    first = read_until(connector, "", 1, what="the first reply")
    assert [item.remote_id for item in first.items] == [first_uri]
    persisted = first.cursor

    second_uri = reply_from(parent_client, parent_account.did, "And what time?", to=our_post.remote_id)
    restarted = BlueskyConnector(connector.credentials)  # a new process, with only the stored cursor
    page = read_until(restarted, persisted, 1, what="the second reply")
    assert [item.remote_id for item in page.items] == [second_uri]
    assert page.items[0].text == "And what time?"


@pytest.mark.clause("RS-MON-2")
def test_it_reads_a_long_inbox_in_pages(school, parent, our_post):
    _, connector = school
    parent_account, parent_client = parent
    start = connector.read_inbox(cursor="")
    uris = [reply_from(parent_client, parent_account.did, f"Question {n}", to=our_post.remote_id) for n in range(3)]
    read_until(connector, start.cursor, 3, what="three replies")

    small = BlueskyConnector(connector.credentials)
    small.inbox_page_size, small.inbox_pages = 1, 1
    cursor, seen, mores = start.cursor, [], []
    for _ in range(10):
        page = small.read_inbox(cursor=cursor)
        seen += [item.remote_id for item in page.items]
        mores.append(page.more)
        cursor = page.cursor
        if not page.more:
            break
    assert mores[0] is True and mores[-1] is False
    assert sorted(seen) == sorted(uris) and len(seen) == 3  # each once, none missed
    assert small.read_inbox(cursor=cursor).items == []


@pytest.mark.clause("RS-MON-2")
def test_it_reads_a_mention_in_our_thread_as_a_reply_and_marks_it_hidden(bsky_peer, school, parent, our_post):
    account, connector = school
    start = connector.read_inbox(cursor="")
    uri = mention_reply(parent, account, "Is it on the field?", to=our_post.remote_id)
    item = read_until(connector, start.cursor, 1, what="the reply that mentions us").items[0]
    assert (item.remote_id, item.kind, item.root_id, item.hidden) == (uri, "reply", our_post.remote_id, False)

    connector.hide(item)
    assert gate_of(bsky_peer, account, our_post.remote_id).hidden_replies == [uri]
    hidden = eventually(
        lambda: [i for i in connector.read_inbox(cursor=start.cursor).items if i.hidden], what="the reply as hidden"
    )
    assert [i.remote_id for i in hidden] == [uri]


@pytest.mark.clause("RS-MON-2")
def test_it_refuses_a_cursor_it_did_not_write(school):
    _, connector = school
    with pytest.raises(ConnectorError) as caught:
        connector.read_inbox(cursor="12345")
    assert caught.value.permanent


@pytest.mark.clause("RS-MON-2")
def test_it_waits_as_told_when_the_inbox_read_is_rate_limited(school, monkeypatch):
    _, connector = school
    reset = int(time.time()) + 60
    limited = RateLimitExceededError(
        Response(success=False, status_code=429, content=None, headers={"ratelimit-reset": str(reset)})
    )
    notifications = connector.client().app.bsky.notification

    def list_notifications(*args, **kwargs):
        raise limited

    monkeypatch.setattr(notifications, "list_notifications", list_notifications)
    with pytest.raises(ConnectorError) as caught:
        connector.read_inbox(cursor="")
    assert not caught.value.permanent
    assert (caught.value.status, 50 <= caught.value.retry_after <= 60) == (429, True)


@pytest.mark.clause("RS-MON-2")
def test_it_treats_an_unreachable_server_as_transient_when_reading(school):
    _, connector = school
    unreachable = BlueskyConnector(connector.credentials, base_url=f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(ConnectorError) as caught:
        unreachable.read_inbox(cursor="")
    assert not caught.value.permanent
    assert "Could not reach Bluesky while reading notifications" in caught.value.message


@pytest.mark.clause("RS-ABU-1")
def test_it_shows_a_hidden_reply_again(bsky_peer, school, parent, our_post):
    account, connector = school
    parent_account, parent_client = parent
    reply_uri = reply_from(parent_client, parent_account.did, "Will it be on the field?", to=our_post.remote_id)
    reply = eventually(lambda: connector.fetch_replies(our_post.remote_id), what="the reply")[0]
    connector.hide(reply)
    assert gate_of(bsky_peer, account, our_post.remote_id).hidden_replies == [reply_uri]
    eventually(lambda: [r for r in connector.fetch_replies(our_post.remote_id) if r.hidden], what="it hidden")

    connector.unhide(reply)
    connector.unhide(reply)  # showing twice changes nothing
    with pytest.raises(BadRequestError):  # the gate only held the hidden reply: it is gone, as before hiding
        gate_of(bsky_peer, account, our_post.remote_id)
    eventually(lambda: [r for r in connector.fetch_replies(our_post.remote_id) if not r.hidden], what="it shown again")


@pytest.mark.clause("RS-ABU-1")
def test_it_keeps_the_rest_of_the_thread_gate_when_showing_a_reply(bsky_peer, school, parent, our_post):
    account, connector = school
    parent_account, parent_client = parent
    first = reply_from(parent_client, parent_account.did, "First", to=our_post.remote_id)
    second = reply_from(parent_client, parent_account.did, "Second", to=our_post.remote_id)
    replies = eventually(
        lambda: found if len(found := connector.fetch_replies(our_post.remote_id)) == 2 else None, what="both"
    )
    for reply in replies:
        connector.hide(reply)
    # The school then limited replies to people it mentions (in the Bluesky app): a rule to keep.
    rkey = our_post.remote_id.rsplit("/", 1)[1]
    gate = gate_of(bsky_peer, account, our_post.remote_id)
    sdk_client(bsky_peer, account).com.atproto.repo.put_record(
        models.ComAtprotoRepoPutRecord.Data(
            repo=account.did,
            collection="app.bsky.feed.threadgate",
            rkey=rkey,
            record=gate.model_copy(update={"allow": [models.AppBskyFeedThreadgate.MentionRule()]}),
        )
    )

    connector.unhide(next(r for r in replies if r.remote_id == first))
    gate = gate_of(bsky_peer, account, our_post.remote_id)
    assert gate.hidden_replies == [second]
    assert [rule.py_type for rule in gate.allow] == ["app.bsky.feed.threadgate#mentionRule"]
    assert gate.post == our_post.remote_id


@pytest.mark.clause("RS-ABU-1")
def test_it_unblocks_an_account(bsky_peer, school, parent):
    account, connector = school
    parent_account, _ = parent
    connector.block(parent_account.did)
    listed = sdk_client(bsky_peer, account).com.atproto.repo.list_records
    params = models.ComAtprotoRepoListRecords.Params(repo=account.did, collection="app.bsky.graph.block")
    assert [record.value.subject for record in listed(params).records] == [parent_account.did]
    connector.unblock(parent_account.did)
    connector.unblock(parent_account.did)  # unblocking twice is harmless
    assert listed(params).records == []


@pytest.mark.clause("RS-ABU-1")
def test_it_unmutes_an_account(bsky_peer, school, parent):
    account, connector = school
    parent_account, _ = parent
    client = sdk_client(bsky_peer, account)

    def muted():
        return [m.did for m in client.app.bsky.graph.get_mutes().mutes]

    connector.mute(parent_account.did)
    eventually(lambda: parent_account.did in muted(), what="the mute")
    connector.unmute(parent_account.did)
    eventually(lambda: parent_account.did not in muted(), what="the mute lifted")


@pytest.mark.clause("RS-ABU-1")
def test_it_says_a_deleted_reply_is_gone(bsky_peer, school, parent, our_post):
    account, connector = school
    parent_account, parent_client = parent
    reply_uri = reply_from(parent_client, parent_account.did, "Oops, wrong school.", to=our_post.remote_id)
    reply = eventually(lambda: connector.fetch_replies(our_post.remote_id), what="the reply")[0]
    connector.hide(reply)
    parent_client.delete_post(reply_uri)
    eventually(lambda: not parent_client.get_posts([reply_uri]).posts, what="the reply deleted")

    for act in (connector.hide, lambda item: connector.reply(item, "Thanks!", key=key("thanks"))):
        with pytest.raises(ItemGone) as caught:
            act(reply)
        assert caught.value.permanent
    gone = RemoteItem(**{**reply.__dict__, "root_id": our_post.remote_id})
    with pytest.raises(ItemGone):
        connector.unhide(gone)
    with pytest.raises(BadRequestError):  # its place in the hidden list was given back all the same
        gate_of(bsky_peer, account, our_post.remote_id)
    assert connector.find_published(key("thanks")) is None  # no reply was posted
