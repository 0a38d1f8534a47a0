"""All outbound HTTP to networks goes through here: timeouts, the address guard, error mapping, rate-limit headers.

Error messages say in words what went wrong; they never repeat what the other server sent back beyond
its own short error message, so a server cannot use Schoolgate to show people (or an attacker) its pages.
"""

from __future__ import annotations

import email.utils
import time
import urllib.parse
from collections.abc import Callable

import httpx
from django.utils import timezone

from schoolgate.connectors.addresses import describe_transport_error, guarded_transport
from schoolgate.connectors.base import ConnectorError

TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=20.0, pool=5.0)
USER_AGENT = "Schoolgate/0.1 (+https://github.com/schoolgate)"


def client(
    *, base_url: str = "", headers: dict | None = None, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """A client with timeouts and no redirects; every real request goes through the address guard."""
    return httpx.Client(
        base_url=base_url,
        timeout=TIMEOUT,
        transport=transport or guarded_transport(),
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        follow_redirects=False,
    )


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP date) or an x-rate-limit-reset epoch."""
    value = response.headers.get("retry-after")
    if value:
        if value.strip().isdigit():
            return float(value)
        parsed = email.utils.parsedate_to_datetime(value)
        if parsed is not None:
            return max(0.0, (parsed - timezone.now()).total_seconds())
    reset = response.headers.get("x-rate-limit-reset") or response.headers.get("ratelimit-reset")
    if reset and reset.strip().isdigit():
        reset_value = float(reset)
        # X sends an epoch; the IETF draft (Bluesky, Mastodon) sends either seconds or an epoch.
        return max(0.0, reset_value - time.time()) if reset_value > 10**9 else reset_value
    return None


def json_or_error(
    response: httpx.Response, *, network: str, describe_error: Callable[[dict], str] | None = None
) -> dict:
    """The JSON body of a successful response, or a ConnectorError that says clearly what went wrong."""
    content_type = response.headers.get("content-type", "")
    body = None
    if "json" in content_type:
        try:
            body = response.json()
        except ValueError:
            body = None
    if response.is_success:
        if body is None:
            raise ConnectorError(
                f"{network} answered with {_kind_of(content_type)} instead of the data Schoolgate asked for; "
                "the service may be down, in maintenance or behind a login page.",
                permanent=False,
                status=response.status_code,
            )
        return body
    detail = describe_error(body) if (describe_error and isinstance(body, dict)) else ""
    detail = short(detail) or "no reason given"
    status = response.status_code
    message = f"{network} refused the request (HTTP {status}): {detail}"
    if status == 429:
        raise ConnectorError(
            f"{network} rate limit reached: {detail}", retry_after=retry_after_seconds(response), status=status
        )
    if status >= 500 or status == 408:
        raise ConnectorError(message, retry_after=retry_after_seconds(response), status=status)
    raise ConnectorError(message, permanent=True, status=status)


def short(text: str, limit: int = 200) -> str:
    """A remote error message as one short line (it is shown to people and stored)."""
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _kind_of(content_type: str) -> str:
    kind = content_type.split(";")[0].strip().lower()
    if not kind:
        return "no content type"
    return "a web page" if kind in ("text/html", "application/xhtml+xml") else kind


def call(send: Callable[[], httpx.Response], *, network: str) -> httpx.Response:
    """Send once, turning transport failures (timeouts, refused connections) into transient errors."""
    try:
        return send()
    except ConnectorError:
        raise  # the address guard said no, in words already
    except httpx.TimeoutException as exc:
        raise ConnectorError(f"{network} did not answer in time.") from exc
    except httpx.TransportError as exc:
        raise ConnectorError(f"Could not reach {network}: {describe_transport_error(exc, host=_host(exc))}") from exc


def _host(exc: httpx.TransportError) -> str:
    """The host the request was for (the Host header: the guard may have pinned the URL to an address)."""
    try:
        request = exc.request
    except RuntimeError:  # httpx raises when the error was not given its request
        return ""
    header = request.headers.get("host", "")
    return (urllib.parse.urlsplit(f"//{header}").hostname if header else None) or request.url.host


def with_retries(
    operation: Callable[[], object],
    *,
    attempts: int = 3,
    base_delay: float = 1.0,
    max_delay: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
):
    """Run an operation, retrying transient ConnectorErrors with exponential backoff (or as told)."""
    for attempt in range(1, attempts + 1):
        try:
            return operation()
        except ConnectorError as error:
            if error.permanent or attempt == attempts:
                raise
            delay = error.retry_after if error.retry_after is not None else base_delay * 2 ** (attempt - 1)
            sleep(min(delay, max_delay))
    raise AssertionError("unreachable")
