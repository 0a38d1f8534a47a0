"""The explicit registry of listening sources: a plain dict of dotted paths, loaded on use."""

from __future__ import annotations

from django.utils.module_loading import import_string

from schoolgate.listening.sources.base import ListeningSource

SOURCES: dict[str, str] = {
    "rss": "schoolgate.listening.sources.rss.FeedSource",
    "page": "schoolgate.listening.sources.page.PageWatch",
    "bluesky": "schoolgate.listening.sources.bluesky.BlueskySearch",
    "mastodon": "schoolgate.listening.sources.mastodon.MastodonHashtag",
    "reddit": "schoolgate.listening.sources.reddit.RedditSearch",
    "youtube": "schoolgate.listening.sources.youtube.YouTubeSearch",
}


def source_class(kind: str) -> type[ListeningSource]:
    try:
        return import_string(SOURCES[kind])
    except KeyError:
        raise ValueError(f"Schoolgate has no listening source of kind {kind!r}") from None


def source_for(row, *, transport=None) -> ListeningSource:
    """The source class for a stored Source row, set up with its address and search."""
    return source_class(row.kind)(url=row.url, query=row.query, transport=transport)
