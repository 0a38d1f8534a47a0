"""YouTube search: search.list (100 quota units a call, 10,000 a day per project), newest first."""

from __future__ import annotations

import datetime as dt
import os
import zoneinfo

from django.conf import settings

from schoolgate.connectors.base import ConnectorError
from schoolgate.listening.sources.base import (
    Found,
    ListeningSource,
    Read,
    dump_cursor,
    keep_recent,
    load_cursor,
    parse_time,
)

PACIFIC = zoneinfo.ZoneInfo("America/Los_Angeles")  # YouTube's daily quota resets at midnight Pacific time


class YouTubeSearch(ListeningSource):
    kind = "youtube"
    label = "YouTube"
    network = "youtube"
    # Each search costs 100 of the project's 10,000 daily units: hourly reads let a deployment watch a few schools.
    min_minutes = 60
    needs_query = True
    default_url = "https://www.googleapis.com"
    blind_spots = "Video titles and descriptions only: not what is said in a video, and not its comments."

    def read(self, cursor: str) -> Read:
        key = getattr(settings, "YOUTUBE_API_KEY", "") or os.getenv("SCHOOLGATE_YOUTUBE_API_KEY", "")
        if not key:
            raise ConnectorError(
                "YouTube search needs an API key from whoever hosts Schoolgate (SCHOOLGATE_YOUTUBE_API_KEY).",
                permanent=True,
            )
        state = load_cursor(cursor)
        params = {"part": "snippet", "q": self.query, "type": "video", "order": "date", "maxResults": 50, "key": key}
        if state.get("newest"):
            params["publishedAfter"] = state["newest"]
        try:
            body = self.get_json(f"{self.url.rstrip('/')}/youtube/v3/search", params=params)
        except ConnectorError as error:
            if error.status == 403 and "quota" in error.message.lower():
                raise ConnectorError(
                    "YouTube's daily quota is used up; reading starts again after midnight Pacific time.",
                    retry_after=_until_quota_resets(),
                    status=429,
                ) from error
            raise
        seen = list(state.get("seen", []))
        known, found, newest = set(seen), [], parse_time(state.get("newest"))
        for item in body.get("items") or []:
            video_id = (item.get("id") or {}).get("videoId", "")
            snippet = item.get("snippet") or {}
            at = parse_time(snippet.get("publishedAt"))
            if at and (newest is None or at > newest):
                newest = at
            if not video_id or video_id in known:
                continue
            known.add(video_id)
            found.append(
                Found(
                    remote_id=video_id,
                    text=" ".join(p for p in (snippet.get("title", ""), snippet.get("description", "")) if p),
                    url=f"https://www.youtube.com/watch?v={video_id}",
                    title=snippet.get("title", ""),
                    author=snippet.get("channelTitle", ""),
                    published_at=at,
                    raw=item,
                )
            )
        found.reverse()
        return Read(
            found,
            dump_cursor(
                {
                    "newest": newest.strftime("%Y-%m-%dT%H:%M:%SZ") if newest else None,
                    "seen": keep_recent(seen, [f.remote_id for f in found]),
                }
            ),
        )


def _until_quota_resets() -> float:
    now = dt.datetime.now(tz=PACIFIC)
    midnight = (now + dt.timedelta(days=1)).replace(hour=0, minute=5, second=0, microsecond=0)
    return (midnight - now).total_seconds()
