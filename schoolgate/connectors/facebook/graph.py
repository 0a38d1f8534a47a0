"""Meta's Graph API, shared by the Facebook and Instagram connectors: one pinned version, error mapping,
usage headers, and the Facebook Login steps both use.

Reference pages followed:
- Errors: https://developers.facebook.com/docs/graph-api/guides/error-handling
  ({"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}; 190 = token expired or
  revoked; 4, 17, 32, 613 = throttled; 1, 2 = temporary; 100 with subcode 33 = the object does not exist).
- Rate limits: https://developers.facebook.com/docs/graph-api/overview/rate-limiting
  (X-App-Usage: {"call_count", "total_cputime", "total_time"} in percent; X-Business-Use-Case-Usage:
  {"<business-id>": [{"type", "call_count", "total_cputime", "total_time",
  "estimated_time_to_regain_access" (minutes)}]}).
- Login: https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow and
  https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived

Secrets never go in a URL (URLs end up in logs, proxies and error reports): the access token is sent as
`Authorization: Bearer <token>`, which the Graph API accepts in place of the access_token parameter, and
the code exchange sends client_secret, code and fb_exchange_token in a POST form body, the form OAuth 2.0
(RFC 6749 section 4.1.3) gives token endpoints and which /oauth/access_token accepts like its GET form.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.parse

import httpx
from django.core.cache import cache
from django.utils import timezone

from schoolgate.connectors import http
from schoolgate.connectors.base import ConnectorError, ItemGone, OAuthClient

GRAPH_VERSION = "v23.0"  # the one place the Graph API version is pinned
GRAPH_URL = f"https://graph.facebook.com/{GRAPH_VERSION}"
DIALOG_URL = f"https://www.facebook.com/{GRAPH_VERSION}/dialog/oauth"

TOKEN_ERROR_CODES = frozenset({102, 190})
THROTTLE_ERROR_CODES = frozenset({4, 17, 32, 613})
TEMPORARY_ERROR_CODES = frozenset({1, 2})
# GraphMethodException code 100, subcode 33: "Object with ID ... does not exist" — deleted on the network (or no
# longer visible to us), which for a comment means it is gone whatever we meant to do to it.
GONE_ERROR = (100, 33)
USAGE_CEILING = 90  # percent: stop calling before Meta locks the app or the account out
# When a throttle gives no estimate, wait this long (Meta's windows roll over an hour).
DEFAULT_THROTTLE_WAIT = 600.0


def parse_time(value: str) -> dt.datetime:
    """Graph timestamps look like 2026-11-03T09:15:02+0000."""
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")


def describe_error(body: dict) -> str:
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    parts = [str(error.get("error_user_msg") or error.get("message") or "unknown error")]
    if error.get("code") is not None:
        code = f"code {error['code']}"
        if error.get("error_subcode"):
            code += f"/{error['error_subcode']}"
        parts.append(code)
    if error.get("fbtrace_id"):
        parts.append(f"fbtrace_id {error['fbtrace_id']}")
    return "; ".join(parts)


def _json_header(value: str | None) -> dict:
    if not value:
        return {}
    try:
        parsed = json.loads(value)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def usage_wait(headers: httpx.Headers) -> float | None:
    """Seconds to hold off when Meta's usage headers say we are at or above the ceiling."""
    waits = []
    app_usage = _json_header(headers.get("x-app-usage"))
    if any(isinstance(v, int | float) and v >= USAGE_CEILING for v in app_usage.values()):
        waits.append(DEFAULT_THROTTLE_WAIT)
    for entries in _json_header(headers.get("x-business-use-case-usage")).values():
        for entry in entries if isinstance(entries, list) else []:
            used = max((entry.get(k) or 0) for k in ("call_count", "total_cputime", "total_time"))
            regain_minutes = entry.get("estimated_time_to_regain_access") or 0
            if regain_minutes > 0:
                waits.append(regain_minutes * 60.0)
            elif used >= USAGE_CEILING:
                waits.append(DEFAULT_THROTTLE_WAIT)
    return max(waits) if waits else None


def graph_json(response: httpx.Response, *, network: str) -> dict:
    """The body of a Graph response, or a ConnectorError classified by Meta's error code."""
    body = None
    if "json" in response.headers.get("content-type", ""):
        try:
            body = response.json()
        except ValueError:
            raise ConnectorError(
                f"{network} answered with JSON it could not read (HTTP {response.status_code}); "
                "Meta may be having a problem, so Schoolgate will try again later.",
                status=response.status_code,
            ) from None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = error.get("code")
        detail = http.short(describe_error(body))
        status = response.status_code
        if code in TOKEN_ERROR_CODES:
            raise ConnectorError(
                f"{network} no longer accepts Schoolgate's access token ({detail}); connect the account again.",
                permanent=True,
                status=status,
            )
        if (code, error.get("error_subcode")) == GONE_ERROR:
            trace = f"; fbtrace_id {error['fbtrace_id']}" if error.get("fbtrace_id") else ""
            raise ItemGone(
                f"{network} says it no longer exists: deleted, or no longer visible to the account "
                f"(code 100/33{trace}).",
                status=status,
            )
        if code in THROTTLE_ERROR_CODES:
            wait = usage_wait(response.headers) or DEFAULT_THROTTLE_WAIT
            raise ConnectorError(f"{network} rate limit reached: {detail}", retry_after=wait, status=status)
        if code in TEMPORARY_ERROR_CODES or error.get("is_transient") or status >= 500:
            raise ConnectorError(f"{network} had a temporary problem: {detail}", status=status)
        raise ConnectorError(f"{network} refused the request (HTTP {status}): {detail}", permanent=True, status=status)
    return http.json_or_error(response, network=network, describe_error=describe_error)


class GraphSession:
    """Calls to the Graph API with one token, honouring (and remembering) Meta's usage headers.

    A lockout learnt from the headers is kept in Django's cache per network and account, so the next
    job for the same account waits instead of pushing Meta into blocking the app.
    """

    def __init__(self, *, network: str, token: str, account_id: str, transport: httpx.BaseTransport | None):
        self.network = network
        self.token = token
        self.lockout_key = f"connectors:{network}:lockout:{account_id}"
        self.transport = transport

    def get(self, path: str, **params) -> dict:
        return self.request("GET", path, params=params)

    def post(self, path: str, *, files: dict | None = None, **data) -> dict:
        return self.request("POST", path, data=data, files=files)

    def delete(self, path: str) -> dict:
        return self.request("DELETE", path)

    def request(self, method: str, path: str, *, params=None, data=None, files=None) -> dict:
        locked_until = cache.get(self.lockout_key)
        if locked_until and locked_until > time.time():
            raise ConnectorError(
                f"{self.network} asked us to slow down; waiting before calling again.",
                retry_after=locked_until - time.time(),
            )
        # The token goes in a header, never in the URL (see the module docstring).
        headers = {"Authorization": f"Bearer {self.token}"}
        with http.client(base_url=GRAPH_URL, headers=headers, transport=self.transport) as client:
            response = http.call(
                lambda: client.request(method, path, params=params, data=data or None, files=files),
                network=self.network,
            )
        wait = usage_wait(response.headers)
        if wait:
            cache.set(self.lockout_key, time.time() + wait, timeout=int(wait) + 1)
        return graph_json(response, network=self.network)


def dialog_url(*, client: OAuthClient, redirect_uri: str, state: str, scopes: tuple[str, ...]) -> str:
    query = urllib.parse.urlencode(
        {
            "client_id": client.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "response_type": "code",
            "scope": ",".join(scopes),
        }
    )
    return f"{DIALOG_URL}?{query}"


def long_lived_user_token(
    *, client: OAuthClient, code: str, redirect_uri: str, network: str, transport: httpx.BaseTransport | None
) -> tuple[str, dt.datetime | None]:
    """Facebook Login steps 1-2: code -> short-lived user token -> long-lived user token (about 60 days)."""
    with http.client(base_url=GRAPH_URL, transport=transport) as http_client:

        def token(form: dict) -> dict:
            response = http.call(lambda: http_client.post("/oauth/access_token", data=form), network=network)
            body = graph_json(response, network=network)
            if not body.get("access_token"):
                raise ConnectorError(f"{network} answered the token request without an access token.", permanent=True)
            return body

        short = token(
            {
                "client_id": client.client_id,
                "redirect_uri": redirect_uri,
                "client_secret": client.client_secret,
                "code": code,
            }
        )
        long = token(
            {
                "grant_type": "fb_exchange_token",
                "client_id": client.client_id,
                "client_secret": client.client_secret,
                "fb_exchange_token": short["access_token"],
            }
        )
    expires_in = long.get("expires_in")
    expires_at = timezone.now() + dt.timedelta(seconds=int(expires_in)) if expires_in else None
    return long["access_token"], expires_at
