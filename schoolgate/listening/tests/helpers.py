"""Shared helpers for the listening tests: recorded answers served through httpx.MockTransport, and set-up."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from schoolgate.listening.actions import configure, polling
from schoolgate.listening.models import Source

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Valley Gazette</title><link>https://gazette.example/</link>
<description>Local news</description>
{items}
</channel></rss>"""

ITEM = """<item><title>{title}</title><link>{link}</link><guid>{guid}</guid>
<description>{text}</description><pubDate>Tue, 01 Dec 2026 09:00:00 GMT</pubDate></item>"""


def rss(*entries: tuple[str, str, str]) -> str:
    """A feed of (title, link, text) entries, newest first as feeds list them."""
    return RSS.format(items="\n".join(ITEM.format(title=t, link=link, guid=link, text=x) for t, link, x in entries))


class Recorded:
    """Answers requests in order from a list of (check, response) pairs; records what was asked."""

    def __init__(self, *answers: httpx.Response | Callable[[httpx.Request], httpx.Response]):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.answers:
            raise AssertionError(f"Unexpected request {request.method} {request.url}")
        answer = self.answers.pop(0)
        return answer(request) if callable(answer) else answer

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


def xml(body: str, **headers) -> httpx.Response:
    return httpx.Response(200, text=body, headers={"content-type": "application/rss+xml", **headers})


def page(body: str, *, status: int = 200, **headers) -> httpx.Response:
    return httpx.Response(status, text=body, headers={"content-type": "text/html; charset=utf-8", **headers})


def jsonr(body, *, status: int = 200, **headers) -> httpx.Response:
    return httpx.Response(
        status, content=json.dumps(body).encode(), headers={"content-type": "application/json", **headers}
    )


def timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


def watch(cast, *, kind: str = "rss", url: str = "https://gazette.example/feed.xml", query: str = "", **kw) -> Source:
    minutes = {"rss": 15, "page": 60, "bluesky": 5, "mastodon": 5, "reddit": 10, "youtube": 60}[kind]
    return configure.add_source(
        cast.school,
        by=cast.head,
        kind=kind,
        name=kw.pop("name", f"{kind} source"),
        url=url,
        query=query,
        poll_minutes=kw.pop("poll_minutes", minutes),
    )


def keywords(cast, *phrases: str, exclude: bool = False) -> None:
    configure.add_keywords(cast.school, by=cast.head, phrases=list(phrases), exclude=exclude)


def read(source: Source, recorded: Recorded) -> int:
    """Read the source now (whatever its schedule), through the recorded answers."""
    Source.objects.filter(pk=source.pk).update(next_poll_at=None, claimed_until=None)
    return polling.poll_source(source.pk, transport=recorded.transport)
