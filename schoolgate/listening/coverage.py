"""The coverage page's facts: what is watched, when each source was last read, what could not be read, and what no
tool can see."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from schoolgate.listening.models import Keyword, Source, SourceStatus
from schoolgate.listening.sources.registry import SOURCES, source_class

# Said plainly on the page: watching the open web can never see these.
NOBODY_CAN_SEE = (
    "Private groups and closed communities (Facebook groups, private Discord servers, closed forums).",
    "Closed or private accounts, and followers-only posts on any network.",
    "Messaging apps: WhatsApp, Messenger, Snapchat, iMessage and group chats of every kind.",
    "Facebook and Instagram posts of people and groups: Meta offers no search of them to anyone outside.",
    "X (Twitter), TikTok and LinkedIn: their search is paid or closed, so Schoolgate does not read it.",
    "Stories and posts that disappear, and anything deleted before Schoolgate read it.",
    "What is said in videos and pictures (only their titles, descriptions and captions are read).",
)


@dataclass(frozen=True)
class SourceState:
    source: Source
    state: str  # "ok", "waiting" (never read yet), "rate_limited", "failing", "broken", "paused"
    sentence: str
    blind_spots: str


def source_state(source: Source) -> SourceState:
    blind = source_class(source.kind).blind_spots
    if source.status == SourceStatus.PAUSED:
        return SourceState(source, "paused", "Paused: not being read.", blind)
    if source.status == SourceStatus.BROKEN:
        return SourceState(source, "broken", f"Could not be read: {source.last_error}", blind)
    if source.is_rate_limited:
        return SourceState(
            source,
            "rate_limited",
            f"The network asked Schoolgate to wait (a rate limit) until "
            f"{timezone.localtime(source.rate_limited_until):%-d %B %Y at %H:%M}.",
            blind,
        )
    if source.last_error:
        sentence = f"The last read failed: {source.last_error} It will be tried again."
        return SourceState(source, "failing", sentence, blind)
    if source.last_read_at is None:
        return SourceState(source, "waiting", "Not read yet.", blind)
    return SourceState(source, "ok", "Read as planned.", blind)


def coverage_for(school) -> dict:
    states = [source_state(s) for s in Source.objects.filter(school=school)]
    watched_kinds = {s.source.kind for s in states if s.state not in ("paused", "broken")}
    return {
        "states": states,
        "problems": [s for s in states if s.state in ("broken", "failing", "rate_limited")],
        "keywords": Keyword.objects.filter(school=school, exclude=False).count(),
        "exclusions": Keyword.objects.filter(school=school, exclude=True).count(),
        "unwatched": [source_class(kind).label for kind in SOURCES if kind not in watched_kinds],
        "nobody_can_see": NOBODY_CAN_SEE,
    }
