"""Mastodon hashtag timelines on servers the school chooses: GET /api/v1/timelines/tag/:hashtag, from min_id."""

from __future__ import annotations

import urllib.parse

from schoolgate.listening.sources.base import Found, ListeningSource, Read, dump_cursor, load_cursor, parse_time
from schoolgate.listening.text import html_to_text

PAGE_SIZE = 40  # the API's maximum
MAX_PAGES = 5


class MastodonHashtag(ListeningSource):
    kind = "mastodon"
    label = "Mastodon"
    network = "mastodon"
    min_minutes = 5
    needs_url = True
    needs_query = True
    blind_spots = (
        "Only posts this server knows of (its own people's, and those its people follow); followers-only and "
        "private posts never; full-text search needs a login on most servers, so it watches hashtags."
    )

    @classmethod
    def setup_problems(cls, *, url: str, query: str) -> dict[str, str]:
        problems = super().setup_problems(url=url, query=query)
        tag = query.strip().lstrip("#")
        if tag and not tag.replace("_", "").isalnum():
            problems["query"] = "A hashtag is letters, digits and underscores, like #HillsidePrimary."
        return problems

    def read(self, cursor: str) -> Read:
        """Statuses newer than the newest read (min_id), oldest first: the API returns the page just above it."""
        state = load_cursor(cursor)
        tag = urllib.parse.quote(self.query.strip().lstrip("#"), safe="")
        params = {"limit": PAGE_SIZE}
        if state.get("min_id"):
            params["min_id"] = state["min_id"]
        statuses: list[dict] = []
        for _ in range(MAX_PAGES):
            body = self.get_json(f"{self.url.rstrip('/')}/api/v1/timelines/tag/{tag}", params=params)
            page = [s for s in body if isinstance(s, dict)] if isinstance(body, list) else []
            statuses += page
            # min_id pages upwards from the last read; a first read takes the newest page only.
            if len(page) < PAGE_SIZE or "min_id" not in params:
                break
            params["min_id"] = max((str(s.get("id", "")) for s in page), key=_order)
        found = []
        newest = state.get("min_id", "")
        for status in sorted({str(s.get("id")): s for s in statuses}.values(), key=lambda s: _order(s.get("id", ""))):
            if status.get("visibility") not in (None, "public", "unlisted"):
                continue
            status_id = str(status.get("id", ""))
            if _order(status_id) > _order(newest):
                newest = status_id
            account = status.get("account") or {}
            owner = ""
            if reply_to := status.get("in_reply_to_account_id"):
                owner = next((m.get("acct", "") for m in status.get("mentions") or [] if m.get("id") == reply_to), "")
            found.append(
                Found(
                    remote_id=status.get("uri") or status_id,
                    text=html_to_text(status.get("content", "")),
                    url=status.get("url") or status.get("uri", ""),
                    author=f"@{account.get('acct', '')}",
                    published_at=parse_time(status.get("created_at")),
                    thread_owner=owner,
                    raw=status,
                )
            )
        return Read(found, dump_cursor({"min_id": newest}) if newest else cursor)


def _order(status_id: str) -> tuple[int, int, str]:
    # Mastodon ids are numbers in strings (snowflakes); compare them as numbers.
    text = str(status_id or "")
    return (1, int(text), "") if text.isdigit() else (0, 0, text)
