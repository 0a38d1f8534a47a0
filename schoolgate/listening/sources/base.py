"""The source interface: read what is new since a cursor, safe to run twice, errors transient or permanent."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import ClassVar

import httpx

from schoolgate.connectors import http
from schoolgate.connectors.base import ConnectorError


@dataclass(frozen=True)
class Found:
    """One post or page change a source read, before keywords and dedupe decide whether it is a mention.

    thread_owner: who the post replies to on the network (a handle, account id or DID), so a post in one of the
    school's own threads can be answered through the inbox.
    """

    remote_id: str
    text: str
    url: str = ""
    title: str = ""
    author: str = ""
    published_at: dt.datetime | None = None
    thread_owner: str = ""
    raw: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Read:
    """One read: what was found, and the cursor to persist (it never goes backwards)."""

    found: list[Found]
    cursor: str


class ListeningSource:
    """One kind of source. Subclasses set the class attributes and implement `read`.

    `read(cursor)` returns what is new after `cursor`; given the same cursor twice it returns the same posts (the
    caller dedupes), so a crash between reading and saving loses nothing. Failures raise ConnectorError:
    transient (timeouts, 5xx, rate limits with retry_after) or permanent (a bad address, a feed that is not one).
    """

    kind: ClassVar[str]
    label: ClassVar[str]
    network: ClassVar[str] = ""  # the network's name as official accounts name it; "" for the open web
    # Never read more often than this, whatever the school sets (the networks' limits, and politeness).
    min_minutes: ClassVar[int] = 15
    needs_url: ClassVar[bool] = False
    needs_query: ClassVar[bool] = False
    default_url: ClassVar[str] = ""
    # What this source cannot see, said plainly on the coverage page.
    blind_spots: ClassVar[str] = ""
    # Each post has its own address; False where many found passages share one (a watched page).
    url_identifies: ClassVar[bool] = True

    def __init__(self, *, url: str = "", query: str = "", transport: httpx.BaseTransport | None = None):
        self.url = url or self.default_url
        self.query = query
        self.transport = transport

    @classmethod
    def setup_problems(cls, *, url: str, query: str) -> dict[str, str]:
        """What is missing or wrong in a source's settings, by field, before it is saved."""
        problems = {}
        if cls.needs_url and not url.strip():
            problems["url"] = "Give the address to watch."
        if cls.needs_query and not query.strip():
            problems["query"] = "Say what to search for."
        return problems

    def read(self, cursor: str) -> Read:
        raise NotImplementedError

    def client(self, **kwargs) -> httpx.Client:
        # The project's one HTTP module: timeouts, no redirects, and the address guard on every request.
        return http.client(transport=self.transport, **kwargs)

    def get_json(self, path_or_url: str, *, params: dict | None = None, headers: dict | None = None) -> dict:
        with self.client(headers=headers) as client:
            response = http.call(lambda: client.get(path_or_url, params=params), network=self.label)
        return http.json_or_error(response, network=self.label, describe_error=describe_error)


def describe_error(body: dict) -> str:
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or "")
    return str(body.get("message") or error or "")


def load_cursor(cursor: str) -> dict:
    """The state a source saved ({} for a first read); a cursor it cannot read starts again rather than failing."""
    if not cursor:
        return {}
    try:
        state = json.loads(cursor)
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def dump_cursor(state: dict) -> str:
    return json.dumps(state, separators=(",", ":"), sort_keys=True)


def parse_time(value) -> dt.datetime | None:
    """An ISO 8601 time from a network as an aware datetime (UTC when it names no zone), or None."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def keep_recent(ids: list[str], new: list[str], cap: int = 500) -> list[str]:
    """The ids seen most recently, newest last, so an overlapping read returns nothing twice."""
    merged = [i for i in ids if i not in set(new)] + new
    return merged[-cap:]


__all__ = ["ConnectorError", "Found", "ListeningSource", "Read"]


MAX_BODY_BYTES = 3_000_000  # a feed or page bigger than this is not read (a video, a dump), said in words


@dataclass(frozen=True)
class WebAnswer:
    status: int
    content_type: str
    body: bytes
    etag: str
    last_modified: str


def fetch_web(source: ListeningSource, url: str, *, etag: str = "", last_modified: str = "") -> WebAnswer:
    """GET a feed or page, conditionally (ETag / Last-Modified), following redirects through the address guard.

    A 304 comes back as status 304 with no body; errors are ConnectorErrors that say what happened in words.
    """
    headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml, text/html;q=0.9, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    with source.client(headers=headers) as client:
        # Feeds move (http to https, a new path); the guard checks every hop, so following is safe.
        client.follow_redirects = True
        client.max_redirects = 5

        def send() -> WebAnswer:
            with client.stream("GET", url) as response:
                if response.status_code == 304:
                    return WebAnswer(304, "", b"", etag, last_modified)
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_BODY_BYTES:
                        raise ConnectorError(
                            f"{url} is larger than {MAX_BODY_BYTES // 1_000_000} MB, too big to read.", permanent=True
                        )
                    chunks.append(chunk)
                body = b"".join(chunks)
                if response.status_code == 429 or response.status_code >= 500:
                    http.json_or_error(response, network=url)  # raises the transient error with Retry-After
                if response.status_code >= 400:
                    raise ConnectorError(
                        f"{url} answered HTTP {response.status_code}: check the address.",
                        permanent=response.status_code in (401, 403, 404, 410),
                        status=response.status_code,
                    )
                return WebAnswer(
                    response.status_code,
                    response.headers.get("content-type", "").split(";")[0].strip().lower(),
                    body,
                    response.headers.get("etag", ""),
                    response.headers.get("last-modified", ""),
                )

        try:
            return http.call(send, network=url)
        except httpx.TooManyRedirects as error:
            raise ConnectorError(f"{url} redirects too many times.", permanent=True) from error
