"""All outbound HTTP to networks goes through here: timeouts, error mapping, rate-limit headers."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable

import httpx
from django.utils import timezone

from schoolgate.connectors.base import ConnectorError

TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=20.0, pool=5.0)
USER_AGENT = "Schoolgate/0.1 (+https://github.com/schoolgate)"


def client(
    *, base_url: str = "", headers: dict | None = None, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    return httpx.Client(
        base_url=base_url,
        timeout=TIMEOUT,
        transport=transport,
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
            snippet = response.text[:80].replace("\n", " ")
            raise ConnectorError(
                f"{network} answered with {content_type or 'no content type'} instead of JSON "
                f"(starts: {snippet!r}); the service may be down or behind a captive portal.",
                permanent=False,
                status=response.status_code,
            )
        return body
    detail = describe_error(body) if (describe_error and isinstance(body, dict)) else ""
    detail = detail or (response.text[:200] if body is None else str(body)[:200])
    status = response.status_code
    message = f"{network} refused the request (HTTP {status}): {detail}"
    if status == 429:
        raise ConnectorError(
            f"{network} rate limit reached: {detail}", retry_after=retry_after_seconds(response), status=status
        )
    if status >= 500 or status == 408:
        raise ConnectorError(message, retry_after=retry_after_seconds(response), status=status)
    raise ConnectorError(message, permanent=True, status=status)


def call(send: Callable[[], httpx.Response], *, network: str) -> httpx.Response:
    """Send once, turning transport failures (timeouts, refused connections) into transient errors."""
    try:
        return send()
    except httpx.TimeoutException as exc:
        raise ConnectorError(f"{network} did not answer in time ({exc.__class__.__name__}).") from exc
    except httpx.TransportError as exc:
        raise ConnectorError(f"Could not reach {network}: {exc}") from exc


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
