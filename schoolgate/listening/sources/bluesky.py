"""Bluesky search: app.bsky.feed.searchPosts on a public AppView, newest first, read down to the last read."""

from __future__ import annotations

import datetime as dt

from schoolgate.listening.sources.base import (
    Found,
    ListeningSource,
    Read,
    dump_cursor,
    keep_recent,
    load_cursor,
    parse_time,
)

PAGE_SIZE = 100  # searchPosts' maximum
MAX_PAGES = 5  # a first read takes one page (a bounded look back); later reads page through their window
# Posts are indexed a little after they are written: read back this far past the newest seen (dedupe by uri).
OVERLAP = dt.timedelta(minutes=30)


class BlueskySearch(ListeningSource):
    kind = "bluesky"
    label = "Bluesky"
    network = "bluesky"
    min_minutes = 5
    needs_query = True
    default_url = "https://public.api.bsky.app"
    blind_spots = "Posts from accounts that opt out of logged-out visibility, and anything deleted before the read."

    def read(self, cursor: str) -> Read:
        state = load_cursor(cursor)
        params = {"q": self.query, "sort": "latest", "limit": PAGE_SIZE}
        if since := parse_time(state.get("newest")):
            params["since"] = (since - OVERLAP).strftime("%Y-%m-%dT%H:%M:%SZ")
        posts = []
        for _ in range(MAX_PAGES):
            body = self.get_json(f"{self.url.rstrip('/')}/xrpc/app.bsky.feed.searchPosts", params=params)
            posts += body.get("posts") or []
            # A busy window is read to its end (the `since` bound stops it), so moving `newest` skips nothing.
            if not body.get("cursor") or not body.get("posts") or "since" not in params:
                break
            params["cursor"] = body["cursor"]
        seen = list(state.get("seen", []))
        known, found, newest = set(seen), [], parse_time(state.get("newest"))
        for post in posts:
            uri = post.get("uri", "")
            record = post.get("record") or {}
            at = parse_time(record.get("createdAt")) or parse_time(post.get("indexedAt"))
            if at and (newest is None or at > newest):
                newest = at
            if not uri or uri in known:
                continue
            known.add(uri)
            author = post.get("author") or {}
            handle = author.get("handle", "")
            root = ((record.get("reply") or {}).get("root") or {}).get("uri", "")
            found.append(
                Found(
                    remote_id=uri,
                    text=record.get("text", ""),
                    url=f"https://bsky.app/profile/{handle or author.get('did', '')}/post/{uri.rsplit('/', 1)[-1]}",
                    author=f"@{handle}" if handle else author.get("did", ""),
                    published_at=at,
                    # at://did:plc:…/app.bsky.feed.post/… names whose thread this is.
                    thread_owner=root.removeprefix("at://").split("/", 1)[0] if root else "",
                    raw=post,
                )
            )
        found.reverse()
        new_state = {
            "newest": newest.isoformat() if newest else None,
            "seen": keep_recent(seen, [f.remote_id for f in found]),
        }
        return Read(found, dump_cursor(new_state))
