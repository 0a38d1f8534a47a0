"""Answering and moderating on Bluesky: replies, the thread gate (hide and show again), blocks, mutes and reports
(a mixin of the connector)."""

from __future__ import annotations

import httpx
from atproto import models
from atproto_client.exceptions import (
    AtProtocolError,
)
from atproto_core.uri import AtUri

from schoolgate.connectors.base import (
    ConnectorError,
    ItemGone,
    Published,
    RemoteItem,
)
from schoolgate.connectors.bluesky.common import (
    BLOCK,
    BLOCK_PAGES,
    MAX_HIDDEN_REPLIES,
    REPORT_REASON_LIMIT,
    THREADGATE,
    _is_not_found,
    _is_ours,
    connector_error,
)


class Moderating:
    def reply(self, item: RemoteItem, text: str, *, key: str) -> Published:
        parent = self._post_view(item.remote_id)
        parent_ref = models.ComAtprotoRepoStrongRef.Main(uri=parent.uri, cid=parent.cid)
        root_ref = parent.record.reply.root if parent.record.reply else parent_ref
        return self._create_post(
            text, media=(), key=key, reply=models.AppBskyFeedPost.ReplyRef(root=root_ref, parent=parent_ref)
        )

    def hide(self, item: RemoteItem) -> None:
        """Add the reply to the thread gate of the thread we started (Bluesky apps then fold it away).

        ItemGone when the reply was deleted; the rest of the gate (who may reply) is kept as it was.
        """
        root_uri = self._own_root(item, doing="hide")
        root = AtUri.from_str(root_uri)
        gate = self._threadgate(root.rkey)
        hidden = list(gate.hidden_replies or []) if gate else []
        if item.remote_id in hidden:
            return
        if len(hidden) >= MAX_HIDDEN_REPLIES:
            raise ConnectorError(
                f"Bluesky allows at most {MAX_HIDDEN_REPLIES} hidden replies per thread.", permanent=True
            )
        if gate is None:
            # allow=None keeps replies open to everyone, as before.
            gate = models.AppBskyFeedThreadgate.Record(post=root_uri, created_at=self.client().get_current_time_iso())
        record = gate.model_copy(update={"hidden_replies": [*hidden, item.remote_id]})
        self._put_threadgate(root.rkey, record, doing="hiding the reply")

    def unhide(self, item: RemoteItem) -> None:
        """Take the reply off the thread gate's hidden list, keeping the rest of the gate.

        A gate left with no reply rules and nothing hidden is deleted, as if it had never been written. For a
        reply deleted since, its entry is still removed (it takes one of the 300 places) before ItemGone.
        """
        try:
            root_uri = self._own_root(item, doing="show")
        except ItemGone:
            if _is_ours(item.root_id, self.did):
                self._remove_hidden(item.root_id, item.remote_id)
            raise
        self._remove_hidden(root_uri, item.remote_id)

    def _own_root(self, item: RemoteItem, *, doing: str) -> str:
        """The root post of the reply's thread, which must be ours (ItemGone if the reply was deleted)."""
        post = self._post_view(item.remote_id)
        root_uri = post.record.reply.root.uri if post.record.reply else post.uri
        if not _is_ours(root_uri, self.did):
            raise ConnectorError(
                f"Bluesky only lets the account that started a thread {doing} replies in it.", permanent=True
            )
        return root_uri

    def _remove_hidden(self, root_uri: str, uri: str) -> None:
        root = AtUri.from_str(root_uri)
        gate = self._threadgate(root.rkey)
        hidden = list(gate.hidden_replies or []) if gate else []
        if uri not in hidden:
            return  # not hidden (or shown already): nothing to do
        remaining = [hidden_uri for hidden_uri in hidden if hidden_uri != uri]
        if not remaining and gate.allow is None:
            self._call(
                "showing the reply again",
                lambda c: c.com.atproto.repo.delete_record(
                    models.ComAtprotoRepoDeleteRecord.Data(repo=self.did, collection=THREADGATE, rkey=root.rkey)
                ),
            )
            return
        record = gate.model_copy(update={"hidden_replies": remaining or None})
        self._put_threadgate(root.rkey, record, doing="showing the reply again")

    def _put_threadgate(self, rkey: str, record: models.AppBskyFeedThreadgate.Record, *, doing: str) -> None:
        self._call(
            doing,
            lambda c: c.com.atproto.repo.put_record(
                models.ComAtprotoRepoPutRecord.Data(repo=self.did, collection=THREADGATE, rkey=rkey, record=record)
            ),
        )

    def _threadgate(self, rkey: str) -> models.AppBskyFeedThreadgate.Record | None:
        try:
            found = self.client().com.atproto.repo.get_record(
                models.ComAtprotoRepoGetRecord.Params(repo=self.did, collection=THREADGATE, rkey=rkey)
            )
        except (AtProtocolError, httpx.TransportError) as error:
            if _is_not_found(error):
                return None
            raise connector_error(error, doing="reading the thread gate", host=self.host) from error
        return found.value

    def block(self, author_id: str) -> None:
        """Write a block record, unless one for this account exists already (so running twice is harmless)."""
        if self._block_rkeys(author_id):
            return
        record = models.AppBskyGraphBlock.Record(subject=author_id, created_at=self.client().get_current_time_iso())
        self._call(
            "blocking the account",
            lambda c: c.com.atproto.repo.create_record(
                models.ComAtprotoRepoCreateRecord.Data(repo=self.did, collection=BLOCK, record=record)
            ),
        )

    def unblock(self, author_id: str) -> None:
        """Delete every block record for this account (none left: nothing to do, so running twice is harmless)."""
        for rkey in self._block_rkeys(author_id):
            self._call(
                "unblocking the account",
                lambda c, rkey=rkey: c.com.atproto.repo.delete_record(
                    models.ComAtprotoRepoDeleteRecord.Data(repo=self.did, collection=BLOCK, rkey=rkey)
                ),
            )

    def _block_rkeys(self, author_id: str) -> list[str]:
        found: list[str] = []
        cursor = None
        for _ in range(BLOCK_PAGES):
            page = self._call(
                "reading blocks",
                lambda c, cursor=cursor: c.com.atproto.repo.list_records(
                    models.ComAtprotoRepoListRecords.Params(repo=self.did, collection=BLOCK, limit=100, cursor=cursor)
                ),
            )
            found.extend(
                AtUri.from_str(r.uri).rkey for r in page.records if getattr(r.value, "subject", None) == author_id
            )
            cursor = page.cursor
            if not cursor or not page.records:
                break
        return found

    def mute(self, author_id: str) -> None:
        self._call(
            "muting the account",
            lambda c: c.app.bsky.graph.mute_actor(models.AppBskyGraphMuteActor.Data(actor=author_id)),
        )

    def unmute(self, author_id: str) -> None:
        self._call(
            "unmuting the account",
            lambda c: c.app.bsky.graph.unmute_actor(models.AppBskyGraphUnmuteActor.Data(actor=author_id)),
        )

    def report(self, item: RemoteItem, *, reason: str) -> None:
        """Report the post to the moderation service the account's PDS uses (Bluesky's own on bsky.social)."""
        post = self._post_view(item.remote_id)
        self._call(
            "reporting the post",
            lambda c: c.com.atproto.moderation.create_report(
                models.ComAtprotoModerationCreateReport.Data(
                    reason_type="com.atproto.moderation.defs#reasonOther",
                    reason=reason[:REPORT_REASON_LIMIT],
                    subject=models.ComAtprotoRepoStrongRef.Main(uri=post.uri, cid=post.cid),
                )
            ),
        )
