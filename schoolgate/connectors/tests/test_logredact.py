"""The log filter (schoolgate/logredact.py): token-shaped text is redacted on every handler and in access logs."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from schoolgate.logredact import REDACTED, GunicornLogger, RedactSecrets, redact

SHORT_TOKEN = "Tk3nQ9zA"  # too short for the "long random string" rule: only the path rule can catch it


@pytest.mark.parametrize(
    "line, secret",
    [
        ("HTTP Request: GET https://graph.facebook.com/v23.0/me?fields=id&access_token=EAAPage-1 200", "EAAPage-1"),
        ("POST /oauth/token client_secret=fb-app-secret&code=AQDcode123", "fb-app-secret"),
        ("POST /oauth/token client_secret=fb-app-secret&code=AQDcode123", "AQDcode123"),
        ('{"refresh_token": "x-refresh-token-1", "scope": "tweet.read"}', "x-refresh-token-1"),
        ("{'password': 'hunter2-horse', 'login': 'news'}", "hunter2-horse"),
        ("Authorization: Bearer hillside_token", "hillside_token"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
        ("session eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkaWQ6cGxjOjEyMyJ9.c2lnbmF0dXJl", "eyJzdWIiOiJkaWQ6"),
        ("token 9f8e7d6c5b4a39281706f5e4d3c2b1a0ffeeddcc", "9f8e7d6c5b4a39281706f5e4d3c2b1a0ffeeddcc"),
        ("app password abcd-efgh-ijkl-mnop accepted", "abcd-efgh-ijkl-mnop"),
        ("?api_key=k-123&signature=sig-456", "k-123"),
        ("?api_key=k-123&signature=sig-456", "sig-456"),
        (f'"GET /f/{SHORT_TOKEN}/ HTTP/1.1" 200 5120', SHORT_TOKEN),
        (f'"GET /p/raleigh/news/digest/confirm/{SHORT_TOKEN}/ HTTP/1.1" 302 0', SHORT_TOKEN),
        (f'"POST /p/raleigh/news/digest/unsubscribe/{SHORT_TOKEN}/ HTTP/1.1" 200 0', SHORT_TOKEN),
    ],
)
def test_it_redacts_anything_token_shaped(line, secret):
    redacted = redact(line)
    assert secret not in redacted and REDACTED in redacted


@pytest.mark.parametrize(
    "line",
    [
        '"GET /s/raleigh/posts/12/ HTTP/1.1" 200 5120',
        "Publishing delivery 42 of post 17 due 2026-11-22T09:30:00+00:00",
        "HTTP Request: GET https://graph.facebook.com/v23.0/104567890123456?fields=id%2Cname%2Clink 200 OK",
        "Basic checks passed for the Raleigh School",
        "Mastodon (social.example) rate limit reached while publishing.",
    ],
)
def test_it_leaves_ordinary_lines_alone(line):
    assert redact(line) == line


def _token_patterns(resolver=None, prefix=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from _token_patterns(entry, prefix + (entry.namespace + ":" if entry.namespace else ""))
        elif isinstance(entry, URLPattern) and "token" in entry.pattern.converters and entry.name:
            yield prefix + entry.name, entry.pattern.converters


def test_it_redacts_the_token_of_every_url_that_carries_one():
    # Resolved from the URLconf: a new page with a token in its path fails here until the filter covers it.
    found = list(_token_patterns())
    assert {"pupils:family", "news:confirm", "news:unsubscribe"} <= {name for name, _ in found}
    for name, converters in found:
        kwargs = {key: ("raleigh" if key == "slug" else 7) for key in converters if key != "token"}
        path = reverse(name, kwargs={**kwargs, "token": SHORT_TOKEN})
        assert SHORT_TOKEN not in redact(f'"GET {path} HTTP/1.1" 200 512'), name


def test_it_rewrites_the_record_its_arguments_and_its_traceback():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "Token exchange failed: %s", ("code=AQDcode123",), None)
    try:
        raise ValueError("client_secret=fb-app-secret rejected")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert RedactSecrets().filter(record) is True
    line = logging.Formatter().format(record)
    assert "AQDcode123" not in line and "fb-app-secret" not in line and "Token exchange failed" in line


def test_it_puts_the_filter_on_every_handler_and_quiets_the_http_clients():
    config = settings.LOGGING
    assert config["filters"]["redact_secrets"]["()"] == "schoolgate.logredact.RedactSecrets"
    for name, handler in config["handlers"].items():
        assert "redact_secrets" in handler.get("filters", []), name
    for name in ("httpx", "httpcore", "urllib3", "atproto", "mastodon"):
        assert config["loggers"][name]["level"] == "WARNING"
    assert config["loggers"]["django.server"]["handlers"] == ["django.server"]


def test_it_redacts_the_development_servers_request_lines():
    handler = next(h for h in logging.getLogger("django.server").handlers if h.name == "django.server")
    record = logging.getLogger("django.server").makeRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        (f"GET /f/{SHORT_TOKEN}/ HTTP/1.1", "200", "5120"),
        None,
    )
    record.server_time = "22/Nov/2026 09:30:00"
    assert handler.filter(record)
    line = handler.format(record)
    assert SHORT_TOKEN not in line and "/f/[redacted]/" in line


def test_it_redacts_gunicorns_access_log():
    from gunicorn.config import Config
    from gunicorn.glogging import SafeAtoms

    class Response:
        status, sent, headers = "200 OK", 512, [("Content-Type", "text/html")]

    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/p/raleigh/news/digest/unsubscribe/{SHORT_TOKEN}/?next=/",
        "PATH_INFO": f"/p/raleigh/news/digest/unsubscribe/{SHORT_TOKEN}/",
        "QUERY_STRING": "state=ok&code=AQDcode123",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"https://school.example/f/{SHORT_TOKEN}/",
        "REMOTE_ADDR": "127.0.0.1",
    }
    cfg = Config()
    logger = GunicornLogger(cfg)
    atoms = SafeAtoms(logger.atoms(Response(), [], environ, dt.timedelta(milliseconds=3)))
    line = cfg.access_log_format % atoms + " " + atoms["{raw_uri}e"] + " " + atoms["q"]
    assert SHORT_TOKEN not in line and "AQDcode123" not in line
    assert "/news/digest/unsubscribe/[redacted]/" in line
