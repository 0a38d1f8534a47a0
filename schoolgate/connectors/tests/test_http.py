"""The shared HTTP module (connectors/http.py) and the replay helper the connector tests rely on."""

from __future__ import annotations

import datetime as dt
import email.utils
import time

import httpx
import pytest
from django.utils import timezone

from schoolgate.connectors import http
from schoolgate.connectors.base import ConnectorError
from schoolgate.connectors.tests.replay import Replay, ReplayMismatch, replaying


def response(status: int, *, headers: dict | None = None, json=None, text: str = "") -> httpx.Response:
    request = httpx.Request("GET", "https://api.example/thing")
    if json is not None:
        return httpx.Response(status, headers=headers, json=json, request=request)
    return httpx.Response(status, headers=headers, text=text, request=request)


# retry_after_seconds
def test_it_reads_retry_after_in_seconds():
    assert http.retry_after_seconds(response(429, headers={"Retry-After": "120"})) == 120.0


def test_it_reads_retry_after_as_an_http_date():
    later = email.utils.format_datetime(timezone.now() + dt.timedelta(seconds=300), usegmt=True)
    assert http.retry_after_seconds(response(503, headers={"Retry-After": later})) == pytest.approx(300, abs=2)


def test_it_never_waits_a_negative_time_for_a_past_date():
    earlier = email.utils.format_datetime(timezone.now() - dt.timedelta(minutes=5), usegmt=True)
    assert http.retry_after_seconds(response(503, headers={"Retry-After": earlier})) == 0.0


def test_it_reads_an_epoch_reset(monkeypatch):
    monkeypatch.setattr(time, "time", lambda: 1_793_000_000.0)
    reset = response(429, headers={"x-rate-limit-reset": "1793000042"})
    assert http.retry_after_seconds(reset) == 42.0


def test_it_reads_a_reset_given_in_seconds():
    assert http.retry_after_seconds(response(429, headers={"ratelimit-reset": "30"})) == 30.0


def test_it_has_no_wait_without_headers():
    assert http.retry_after_seconds(response(503)) is None


# json_or_error
def test_it_returns_the_json_body_of_a_success():
    assert http.json_or_error(response(200, json={"id": "1"}), network="Example") == {"id": "1"}


def test_it_explains_html_instead_of_json():
    page = response(200, headers={"content-type": "text/html"}, text="<html><body>Log in to the Wi-Fi</body></html>")
    with pytest.raises(ConnectorError) as raised:
        http.json_or_error(page, network="Example")
    assert not raised.value.permanent
    assert "Example answered with a web page instead of the data Schoolgate asked for" in raised.value.message
    assert "Wi-Fi" not in raised.value.message  # whatever answered, its page is never repeated


def test_it_never_repeats_the_body_of_an_error_response():
    internal = response(404, headers={"content-type": "text/plain"}, text="redis_version:7.2 internal secrets")
    with pytest.raises(ConnectorError) as raised:
        http.json_or_error(internal, network="Example")
    assert raised.value.message == "Example refused the request (HTTP 404): no reason given"


def test_it_treats_server_errors_as_transient():
    with pytest.raises(ConnectorError) as raised:
        http.json_or_error(
            response(502, headers={"content-type": "text/html"}, text="<h1>Bad gateway</h1>"), network="Example"
        )
    assert not raised.value.permanent and raised.value.status == 502


def test_it_treats_rate_limits_as_transient_with_the_wait():
    limited = response(429, headers={"Retry-After": "17"}, json={"error": "slow down"})
    with pytest.raises(ConnectorError) as raised:
        http.json_or_error(limited, network="Example")
    assert not raised.value.permanent and raised.value.retry_after == 17.0
    assert "rate limit" in raised.value.message


def test_it_treats_other_client_errors_as_permanent_with_the_networks_reason():
    refused = response(403, json={"detail": "Not allowed"})
    with pytest.raises(ConnectorError) as raised:
        http.json_or_error(refused, network="Example", describe_error=lambda body: body["detail"])
    assert raised.value.permanent and raised.value.status == 403
    assert raised.value.message == "Example refused the request (HTTP 403): Not allowed"


# call
@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.ConnectTimeout])
def test_it_turns_timeouts_into_transient_errors(failure):
    def handler(request):
        raise failure("too slow", request=request)

    with http.client(transport=httpx.MockTransport(handler)) as client, pytest.raises(ConnectorError) as raised:
        http.call(lambda: client.get("https://api.example/thing"), network="Example")
    assert not raised.value.permanent and "did not answer in time" in raised.value.message


def test_it_turns_refused_connections_into_transient_errors():
    def handler(request):
        raise httpx.ConnectError("connection refused", request=request)

    with http.client(transport=httpx.MockTransport(handler)) as client, pytest.raises(ConnectorError) as raised:
        http.call(lambda: client.get("https://api.example/thing"), network="Example")
    assert not raised.value.permanent and "Could not reach Example" in raised.value.message
    assert raised.value.message == "Could not reach Example: The server at api.example did not answer."


def test_it_says_in_words_when_a_server_cannot_be_found():
    def handler(request):
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    with http.client(transport=httpx.MockTransport(handler)) as client, pytest.raises(ConnectorError) as raised:
        http.call(lambda: client.get("https://bsky.example/xrpc"), network="Bluesky")
    assert (
        raised.value.message
        == "Could not reach Bluesky: The server at bsky.example could not be found. Check the address."
    )


def test_it_sends_a_user_agent_and_sets_timeouts():
    with http.client() as client:
        assert client.headers["user-agent"] == http.USER_AGENT
        assert client.timeout == http.TIMEOUT


# with_retries
def failing(*errors):
    """An operation that raises these errors in turn, then succeeds."""
    remaining = list(errors)

    def operation():
        if remaining:
            raise remaining.pop(0)
        return "done"

    return operation


def test_it_backs_off_exponentially_between_transient_failures():
    waits = []
    result = http.with_retries(failing(ConnectorError("down"), ConnectorError("down")), attempts=3, sleep=waits.append)
    assert result == "done" and waits == [1.0, 2.0]


def test_it_honours_retry_after():
    waits = []
    http.with_retries(failing(ConnectorError("slow down", retry_after=7.5)), sleep=waits.append)
    assert waits == [7.5]


def test_it_caps_the_wait():
    waits = []
    http.with_retries(failing(ConnectorError("slow down", retry_after=3600)), max_delay=60, sleep=waits.append)
    assert waits == [60]


def test_it_stops_at_a_permanent_error():
    waits = []
    with pytest.raises(ConnectorError, match="revoked"):
        http.with_retries(failing(ConnectorError("revoked", permanent=True)), sleep=waits.append)
    assert waits == []


def test_it_gives_up_after_the_last_attempt():
    waits = []
    with pytest.raises(ConnectorError, match="still down"):
        http.with_retries(failing(*[ConnectorError("still down")] * 3), attempts=3, sleep=waits.append)
    assert waits == [1.0, 2.0]


# The replay helper: a request the recording does not expect fails the test
class Recorded:
    transport = None


def test_it_fails_a_request_with_different_parameters():
    with pytest.raises(ReplayMismatch, match="query parameters differ"), replaying(Recorded, "x/delete_own") as replay:
        replay.exchanges[0]["request"]["url"] += "?user.fields=username"
        with http.client(transport=Recorded.transport) as client:
            client.delete(
                "https://api.x.com/2/tweets/1860000000000000001",
                headers={"Authorization": "Bearer x-user-access-token"},
            )


def test_it_fails_a_request_to_another_path():
    replay = Replay("x/delete_own")
    with http.client(transport=replay.transport) as client, pytest.raises(ReplayMismatch, match="expected DELETE"):
        client.delete("https://api.x.com/2/tweets/999")


def test_it_fails_when_a_recorded_request_is_never_sent():
    with pytest.raises(AssertionError, match="never sent"), replaying(Recorded, "x/delete_own"):
        pass
