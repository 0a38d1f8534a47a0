"""Page watch: one web page (a forum thread, a local noticeboard), read for new passages when it changes."""

from __future__ import annotations

import hashlib

from schoolgate.listening.sources.base import Found, ListeningSource, Read, dump_cursor, fetch_web, load_cursor
from schoolgate.listening.text import html_blocks

MAX_BLOCKS = 3000  # passages remembered per page: enough for a long thread, bounded for the cursor


class PageWatch(ListeningSource):
    kind = "page"
    label = "Web page"
    min_minutes = 60
    needs_url = True
    blind_spots = "Only the page itself as it is sent, not pages behind a login or filled in by scripts later."
    # Passages share the page's address, so they are told apart by their words (see Found.url_identifies).
    url_identifies = False

    def read(self, cursor: str) -> Read:
        """1. Ask for the page, conditionally (304 or the same words: nothing new).
        2. Split its text into passages and return those not on the page last time (keywords pick the mentions).
        """
        state = load_cursor(cursor)
        answer = fetch_web(self, self.url, etag=state.get("etag", ""), last_modified=state.get("modified", ""))
        if answer.status == 304:
            return Read([], cursor)
        text = answer.body.decode("utf-8", errors="replace")
        blocks = html_blocks(text) if "html" in answer.content_type or "<" in text[:200] else [text]
        page_hash = hashlib.sha256("\n".join(blocks).encode()).hexdigest()
        if page_hash == state.get("hash"):
            return Read([], cursor)
        before = set(state.get("blocks", []))
        found, hashes = [], []
        for block in blocks:
            digest = hashlib.sha256(block.encode()).hexdigest()[:24]
            hashes.append(digest)
            if digest not in before:
                found.append(Found(remote_id=f"{self.url}#{digest}", text=block, url=self.url, raw={"passage": digest}))
        new_state = {
            "etag": answer.etag,
            "modified": answer.last_modified,
            "hash": page_hash,
            "blocks": hashes[:MAX_BLOCKS],
        }
        return Read(found, dump_cursor(new_state))
