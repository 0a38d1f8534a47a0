"""Reddit search: GET /search.json?sort=new (a Listing of t3 posts), read down to the newest seen last time."""

from __future__ import annotations

import datetime as dt

from schoolgate.listening.sources.base import Found, ListeningSource, Read, dump_cursor, keep_recent, load_cursor

PAGE_SIZE = 100
OVERLAP = 600  # seconds read again below the newest seen (the caller dedupes)


class RedditSearch(ListeningSource):
    kind = "reddit"
    label = "Reddit"
    network = "reddit"
    # Logged-out reads are allowed about ten a minute per address; a school's few searches stay far below.
    min_minutes = 10
    needs_query = True
    default_url = "https://www.reddit.com"
    blind_spots = "Private and quarantined communities, and comments (search finds posts, not the replies under them)."

    def read(self, cursor: str) -> Read:
        state = load_cursor(cursor)
        body = self.get_json(
            f"{self.url.rstrip('/')}/search.json",
            params={"q": self.query, "sort": "new", "limit": PAGE_SIZE, "type": "link", "raw_json": 1},
        )
        floor = float(state.get("newest") or 0) - OVERLAP
        seen = list(state.get("seen", []))
        known, found, newest = set(seen), [], float(state.get("newest") or 0)
        children = ((body.get("data") or {}).get("children")) if isinstance(body, dict) else None
        for child in children or []:
            post = child.get("data") or {}
            created = float(post.get("created_utc") or 0)
            newest = max(newest, created)
            name = post.get("name") or f"t3_{post.get('id', '')}"
            if created < floor or name in known:
                continue
            known.add(name)
            found.append(
                Found(
                    remote_id=name,
                    text=" ".join(p for p in (post.get("title", ""), post.get("selftext", "")) if p),
                    url=f"https://www.reddit.com{post['permalink']}" if post.get("permalink") else post.get("url", ""),
                    title=post.get("title", ""),
                    author=f"u/{post.get('author', '')}",
                    published_at=dt.datetime.fromtimestamp(created, tz=dt.UTC) if created else None,
                    raw={k: post.get(k) for k in ("id", "name", "subreddit", "title", "permalink", "created_utc")},
                )
            )
        found.reverse()
        return Read(found, dump_cursor({"newest": newest, "seen": keep_recent(seen, [f.remote_id for f in found])}))
