"""Replays recorded HTTP exchanges (tests/recordings/<network>/<scenario>.json) through httpx.MockTransport.

A recording is a list of {"request": {"method", "url", "headers"?, "body"?},
"response": {"status", "headers", "body"}} shaped as the network's API reference documents them.
Each request the connector sends must match the next recorded one — method, scheme, host, path, the
exact set of query parameters and, when recorded, the headers and the body (JSON, form fields, or
multipart fields with files as {"file": name, "content_type": type}) — or the test fails. The string
"*" in a recorded value matches anything (for values derived from secrets, such as a PKCE verifier).
A response may be {"raise": "ReadTimeout"} (any httpx exception name) to simulate a transport failure;
a string body is sent as is (an HTML error page), anything else as JSON.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import json
import pathlib
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx

RECORDINGS = pathlib.Path(__file__).parent / "recordings"
ANY = "*"


class ReplayMismatch(AssertionError):
    """The connector sent a request the recording does not expect at this point."""


def _matches(recorded: Any, actual: Any) -> bool:
    if recorded == ANY:
        return True
    if isinstance(recorded, dict) and isinstance(actual, dict):
        return recorded.keys() == actual.keys() and all(_matches(recorded[k], actual[k]) for k in recorded)
    if isinstance(recorded, list) and isinstance(actual, list):
        return len(recorded) == len(actual) and all(_matches(r, a) for r, a in zip(recorded, actual, strict=True))
    return recorded == actual


def _query(url: httpx.URL | urllib.parse.SplitResult) -> dict[str, str]:
    pairs = urllib.parse.parse_qsl(
        url.query if isinstance(url.query, str) else url.query.decode(), keep_blank_values=True
    )
    query: dict[str, str] = {}
    for name, value in pairs:
        if name in query:
            raise ReplayMismatch(f"query parameter {name!r} sent twice")
        query[name] = value
    return query


def request_body(request: httpx.Request) -> Any:
    """The body as the recording describes it: parsed JSON, form fields, or multipart fields."""
    content = request.read()
    if not content:
        return None
    content_type = request.headers.get("content-type", "")
    if "json" in content_type:
        return json.loads(content)
    if content_type.startswith("application/x-www-form-urlencoded"):
        fields: dict[str, str] = {}
        for name, value in urllib.parse.parse_qsl(content.decode(), keep_blank_values=True):
            if name in fields:
                raise ReplayMismatch(f"form field {name!r} sent twice")
            fields[name] = value
        return fields
    if content_type.startswith("multipart/form-data"):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + content
        )
        fields = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if part.get_filename() is not None:
                fields[name] = {
                    "file": part.get_filename(),
                    "content_type": part.get_content_type(),
                    "size": len(payload),
                }
            else:
                fields[name] = payload.decode()
        return fields
    return content.decode(errors="replace")


class Replay:
    def __init__(self, scenario: str):
        self.scenario = scenario
        self.path = RECORDINGS / f"{scenario}.json"
        self.exchanges: list[dict] = json.loads(self.path.read_text())
        self.position = 0
        self.failures: list[str] = []
        self.requests: list[httpx.Request] = []

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def fail(self, message: str) -> None:
        message = f"{self.scenario} exchange {self.position + 1}: {message}"
        self.failures.append(message)
        raise ReplayMismatch(message)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.position >= len(self.exchanges):
            self.fail(f"unexpected extra request {request.method} {request.url}")
        exchange = self.exchanges[self.position]
        expected = exchange["request"]
        self.check(expected, request)
        self.position += 1
        return self.respond(exchange["response"], request)

    def check(self, expected: dict, request: httpx.Request) -> None:
        wanted = urllib.parse.urlsplit(expected["url"])
        actual = request.url
        sent = f"{request.method} {actual.scheme}://{actual.host}{actual.path}"
        recorded = f"{expected['method']} {wanted.scheme}://{wanted.hostname}{wanted.path}"
        if sent != recorded:
            self.fail(f"expected {recorded}, got {sent}")
        if not _matches(_query(wanted), _query(actual)):
            self.fail(f"query parameters differ: expected {_query(wanted)}, got {_query(actual)}")
        for name, value in expected.get("headers", {}).items():
            if not _matches(value, request.headers.get(name)):
                self.fail(f"header {name}: expected {value!r}, got {request.headers.get(name)!r}")
        body = request_body(request)
        if not _matches(expected.get("body"), body):
            self.fail(f"body differs: expected {expected.get('body')!r}, got {body!r}")

    @staticmethod
    def respond(response: dict, request: httpx.Request) -> httpx.Response:
        if "raise" in response:
            raise getattr(httpx, response["raise"])("simulated by the recording", request=request)
        headers = dict(response.get("headers", {}))
        body = response.get("body")
        if isinstance(body, str):
            content = body.encode()
        elif body is None:
            content = b""
        else:
            headers.setdefault("content-type", "application/json; charset=UTF-8")
            content = json.dumps(body).encode()
        return httpx.Response(response["status"], headers=headers, content=content, request=request)

    def assert_finished(self) -> None:
        assert not self.failures, self.failures
        remaining = [f"{e['request']['method']} {e['request']['url']}" for e in self.exchanges[self.position :]]
        assert not remaining, f"{self.scenario}: recorded requests never sent: {remaining}"


@contextlib.contextmanager
def replaying(connector_class: type, scenario: str) -> Iterator[Replay]:
    """Route a connector class's HTTP through the recording; fail if any recorded request is left."""
    replay = Replay(scenario)
    previous = connector_class.__dict__.get("transport")
    connector_class.transport = replay.transport
    try:
        yield replay
    finally:
        connector_class.transport = previous
    replay.assert_finished()
