"""Reading what reached a Bluesky account: threads and mentions, and the inbox from its notifications (a mixin of
the connector: it uses the connector's client, DID and limits)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import httpx
from atproto import models
from atproto_client.exceptions import (
    AtProtocolError,
)

from schoolgate.connectors import cursors
from schoolgate.connectors.base import (
    ConnectorError,
    InboxPage,
    ItemGone,
    ItemKind,
    RemoteItem,
)
from schoolgate.connectors.bluesky.common import (
    GET_POSTS_LIMIT,
    INBOX_REASONS,
    MENTION_PAGES,
    MENTION_REASONS,
    _is_not_found,
    _is_ours,
    _jsonable,
    _media,
    _parse_time,
    _quoted_uri,
    connector_error,
    post_url,
)


class Reading:
    def fetch_replies(self, remote_post_id: str) -> list[RemoteItem]:
        """Every reply under the post, at any depth, as the AppView sees them (hidden ones marked).

        A post the AppView does not know (deleted, or published a moment ago and not indexed yet) has none.
        """
        try:
            thread = self.client().get_post_thread(remote_post_id, depth=1000, parent_height=0).thread
        except (AtProtocolError, httpx.TransportError) as error:
            if _is_not_found(error):
                return []
            raise connector_error(error, doing="reading replies", host=self.host) from error
        if not isinstance(thread, models.AppBskyFeedDefs.ThreadViewPost):
            return []
        gate = thread.post.threadgate
        hidden = set(getattr(gate.record, "hidden_replies", None) or []) if gate else set()
        found: list[RemoteItem] = []
        pending = list(thread.replies or [])
        while pending:
            node = pending.pop(0)
            if not isinstance(node, models.AppBskyFeedDefs.ThreadViewPost):
                continue  # deleted, or hidden from us by a block
            found.append(self._remote_item(node.post, hidden=node.post.uri in hidden))
            pending.extend(node.replies or [])
        return sorted(found, key=lambda item: item.created_at)

    def fetch_mentions(self, *, since: dt.datetime | None = None) -> list[RemoteItem]:
        """Mentions, replies and quotes of the account, newest first, back to `since`."""
        found: list[RemoteItem] = []
        cursor = None
        for _ in range(MENTION_PAGES):
            page = self._call(
                "reading notifications",
                lambda c, cursor=cursor: c.app.bsky.notification.list_notifications(
                    models.AppBskyNotificationListNotifications.Params(limit=50, cursor=cursor)
                ),
            )
            for note in page.notifications:
                indexed_at = dt.datetime.fromisoformat(note.indexed_at)
                if since is not None and indexed_at < since:
                    return found
                if note.reason in MENTION_REASONS:
                    found.append(self._remote_item(note, record=note.record))
            cursor = page.cursor
            if not cursor:
                break
        return found

    def _remote_item(self, view, *, record=None, hidden: bool = False) -> RemoteItem:
        record = record if record is not None else view.record
        reply = getattr(record, "reply", None)
        return RemoteItem(
            remote_id=view.uri,
            author_id=view.author.did,
            author_handle=view.author.handle,
            author_name=view.author.display_name or "",
            text=getattr(record, "text", ""),
            created_at=_parse_time(record.created_at),
            url=post_url(view.uri),
            in_reply_to=reply.parent.uri if reply else "",
            hidden=hidden,
        )

    def read_inbox(self, *, cursor: str, posts: Sequence[str] = ()) -> InboxPage:
        """Replies, mentions and quotes from the account's notifications after `cursor`, oldest first.

        1. Read listNotifications (newest first) down to just below the last read, through
           cursors.read_newest_first: a first run ("") reads back `inbox_first_read`; a read that stops at
           `inbox_pages` pages keeps the rest as a gap for the next call (more=True).
        2. Look up the posts (getPosts) for their embeds and labels, and our root posts for their thread gates.
        3. Turn each into a RemoteItem; the cursor saves the reading mark.
        `posts` is not needed: notifications cover every post of ours. Bluesky lists a post once per recipient,
        as a mention if it mentions us, else a quote, else a reply (see `_inbox_kind`). A post deleted before
        it is read is no longer listed.
        """
        try:
            mark = cursors.Mark.from_dict(cursors.load(cursor, network=self.label).get("mark"))
        except ValueError as error:
            raise ConnectorError(str(error), permanent=True) from error
        first_floor = (dt.datetime.now(dt.UTC) - self.inbox_first_read).timestamp()
        entries, mark, more = cursors.read_newest_first(
            mark,
            self._notification_page,
            overlap=self.inbox_overlap.total_seconds(),
            max_pages=self.inbox_pages,
            first_floor=first_floor,
            first_pages=self.inbox_pages,
        )
        notes = [entry.value for entry in entries]
        views = self._post_views([note.uri for note in notes])
        kinds_roots = [self._inbox_kind(note) for note in notes]
        hidden = self._hidden_replies({root for _, root in kinds_roots if _is_ours(root, self.did)})
        items = [
            self._inbox_item(note, views.get(note.uri), kind=kind, root_id=root, hidden=note.uri in hidden)
            for note, (kind, root) in zip(notes, kinds_roots, strict=True)
        ]
        return InboxPage(items=items, cursor=cursors.dump({"mark": mark.to_dict()}), more=more)

    def _notification_page(self, token: str | None) -> tuple[list[cursors.Entry], str | None]:
        page = self._call(
            "reading notifications",
            lambda c: c.app.bsky.notification.list_notifications(
                models.AppBskyNotificationListNotifications.Params(
                    limit=self.inbox_page_size, cursor=token, reasons=list(INBOX_REASONS)
                )
            ),
        )
        entries = [
            # The notification's indexedAt is the time the stream is sorted by (a post's sortAt).
            cursors.Entry(id=note.uri, at=_parse_time(note.indexed_at).timestamp(), value=note)
            for note in page.notifications
            if note.reason in INBOX_REASONS  # an AppView that ignores `reasons` still gives us only these
        ]
        return entries, page.cursor

    def _inbox_kind(self, note) -> tuple[str, str]:
        """(kind, root_id) of a notification.

        A reply's root is its thread's root post (ours, or someone else's when they reply to us lower down).
        A mention in a reply in our thread is a reply there (Bluesky calls it a mention because mentions win);
        any other mention hangs from its thread's root, which is the mention itself when it starts the thread,
        and a quote hangs from the post it quotes (ours).
        """
        record = note.record
        reply = getattr(record, "reply", None)
        root = reply.root.uri if reply else ""
        if note.reason == "reply" or (note.reason == "mention" and _is_ours(root, self.did)):
            return ItemKind.REPLY.value, root or note.reason_subject or ""
        if note.reason == "quote":
            return ItemKind.QUOTE.value, note.reason_subject or _quoted_uri(record) or note.uri
        return ItemKind.MENTION.value, root or note.uri

    def _post_views(self, uris: Sequence[str]) -> dict[str, models.AppBskyFeedDefs.PostView]:
        found: dict[str, models.AppBskyFeedDefs.PostView] = {}
        unique = list(dict.fromkeys(uris))
        for start in range(0, len(unique), GET_POSTS_LIMIT):
            batch = unique[start : start + GET_POSTS_LIMIT]
            views = self._call("looking up posts", lambda c, batch=batch: c.get_posts(batch)).posts
            found.update({view.uri: view for view in views})
        return found

    def _hidden_replies(self, roots: set[str]) -> set[str]:
        """The replies our thread gates hide, for these root posts of ours."""
        hidden: set[str] = set()
        for view in self._post_views(sorted(roots)).values():
            if view.threadgate is not None:
                hidden.update(getattr(view.threadgate.record, "hidden_replies", None) or [])
        return hidden

    def _inbox_item(self, note, view, *, kind: str, root_id: str, hidden: bool) -> RemoteItem:
        # The notification carries the record and author; the post view (None if deleted since) adds the
        # embed as the AppView serves it.
        return dataclasses.replace(
            self._remote_item(note, record=note.record, hidden=hidden),
            kind=kind,
            root_id=root_id,
            media=_media(view, note.record),
            raw={"notification": _jsonable(note), "post": _jsonable(view) if view is not None else None},
        )

    def _post_view(self, uri: str) -> models.AppBskyFeedDefs.PostView:
        posts = self._call("looking up the post", lambda c: c.get_posts([uri])).posts
        if not posts:
            raise ItemGone(f"Bluesky no longer has the post {uri}: it was deleted (or its author blocked us).")
        return posts[0]
