"""The Mastodon connector: OAuth per instance, then publish, read, answer and moderate with Mastodon.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import io
import mimetypes
import re
import time
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import httpx
import requests
from django.utils.html import strip_tags
from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonIllegalArgumentError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonVersionError,
)
from mastodon.return_types import Notification
from mastodon.types_base import PaginatableList

from schoolgate.connectors import cursors, http
from schoolgate.connectors.addresses import check_url, checked_address, describe_transport_error, host_is_allow_listed
from schoolgate.connectors.base import (
    AccountIdentity,
    Capability,
    ConnectionFlow,
    Connector,
    ConnectorError,
    Credentials,
    InboxPage,
    ItemGone,
    ItemKind,
    Limits,
    MediaItem,
    OAuthClient,
    Published,
    ReadWay,
    RemoteItem,
    RemoteMedia,
    jsonable,
    link_on_hosts,
)

# Least privilege: exactly what the capabilities below need, never the broad "write" or "follow".
SCOPES = (
    "read:accounts",
    "read:statuses",
    "read:notifications",
    "write:statuses",
    "write:media",
    "write:blocks",
    "write:mutes",
    "write:reports",
)
APP_NAME = "Schoolgate"
APP_WEBSITE = "https://github.com/schoolgate"
# Mastodon.py takes one timeout for every request; requests reads a (connect, read) pair.
REQUEST_TIMEOUT = (http.TIMEOUT.connect, http.TIMEOUT.read)
# The oldest Mastodon we support; pinning it stops Mastodon.py probing the instance before each call
# and makes it upload through /api/v2/media.
MINIMUM_VERSION = "4.0.0"
VISIBILITY_ORDER = ("public", "unlisted", "private", "direct")
REPORT_COMMENT_LIMIT = 1000  # Mastodon refuses longer report comments
MENTION_PAGES = 10  # at most this many pages of 40 notifications per fetch
INBOX_PAGE = 40  # notifications per inbox read (mainline allows 80; 40 is what every server accepts)
FIRST_READ_BACK = dt.timedelta(days=3)  # a first inbox read goes back this far, never the whole history
# https://<server>/@user/<id>, /@user@domain/<id> (a remote view) or /users/<user>/statuses/<id>
STATUS_LINK = re.compile(r"/(?:@(?P<user>[\w.-]+)(?:@[\w.-]+)?|users/(?P<local>[\w.-]+)/statuses)/(?P<id>\d+)/?")


def instance_base_url(instance_url: str) -> str:
    """The instance's origin ("https://host") from what a person typed ("mastodon.social", a profile URL)."""
    value = instance_url.strip()
    if "://" not in value:
        value = f"https://{value}"
    parts = urllib.parse.urlsplit(value)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        raise ConnectorError(f"{instance_url!r} is not the address of a Mastodon server.", permanent=True)
    # Plain http only to an allow-listed server (development, tests, a trust's own): OAuth codes and tokens
    # must never cross a network in the clear.
    if parts.scheme == "http" and not host_is_allow_listed(host):
        raise ConnectorError(f"Mastodon servers must be reached over https, not {instance_url!r}.", permanent=True)
    return f"{parts.scheme}://{parts.netloc}"


def _describe_oauth_error(body: dict) -> str:
    return str(body.get("error_description") or body.get("error") or "")


def _network_name(base_url: str) -> str:
    return f"Mastodon ({urllib.parse.urlsplit(base_url).netloc})"


def _plain_text(content: str) -> str:
    """Mastodon sends statuses as HTML; the inbox shows the words, with line breaks kept."""
    text = re.sub(r"<br\s*/?>", "\n", content, flags=re.IGNORECASE)
    text = re.sub(r"</p>\s*<p[^>]*>", "\n\n", text, flags=re.IGNORECASE)
    return html.unescape(strip_tags(text)).strip()


def _media_type(attachment) -> str:
    """Mastodon names the kind of attachment (image, video, gifv, audio), not its MIME type: guess from the file."""
    url = attachment.get("url") or attachment.get("remote_url") or ""
    guessed, _ = mimetypes.guess_type(urllib.parse.urlsplit(url).path)
    if guessed:
        return guessed
    kind = attachment.get("type") or ""
    return {"image": "image/*", "gifv": "video/mp4", "video": "video/*", "audio": "audio/*"}.get(kind, "")


def _aware(value: dt.datetime | str) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class _RecordingSession(requests.Session):
    """Mastodon.py's session, remembering the last response so a failure can be explained precisely
    (status, content type, Retry-After), which Mastodon.py's exceptions do not carry.

    Every request's host passes the address guard first (Mastodon.py turns any exception into a network
    error, so the refusal is kept in `refused`), and redirects are not followed: a server could otherwise
    send Schoolgate on to an address inside the host's network.
    """

    last_response: requests.Response | None = None
    refused: ConnectorError | None = None

    def request(self, method, url, *args, **kwargs):
        self.last_response, self.refused = None, None
        parts = urllib.parse.urlsplit(url)
        try:
            if parts.scheme != "https" and not host_is_allow_listed(parts.hostname or ""):
                raise ConnectorError("Mastodon servers must be reached over https.", permanent=True)
            checked_address(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        except ConnectorError as error:
            self.refused = error
            raise
        kwargs.setdefault("timeout", REQUEST_TIMEOUT)
        kwargs["allow_redirects"] = False
        response = super().request(method, url, *args, **kwargs)
        self.last_response = response
        return response


class MastodonConnector(Connector):
    network = "mastodon"
    label = "Mastodon"
    replies_idempotent = True
    capabilities = frozenset(
        {
            Capability.PUBLISH,
            Capability.PUBLISH_IMAGES,
            Capability.FETCH_REPLIES,
            Capability.FETCH_MENTIONS,
            Capability.REPLY,
            Capability.DELETE_OWN,
            Capability.BLOCK,
            Capability.UNBLOCK,
            Capability.MUTE,
            Capability.UNMUTE,
            Capability.REPORT,
            Capability.READ_MESSAGES,
        }
    )
    # Everything arrives as a mention notification: Mastodon has no separate reply or message feed.
    reads: ClassVar[dict[str, ReadWay]] = {
        ItemKind.REPLY.value: ReadWay(
            "poll", "Mastodon delivers replies as mentions; Schoolgate reads the mention notifications."
        ),
        ItemKind.MENTION.value: ReadWay(
            "poll", "Mention notifications, including those the account's notification policy filtered."
        ),
        ItemKind.MESSAGE.value: ReadWay(
            "poll", 'A private mention (visibility "direct") is a private message; it arrives with the mentions.'
        ),
    }
    # Mainline Mastodon's defaults (an instance may raise them; /api/v2/instance says by how much).
    limits = Limits(
        max_chars=500,
        max_images=4,
        max_image_bytes=16 * 1024 * 1024,
        image_types=frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"}),
    )
    flow = ConnectionFlow.OAUTH
    # Mastodon keeps Idempotency-Keys for about an hour (PR #2419) and offers no lookup by key.
    key_remembered_for: ClassVar[dt.timedelta | None] = dt.timedelta(hours=1)
    # Waits between checks of an upload Mastodon is still processing (GIFs become videos); then give up.
    media_processing_waits: ClassVar[tuple[float, ...]] = (0.5, 1.0, 2.0, 4.0, 8.0)
    sleep: ClassVar[Callable[[float], None]] = staticmethod(time.sleep)

    def __init__(self, credentials: Credentials, *, base_url: str | None = None):
        super().__init__(credentials, base_url=base_url)
        self.instance = instance_base_url(base_url or credentials.data["instance"])
        self._session = _RecordingSession()
        self._api = Mastodon(
            access_token=credentials.data["access_token"],
            api_base_url=self.instance,
            request_timeout=REQUEST_TIMEOUT,
            ratelimit_method="throw",  # never sleep inside a request; the job decides when to retry
            mastodon_version=MINIMUM_VERSION,
            version_check_mode="created",
            session=self._session,
            user_agent=http.USER_AGENT,
        )

    @classmethod
    def post_link_problem(cls, account, url: str, *, connector: Connector | None = None) -> str:
        """A status link on the account's own server and by its own name; when connected, a status of ours."""
        connection = getattr(account, "connection", None)
        instance = getattr(connection, "service_url", "") or account.instance_url
        if not instance:
            return "Schoolgate does not know this account's Mastodon server, so it cannot check the link."
        host = (urllib.parse.urlsplit(instance_base_url(instance)).hostname or "").lower()
        handle = getattr(connection, "remote_handle", "") or account.handle
        username, _, handle_domain = handle.strip().lstrip("@").lower().partition("@")
        # Post links use the server's web address; a server may also give its handles another domain.
        hosts = frozenset({host, handle_domain} - {""})
        parts, problem = link_on_hosts(url, hosts, f"the account's Mastodon server ({host})")
        if problem:
            return problem
        match = STATUS_LINK.fullmatch(parts.path)
        if match is None:
            return "That link is not a Mastodon post: open the post and copy its link (…/@name/123…)."
        linked = (match["user"] or match["local"]).lower()
        if username and linked != username:
            return f"That post was made by @{linked}, not by this account ({handle})."
        if connector is not None:
            try:
                status = connector._call("checking the post", connector._api.status, match["id"])
            except ConnectorError as error:
                if error.status == 404:
                    return "Mastodon has no such post. Check the link."
                return "Schoolgate could not ask Mastodon whether the post is there. Try again in a few minutes."
            own_id = getattr(connection, "remote_id", "")
            if own_id and str(status["account"]["id"]) != own_id:
                return "That post is not one of this account's posts. Check the link."
        return ""

    # Connecting: plain OAuth calls through the shared HTTP module (Mastodon.py's create_app and
    # log_in do not check status codes and turn every failure into an argument error).
    @classmethod
    def register_app(cls, *, instance_url: str, redirect_uri: str) -> OAuthClient:
        """Register Schoolgate as an app on this instance (once per instance; the caller stores it)."""
        base_url = check_url(instance_base_url(instance_url), what="Mastodon server")
        network = _network_name(base_url)
        data = {
            "client_name": APP_NAME,
            "redirect_uris": redirect_uri,
            "scopes": " ".join(SCOPES),
            "website": APP_WEBSITE,
        }
        with http.client(base_url=base_url) as client:
            response = http.call(lambda: client.post("/api/v1/apps", data=data), network=network)
        body = http.json_or_error(response, network=network, describe_error=_describe_oauth_error)
        if not body.get("client_id") or not body.get("client_secret"):
            raise ConnectorError(
                f"{network} did not return an app id and secret; it may not be a Mastodon server.", permanent=True
            )
        return OAuthClient(client_id=body["client_id"], client_secret=body["client_secret"], base_url=base_url)

    @classmethod
    def authorization_url(cls, *, client: OAuthClient, redirect_uri: str, state: str) -> str:
        query = urllib.parse.urlencode(
            {
                "client_id": client.client_id,
                "response_type": "code",
                "redirect_uri": redirect_uri,
                "scope": " ".join(SCOPES),
                "state": state,
            }
        )
        return f"{instance_base_url(client.base_url)}/oauth/authorize?{query}"

    @classmethod
    def exchange_code(cls, *, client: OAuthClient, code: str, redirect_uri: str, state: str = "") -> Credentials:
        base_url = instance_base_url(client.base_url)
        network = _network_name(base_url)
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client.client_id,
            "client_secret": client.client_secret,
            "redirect_uri": redirect_uri,
            "scope": " ".join(SCOPES),
        }
        with http.client(base_url=base_url) as http_client:
            response = http.call(lambda: http_client.post("/oauth/token", data=data), network=network)
        body = http.json_or_error(response, network=network, describe_error=_describe_oauth_error)
        if not body.get("access_token"):
            raise ConnectorError(f"{network} did not return an access token.", permanent=True)
        granted = str(body.get("scope", "")).split()
        # A broad scope ("write") covers its granular ones ("write:statuses").
        missing = [scope for scope in SCOPES if scope not in granted and scope.split(":")[0] not in granted]
        if missing:
            raise ConnectorError(
                f"{network} did not grant {', '.join(missing)}; connect again and allow them.", permanent=True
            )
        # Mastodon tokens do not expire; they last until revoked.
        return Credentials(
            data={"access_token": body["access_token"], "scope": " ".join(granted), "instance": base_url}
        )

    # Identity
    def identity(self) -> AccountIdentity:
        account = self._call("checking the account", self._api.account_verify_credentials)
        instance = self._call("reading the server's details", self._api.instance_v2)
        # The handle's domain is the instance's own (it can differ from the web address).
        domain = instance.get("domain") or urllib.parse.urlsplit(self.instance).hostname
        return AccountIdentity(
            remote_id=str(account["id"]),
            handle=f"@{account['username']}@{domain}",
            display_name=account.get("display_name") or "",
            url=account.get("url") or "",
        )

    # Publishing
    def publish(self, text: str, *, media: Sequence[MediaItem] = (), key: str) -> Published:
        """Upload the images with their alt text, then post them in one status.

        The Idempotency-Key makes a retry with the same key return the first status instead of
        posting again, for as long as the instance remembers the key (an hour on mainline Mastodon).
        A retry uploads the images again; Mastodon removes unattached uploads by itself.
        """
        if len(media) > self.limits.max_images:
            raise ConnectorError(
                f"Mastodon allows {self.limits.max_images} images per post; this has {len(media)}.", permanent=True
            )
        media_ids = [self._upload(item) for item in media]
        status = self._call(
            "publishing", lambda: self._api.status_post(text, media_ids=media_ids or None, idempotency_key=key)
        )
        return Published(remote_id=str(status["id"]), url=status.get("url") or "")

    def _upload(self, item: MediaItem) -> str:
        attachment = self._call(
            f"uploading {item.filename}",
            lambda: self._api.media_post(
                io.BytesIO(item.data), mime_type=item.mime_type, description=item.alt_text, file_name=item.filename
            ),
        )
        # /api/v2/media answers before large or animated uploads are processed (url is null); a status
        # cannot use them until they are.
        for wait in self.media_processing_waits:
            if attachment.get("url"):
                break
            self.sleep(wait)
            attachment = self._call(f"checking {item.filename}", self._api.media, attachment["id"])
        if not attachment.get("url"):
            raise ConnectorError(
                f"{_network_name(self.instance)} is still processing {item.filename}; try again in a few minutes."
            )
        return str(attachment["id"])

    def delete_own(self, remote_id: str) -> None:
        try:
            self._call("deleting our post", lambda: self._api.status_delete(remote_id))
        except ConnectorError as error:
            if error.status != 404:  # already gone: deleting twice is not a failure
                raise

    # Reading
    def fetch_replies(self, remote_post_id: str) -> list[RemoteItem]:
        """Every reply below the post, at any depth (our own replies included; their author_id is ours)."""
        context = self._call("reading replies", lambda: self._api.status_context(remote_post_id))
        return [self._item(status) for status in context["descendants"]]

    def fetch_mentions(self, *, since: dt.datetime | None = None) -> list[RemoteItem]:
        """Statuses that mention the account, newest first: the latest page, or everything after `since`."""
        items: list[RemoteItem] = []
        page = self._call("reading mentions", lambda: self._api.notifications(types=["mention"], limit=40))
        for _ in range(MENTION_PAGES):
            if not page:
                break
            for notification in page:
                status = notification.get("status")
                if status is None:  # the status was deleted after it mentioned us
                    continue
                item = self._item(status)
                if since is None or item.created_at > since:
                    items.append(item)
            oldest = _aware(page[-1]["created_at"])
            if since is None or oldest <= since:
                break
            page = self._call("reading older mentions", self._api.fetch_next, page)
        return items

    def read_inbox(self, *, cursor: str, posts: Sequence[str] = ()) -> InboxPage:
        """Mention notifications after the cursor's notification id, oldest first, one page per call.

        1. A first run ("") reads the newest page and keeps what arrived in the last FIRST_READ_BACK.
        2. Later runs ask for min_id=<cursor>: Mastodon returns the page of notifications just above it
           (newest first within the page), so reading upwards from the cursor misses nothing and the
           cursor only moves up; a full page means there may be more above it (more=True).
        Notification ids only grow, so the same cursor gives the same items.
        """
        try:
            state = cursors.load(cursor, network=self.label)
        except ValueError as error:
            raise ConnectorError(str(error), permanent=True) from error
        min_id = state.get("min_id")
        page = self._call("reading the inbox", self._notifications, min_id=min_id)
        if not isinstance(page, list) or any(not isinstance(n, dict) or "id" not in n for n in page):
            raise ConnectorError(
                f"{_network_name(self.instance)} answered the inbox read with something that is not a list of "
                "notifications; the server may not be a Mastodon server.",
            )
        # Notification ids are numeric strings; compare them as numbers.
        ordered = sorted(page, key=lambda notification: int(notification["id"]))
        if min_id is None:
            since = dt.datetime.now(dt.UTC) - FIRST_READ_BACK
            wanted = [n for n in ordered if _aware(n["created_at"]) >= since]
            more = False
        else:
            wanted = ordered
            more = len(page) >= INBOX_PAGE
        top = ordered[-1]["id"] if ordered else (min_id or "0")
        ours = {str(post) for post in posts}
        items = [
            self._inbox_item(notification["status"], ours=ours)
            for notification in wanted
            if notification.get("status") is not None  # the status was deleted after it mentioned us
        ]
        return InboxPage(items=items, cursor=cursors.dump({"min_id": str(top)}), more=more)

    def _notifications(self, *, min_id: str | None) -> PaginatableList[Notification]:
        # Mastodon.py's notifications() has no include_filtered (added in Mastodon 4.3), and without it the
        # notification policy can silently hold back a mention from a new or unfollowed account: a parent's
        # question. Older servers ignore the parameter.
        params: dict[str, Any] = {"types[]": ["mention"], "limit": INBOX_PAGE, "include_filtered": "true"}
        if min_id is not None:
            params["min_id"] = min_id
        return self._api._Mastodon__api_request("GET", "/api/v1/notifications", params)

    def _inbox_item(self, status, *, ours: set[str]) -> RemoteItem:
        """One mentioning status as an inbox item: a private message, a reply to one of our posts, or a mention."""
        in_reply_to = str(status.get("in_reply_to_id") or "")
        if status.get("visibility") == "direct":
            # Mastodon gives statuses no conversation id; the status it answers (or itself) starts the thread.
            kind, root_id = ItemKind.MESSAGE, in_reply_to or str(status["id"])
        elif in_reply_to and in_reply_to in ours:
            kind, root_id = ItemKind.REPLY, in_reply_to
        else:
            kind, root_id = ItemKind.MENTION, ""
        media = tuple(
            RemoteMedia(
                url=attachment.get("url") or attachment.get("remote_url") or "",
                mime_type=_media_type(attachment),
                alt_text=attachment.get("description") or "",
            )
            for attachment in status.get("media_attachments") or ()
        )
        return dataclasses.replace(
            self._item(status), kind=kind.value, root_id=root_id, media=media, raw=jsonable(status)
        )

    def _item(self, status) -> RemoteItem:
        account = status["account"]
        return RemoteItem(
            remote_id=str(status["id"]),
            author_id=str(account["id"]),
            author_handle=f"@{account['acct']}",
            author_name=account.get("display_name") or "",
            text=_plain_text(status.get("content") or ""),
            created_at=_aware(status["created_at"]),
            url=status.get("url") or status.get("uri") or "",
            in_reply_to=str(status.get("in_reply_to_id") or ""),
        )

    # Answering and moderating
    def reply(self, item: RemoteItem, text: str, *, key: str) -> Published:
        """Reply in the thread, never more visible than what we answer: a reply to a private mention
        or direct message must not become a public post."""
        try:
            original = self._call("reading the post we reply to", lambda: self._api.status(item.remote_id))
        except ConnectorError as error:
            if error.status == 404:
                raise ItemGone(
                    f"{_network_name(self.instance)} no longer has this post; it was deleted.", status=404
                ) from error
            raise
        original_visibility = original.get("visibility") or "public"
        visibility = original_visibility if original_visibility in VISIBILITY_ORDER else "direct"
        status = self._call(
            "replying",
            lambda: self._api.status_post(
                text,
                in_reply_to_id=item.remote_id,
                visibility=None if visibility == "public" else visibility,
                idempotency_key=key,
            ),
        )
        return Published(remote_id=str(status["id"]), url=status.get("url") or "")

    def block(self, author_id: str) -> None:
        self._call("blocking the account", lambda: self._api.account_block(author_id))

    def unblock(self, author_id: str) -> None:
        self._call("unblocking the account", lambda: self._api.account_unblock(author_id))

    def mute(self, author_id: str) -> None:
        self._call("muting the account", lambda: self._api.account_mute(author_id))

    def unmute(self, author_id: str) -> None:
        self._call("unmuting the account", lambda: self._api.account_unmute(author_id))

    def report(self, item: RemoteItem, *, reason: str) -> None:
        """Report the status to our instance's moderators, and to the author's server when remote."""
        self._call(
            "reporting the post",
            lambda: self._api.report(
                item.author_id,
                status_ids=[item.remote_id],
                comment=reason[:REPORT_COMMENT_LIMIT],
                forward=True,
                category="other",
            ),
        )

    # Errors
    def _call(self, doing: str, operation: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call Mastodon.py; `doing` completes "... while <doing>" in the error shown to people."""
        try:
            return operation(*args, **kwargs)
        except MastodonError as exc:
            raise self._error(exc, doing) from exc

    def _error(self, exc: MastodonError, doing: str) -> ConnectorError:
        """Turn a Mastodon.py exception into a ConnectorError that says what happened and whether to retry."""
        network = _network_name(self.instance)
        response = self._session.last_response
        if self._session.refused is not None:
            return self._session.refused
        if isinstance(exc, MastodonRatelimitError):
            return ConnectorError(
                f"{network} rate limit reached while {doing}.",
                retry_after=self._retry_after(response, rate_limited=True),
                status=429,
            )
        if isinstance(exc, (MastodonIllegalArgumentError, MastodonVersionError)):
            return ConnectorError(f"Could not send this to {network} while {doing}: {exc}", permanent=True)
        if isinstance(exc, MastodonNetworkError) or not isinstance(exc, MastodonAPIError) or response is None:
            host = urllib.parse.urlsplit(self.instance).hostname or ""
            return ConnectorError(
                f"Could not reach {network} while {doing}: {describe_transport_error(exc, host=host)}"
            )
        status = response.status_code
        content_type = response.headers.get("content-type", "").split(";")[0].strip()
        if response.ok and "json" in content_type:
            # Mastodon.py could not parse what was sent as JSON (cut short, or not JSON at all).
            return ConnectorError(
                f"{network} sent an answer that could not be read (malformed JSON) while {doing} (HTTP {status}); "
                "the server may be overloaded or not a Mastodon server.",
                permanent=False,
                retry_after=self._retry_after(response),
                status=status,
            )
        if response.ok or "json" not in content_type:
            # Never the body itself: whatever answered may not be Mastodon at all.
            what = "a web page" if content_type == "text/html" else (content_type or "no content type")
            return ConnectorError(
                f"{network} answered with {what} instead of the data it expected while {doing} (HTTP {status}); "
                "the server may be down, in maintenance or not a Mastodon server.",
                permanent=False,
                retry_after=self._retry_after(response),
                status=status,
            )
        detail = http.short(exc.args[3] if len(exc.args) > 3 and exc.args[3] else response.reason)
        if status == 401:
            return ConnectorError(
                f"{network} no longer accepts Schoolgate's access ({detail}) while {doing}; "
                "the token was revoked or the account removed. Connect the account again.",
                permanent=True,
                status=status,
            )
        if status == 403:
            return ConnectorError(
                f"{network} does not allow this ({detail}) while {doing}; the account may be "
                "suspended or lack a permission.",
                permanent=True,
                status=status,
            )
        if status == 429:
            return ConnectorError(
                f"{network} rate limit reached while {doing}.",
                retry_after=self._retry_after(response, rate_limited=True),
                status=status,
            )
        if status >= 500 or status == 408:
            return ConnectorError(
                f"{network} had a problem (HTTP {status}: {detail}) while {doing}.",
                retry_after=self._retry_after(response),
                status=status,
            )
        return ConnectorError(
            f"{network} refused this (HTTP {status}: {detail}) while {doing}.", permanent=True, status=status
        )

    @staticmethod
    def _retry_after(response: requests.Response | None, *, rate_limited: bool = False) -> float | None:
        """Seconds to wait: Retry-After; for a rate limit, else X-RateLimit-Reset (ISO 8601 on Mastodon).

        Mastodon sends X-RateLimit-Reset on every response, so it says nothing about when a 5xx ends.
        """
        if response is None:
            return None
        seconds = http.retry_after_seconds(httpx.Response(response.status_code, headers=dict(response.headers)))
        reset = response.headers.get("x-ratelimit-reset", "").strip()
        if seconds is not None or not rate_limited or not reset:
            return seconds
        try:
            when = dt.datetime.fromtimestamp(float(reset), dt.UTC) if reset.isdigit() else _aware(reset)
        except ValueError:
            return None
        return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
