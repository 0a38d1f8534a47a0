"""RSS and Atom feeds (local news, the council, a parents' blog), read with feedparser."""

from __future__ import annotations

import datetime as dt
import hashlib

import feedparser

from schoolgate.connectors.base import ConnectorError
from schoolgate.listening.sources.base import (
    Found,
    ListeningSource,
    Read,
    dump_cursor,
    fetch_web,
    keep_recent,
    load_cursor,
)
from schoolgate.listening.text import html_to_text

HTML_TYPES = ("text/html", "application/xhtml+xml")


class FeedSource(ListeningSource):
    kind = "rss"
    label = "News feed"
    min_minutes = 15
    needs_url = True
    blind_spots = "Only what the site puts in its feed; articles behind a paywall show their summary only."

    def read(self, cursor: str) -> Read:
        """1. Ask for the feed, sending the ETag / Last-Modified of the last read (304: nothing new).
        2. Parse it; a web page or anything that is not a feed is an error in words, and the cursor stays.
        3. Return the entries whose ids were not seen before; remember the newest ids."""
        state = load_cursor(cursor)
        answer = fetch_web(self, self.url, etag=state.get("etag", ""), last_modified=state.get("modified", ""))
        if answer.status == 304:
            return Read([], cursor)
        parsed = feedparser.parse(answer.body)
        is_feed = bool(parsed.get("version")) or bool(parsed.entries)
        if not is_feed:
            start = answer.body.lstrip()[:15].lower()
            if answer.content_type in HTML_TYPES or start.startswith((b"<!doctype", b"<html")):
                raise ConnectorError(
                    f"{self.url} is a web page, not a news feed. Give the feed's own address, or watch it as a page.",
                    permanent=True,
                )
            raise ConnectorError(
                f"{self.url} did not send a readable RSS or Atom feed (it is not valid XML); it may be broken for now."
            )
        seen = list(state.get("seen", []))
        known = set(seen)
        found = []
        for entry in parsed.entries:
            entry_id = str(entry.get("id") or entry.get("link") or _digest(entry.get("title", "")))
            if entry_id in known:
                continue
            known.add(entry_id)
            summary = entry.get("summary", "") or " ".join(c.get("value", "") for c in entry.get("content", []))
            title = html_to_text(entry.get("title", ""))
            found.append(
                Found(
                    remote_id=entry_id[:300],
                    text=" ".join(part for part in (title, html_to_text(summary)) if part),
                    url=entry.get("link", ""),
                    title=title,
                    author=entry.get("author", ""),
                    published_at=_entry_time(entry),
                    raw={"id": entry_id, "link": entry.get("link", ""), "title": entry.get("title", "")},
                )
            )
        found.reverse()  # feeds list newest first; mentions are stored oldest first
        new_state = {
            "etag": answer.etag,
            "modified": answer.last_modified,
            "seen": keep_recent(seen, [f.remote_id for f in found]),
        }
        return Read(found, dump_cursor(new_state))


def _entry_time(entry) -> dt.datetime | None:
    struct = entry.get("published_parsed") or entry.get("updated_parsed")
    if not struct:
        return None
    return dt.datetime(*struct[:6], tzinfo=dt.UTC)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]
