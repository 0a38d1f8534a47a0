"""For the moderation tests: a school account connected to the real local Bluesky network, our post on it, and a
second account on the network (a parent, a pupil, a troll) replying to it."""

from __future__ import annotations

from dataclasses import dataclass

from atproto_client.exceptions import BadRequestError
from django.test import TestCase

from schoolgate.connectors.tests.test_bluesky import eventually, key, reply_from
from schoolgate.inbox.actions.ingest import ingest
from schoolgate.inbox.models import InboxItem
from schoolgate.posts.tests.test_publishing import connect_bluesky

THREADGATE = "app.bsky.feed.threadgate"


@dataclass
class Thread:
    peer: object
    account: object  # the OfficialAccount, connected
    remote: object  # the school's account on the network (TestAccount)
    post_uri: str
    other: object  # the other person's account on the network
    other_client: object

    def reply(self, text: str) -> InboxItem:
        """The other person replies to our post; Schoolgate reads it from the AppView and stores it (the jobs
        ingest enqueues after commit run inline, as a worker would run them)."""
        uri = reply_from(self.other_client, self.other.did, text, to=self.post_uri)
        connector = self.account.connection.connector()
        found = eventually(
            lambda: [r for r in connector.fetch_replies(self.post_uri) if r.remote_id == uri], what="the reply"
        )
        with TestCase.captureOnCommitCallbacks(execute=True):
            [item] = ingest(self.account, found)
        item.refresh_from_db()
        return item

    def hidden_replies(self) -> list[str]:
        """What the thread gate of our post hides, read from the network itself."""
        client = self.peer.client(self.remote.session)
        try:
            record = client.com.atproto.repo.get_record(
                {"repo": self.remote.did, "collection": THREADGATE, "rkey": self.post_uri.rsplit("/", 1)[-1]}
            )
        except BadRequestError:
            return []
        return list(record.value.hidden_replies or [])

    def replies_on_network(self) -> list:
        """Our account's own posts that reply in this thread (the explanations we posted)."""
        client = self.peer.client(self.remote.session)
        records = client.com.atproto.repo.list_records(
            {"repo": self.remote.did, "collection": "app.bsky.feed.post"}
        ).records
        return [r for r in records if r.value.reply and r.value.reply.root.uri == self.post_uri]


def bluesky_thread(cast, bsky_peer, *, involves_pupils: bool = False, text: str = "Sports day is on Friday.") -> Thread:
    account, remote = connect_bluesky(cast, bsky_peer)
    if involves_pupils:
        account.involves_pupils = True
        account.save(update_fields=["involves_pupils"])
    post = account.connection.connector().publish(text, key=key(f"post-{account.pk}-{remote.did[-6:]}"))
    other = bsky_peer.create_account("parent")
    other_client = bsky_peer.client(other.session)
    eventually(lambda: other_client.get_posts([post.remote_id]).posts, what="the school's post")
    return Thread(bsky_peer, account, remote, post.remote_id, other, other_client)
