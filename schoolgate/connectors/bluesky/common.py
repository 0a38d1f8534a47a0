"""What the Bluesky connector's parts share: record keys, links, errors, the SDK client, and reading helpers."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import urllib.parse
from typing import TypeVar

import httpx
from atproto import Client, models
from atproto_client.client.session import Session
from atproto_client.exceptions import (
    BadRequestError,
    InvokeTimeoutError,
    LoginRequiredError,
    RateLimitExceededError,
    RequestErrorBase,
    UnauthorizedError,
)
from atproto_client.models.common import XrpcError
from atproto_client.request import Request
from atproto_core.uri import AtUri

from schoolgate.connectors import http
from schoolgate.connectors.addresses import describe_transport_error, guarded_transport
from schoolgate.connectors.base import (
    ConnectorError,
    Credentials,
    RemoteMedia,
)

T = TypeVar("T")

POST = "app.bsky.feed.post"
THREADGATE = "app.bsky.feed.threadgate"
BLOCK = "app.bsky.graph.block"
WEB_URL = "https://bsky.app"
# Only app passwords: a session from the main password could delete the account or change its email.
APP_PASSWORD_SCOPES = frozenset({"com.atproto.appPass", "com.atproto.appPassPrivileged"})
# bsky.app/profile/<handle or DID>/post/<record key>
POST_LINK = re.compile(r"/profile/(?P<actor>[^/]+)/post/(?P<rkey>[A-Za-z0-9._:~-]{1,512})/?")
# Error names the PDS uses when the session or password is no longer any good: reconnecting is the fix.
AUTH_ERRORS = frozenset(
    {"AuthenticationRequired", "ExpiredToken", "InvalidToken", "AuthMissing", "AccountTakedown", "AccountDeactivated"}
)
MAX_HIDDEN_REPLIES = 300  # the thread gate lexicon's limit
MENTION_REASONS = frozenset({"mention", "reply", "quote"})
MENTION_PAGES = 10  # at most this many pages of 50 notifications per fetch
BLOCK_PAGES = 20  # existing blocks checked before blocking again (100 per page)
REPORT_REASON_LIMIT = 2000
GET_POSTS_LIMIT = 25  # app.bsky.feed.getPosts takes at most this many URIs
INBOX_REASONS = ("reply", "mention", "quote")  # the notifications that are someone speaking to or about us

TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def record_key(key: str) -> str:
    """The record key (a TID) for a delivery key of the form "<stable id>@<ISO-8601 creation time>".

    A TID is 53 bits of microseconds since the epoch and a 10-bit clock id, written in sortable base32.
    The time comes from the delivery's stored creation time and the clock id from a hash of the whole key,
    never from the time of the attempt: a retry of the same delivery writes the same record, and the PDS
    refuses to create it twice.
    """
    _, _, stamp = key.rpartition("@")
    try:
        created_at = dt.datetime.fromisoformat(stamp)
    except ValueError:
        created_at = None
    if created_at is None or created_at.tzinfo is None:
        raise ValueError(
            "A Bluesky publish key must end with the delivery's creation time, e.g. "
            f"'delivery-7@2026-11-22T09:30:00+00:00'; got {key!r}."
        )
    micros = int(created_at.timestamp() * 1_000_000)
    clock_id = int.from_bytes(hashlib.sha256(key.encode()).digest()[:2]) % 1024
    value = (micros << 10) | clock_id
    return "".join(TID_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def post_url(uri: str) -> str:
    """The bsky.app address of a post, by DID so that it survives a change of handle."""
    parts = AtUri.from_str(uri)
    return f"{WEB_URL}/profile/{parts.host}/post/{parts.rkey}"


def _error_name(error: RequestErrorBase) -> str:
    content = error.response.content if error.response is not None else None
    return content.error if isinstance(content, XrpcError) else ""


def _error_detail(error: RequestErrorBase) -> str:
    # Only the server's own short error message: never the body of whatever answered.
    content = error.response.content if error.response is not None else None
    if isinstance(content, XrpcError):
        return http.short(content.message or content.error) or "no reason given"
    return "no reason given"


def connector_error(error: Exception, *, doing: str, host: str = "") -> ConnectorError:
    """A ConnectorError saying what failed and whether retrying can help."""
    if isinstance(error, ConnectorError):
        return error
    if isinstance(error, InvokeTimeoutError):
        return ConnectorError(f"Bluesky did not answer in time while {doing}.")
    if isinstance(error, RateLimitExceededError):
        retry_after = error.retry_after
        if retry_after is None and error.reset_at is not None:
            retry_after = max(0.0, (error.reset_at - dt.datetime.now(dt.UTC)).total_seconds())
        return ConnectorError(f"Bluesky rate limit reached while {doing}.", retry_after=retry_after, status=429)
    if isinstance(error, RequestErrorBase) and error.response is None:
        cause = error.__cause__ or error
        return ConnectorError(f"Could not reach Bluesky while {doing}: {describe_transport_error(cause, host=host)}")
    if isinstance(error, RequestErrorBase):
        status = error.response.status_code
        name, detail = _error_name(error), _error_detail(error)
        if isinstance(error, UnauthorizedError) or name in AUTH_ERRORS:
            return ConnectorError(
                f"Bluesky no longer accepts this connection ({detail}): the app password may have been revoked "
                f"or the account suspended. Reconnect the account with a new app password.",
                permanent=True,
                status=status,
            )
        if status >= 500 or status in (408, 409):
            return ConnectorError(f"Bluesky failed while {doing} (HTTP {status}): {detail}", status=status)
        return ConnectorError(f"Bluesky refused {doing} (HTTP {status}): {detail}", permanent=True, status=status)
    if isinstance(error, LoginRequiredError):
        return ConnectorError("This Bluesky connection has no session: reconnect the account.", permanent=True)
    if isinstance(error, httpx.TransportError):
        return ConnectorError(f"Could not reach Bluesky while {doing}: {describe_transport_error(error, host=host)}")
    return ConnectorError(f"Bluesky sent something Schoolgate could not read while {doing}.", permanent=True)


def _is_not_found(error: Exception) -> bool:
    return isinstance(error, BadRequestError) and _error_name(error) in ("RecordNotFound", "NotFound")


def _new_client(service_url: str) -> Client:
    # The SDK does its own HTTP; give it the same timeouts and address guard as everything else that leaves
    # Schoolgate (the guard also covers the server named in the account's DID document, and redirects).
    return Client(base_url=service_url, request=Request(timeout=http.TIMEOUT, transport=guarded_transport()))


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).hostname or ""


def _credentials_for(session: Session, service_url: str) -> Credentials:
    expires = session.refresh_jwt_payload.exp
    return Credentials(
        data={"session": session.export(), "did": session.did, "handle": session.handle, "service_url": service_url},
        expires_at=dt.datetime.fromtimestamp(expires, tz=dt.UTC) if expires else None,
    )


def _aspect_ratio(data: bytes) -> models.AppBskyEmbedDefs.AspectRatio | None:
    # Pillow comes with WeasyPrint; without a ratio the apps crop the image to a square while it loads.
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError):
        return None
    return models.AppBskyEmbedDefs.AspectRatio(width=width, height=height)


def _parse_time(value: str) -> dt.datetime:
    """An aware datetime from a record's or view's timestamp (records written without a zone are UTC)."""
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def _is_ours(uri: str, did: str) -> bool:
    return bool(uri) and AtUri.from_str(uri).host == did


def _quoted_uri(record) -> str:
    embed = getattr(record, "embed", None)
    quoted = getattr(embed, "record", None)  # embed.record#main, or recordWithMedia's record#main
    quoted = getattr(quoted, "record", quoted)
    return getattr(quoted, "uri", "") or ""


def _jsonable(model) -> dict:
    """An SDK model as plain JSON types, with the lexicon's own field names ($type, createdAt, ...)."""
    if hasattr(model, "to_dict"):  # a DotDict: a record type the SDK has no model for
        return model.to_dict()
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def _media(view, record) -> tuple[RemoteMedia, ...]:
    """Images and video from the post view's embed, with alt text and the type the record declares."""
    embed = getattr(view, "embed", None)
    embed = getattr(embed, "media", embed)  # recordWithMedia: the media beside the quoted post
    declared = getattr(record, "embed", None)
    declared = getattr(declared, "media", declared)
    if isinstance(embed, models.AppBskyEmbedImages.View):
        blobs = [image.image for image in getattr(declared, "images", None) or []]
        types = [getattr(blob, "mime_type", "") for blob in blobs]
        return tuple(
            RemoteMedia(url=image.fullsize, mime_type=types[i] if i < len(types) else "", alt_text=image.alt or "")
            for i, image in enumerate(embed.images)
        )
    if isinstance(embed, models.AppBskyEmbedVideo.View):
        return (RemoteMedia(url=embed.playlist, mime_type="application/vnd.apple.mpegurl", alt_text=embed.alt or ""),)
    if isinstance(embed, models.AppBskyEmbedGallery.View):
        return tuple(
            RemoteMedia(url=image.fullsize, alt_text=image.alt or "")
            for image in embed.items
            if isinstance(image, models.AppBskyEmbedGallery.ViewImage)
        )
    return ()
