"""The Bluesky connector: an app password, then publish, read, answer and moderate through the atproto SDK."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import re
import urllib.parse
from collections.abc import Callable, Sequence
from typing import ClassVar, TypeVar

import httpx
from atproto import Client, models
from atproto_client.client.session import Session, SessionEvent
from atproto_client.exceptions import (
    AtProtocolError,
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
from schoolgate.connectors.addresses import check_url, describe_transport_error, guarded_transport
from schoolgate.connectors.base import (
    AccountIdentity,
    Capability,
    ConnectionFlow,
    Connector,
    ConnectorError,
    Credentials,
    Limits,
    MediaItem,
    Published,
    RemoteItem,
    link_on_hosts,
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


class BlueskyConnector(Connector):
    """One Bluesky account, reached through its PDS; reads (threads, notifications) go to the AppView via the PDS.

    Credentials.data holds the SDK's session string (handle, DID, access and refresh tokens, PDS address);
    the SDK refreshes the tokens when they near expiry and `credentials` is updated in place when it does.
    """

    network: ClassVar[str] = "bluesky"
    label: ClassVar[str] = "Bluesky"
    flow: ClassVar[ConnectionFlow] = ConnectionFlow.APP_PASSWORD
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.PUBLISH,
            Capability.PUBLISH_IMAGES,
            Capability.FETCH_REPLIES,
            Capability.FETCH_MENTIONS,
            Capability.REPLY,
            Capability.HIDE,
            Capability.DELETE_OWN,
            Capability.BLOCK,
            Capability.MUTE,
            Capability.REPORT,
        }
    )
    # Bluesky counts 300 graphemes (and 3,000 bytes); a code-point count is never lower, so it is safe.
    limits: ClassVar[Limits] = Limits(
        max_chars=300, max_images=4, max_image_bytes=1_000_000, image_types=frozenset({"image/jpeg", "image/png"})
    )
    # Refresh tokens from an app password last about 90 days and rotate on every refresh.
    refresh_ahead: ClassVar[dt.timedelta] = dt.timedelta(days=14)
    web_hosts: ClassVar[frozenset[str]] = frozenset({"bsky.app"})

    def __init__(self, credentials: Credentials, *, base_url: str | None = None):
        super().__init__(credentials, base_url=base_url)
        self._client: Client | None = None

    # Connecting

    @classmethod
    def connect_with_password(cls, *, handle: str, password: str, service_url: str) -> Credentials:
        """Log in with a handle and an app password (never the main password) and return the session to store."""
        service_url = check_url(service_url, what="Bluesky server")
        client = _new_client(service_url)
        try:
            # No profile lookup: a PDS without an AppView cannot answer it, and we do not need it here.
            client.login(handle.strip().lstrip("@"), password.strip(), fetch_bsky_profile=False)
        except AtProtocolError as error:
            if isinstance(error, RequestErrorBase) and _error_name(error) == "AuthenticationRequired":
                raise ConnectorError(
                    f"Bluesky did not accept the handle {handle!r} with that app password. Check both, or create a "
                    "new app password in Bluesky's Settings → Privacy and security → App passwords.",
                    permanent=True,
                    status=error.response.status_code,
                ) from error
            raise connector_error(error, doing="logging in", host=_host(service_url)) from error
        session = client._session
        if session.access_jwt_payload.scope not in APP_PASSWORD_SCOPES:
            cls._end_session(client)
            raise ConnectorError(
                "That is the account's main password. Connect with an app password instead (Bluesky Settings → "
                "Privacy and security → App passwords), so the school can revoke Schoolgate's access on its own.",
                permanent=True,
            )
        return _credentials_for(session, service_url)

    @classmethod
    def post_link_problem(cls, account, url: str, *, connector: Connector | None = None) -> str:
        """A bsky.app post link by the account's own handle or DID; when connected, a record the PDS holds."""
        parts, problem = link_on_hosts(url, cls.web_hosts, cls.label)
        if problem:
            return problem
        match = POST_LINK.fullmatch(parts.path)
        if match is None:
            return "That link is not a Bluesky post: open the post and copy its link (bsky.app/profile/…/post/…)."
        connection = getattr(account, "connection", None)
        own = {
            value.strip().lstrip("@").lower()
            for value in (
                account.handle,
                getattr(connection, "remote_handle", ""),
                getattr(connection, "remote_id", ""),
            )
            if value and value.strip()
        }
        actor = urllib.parse.unquote(match["actor"]).lstrip("@").lower()
        if own and actor not in own:
            return f"That post was made by {actor}, not by this account ({account.handle or sorted(own)[0]})."
        if connector is not None:
            try:
                found = connector._find_record(match["rkey"])
            except ConnectorError:
                return "Schoolgate could not ask Bluesky whether the post is there. Try again in a few minutes."
            if found is None:
                return "Bluesky has no such post on this account. Check the link."
        return ""

    @staticmethod
    def _end_session(client: Client) -> None:
        # Best effort: the session expires by itself; refusing the password is what matters.
        with contextlib.suppress(AtProtocolError, httpx.TransportError):
            client.com.atproto.server.delete_session(headers=client._get_refresh_auth_headers())

    # Identity and credentials

    @property
    def did(self) -> str:
        return self.credentials.data["did"]

    def client(self) -> Client:
        if self._client is None:
            service_url = self.base_url or self.credentials.data.get("service_url", "https://bsky.social")
            client = _new_client(service_url)
            client.on_session_change(self._store_session)
            try:
                client.login(session_string=self.credentials.data["session"], fetch_bsky_profile=False)
            except (KeyError, ValueError) as error:
                raise ConnectorError(
                    "The stored Bluesky session is unreadable: reconnect the account.", permanent=True
                ) from error
            if self.base_url:
                client.update_base_url(self.base_url)  # tests and self-hosted PDSes: talk to the one given
            self._client = client
        return self._client

    def _store_session(self, event: SessionEvent, session: Session) -> None:
        if event == SessionEvent.REFRESH:
            fresh = _credentials_for(session, self.credentials.data.get("service_url", ""))
            self.credentials.data.update(fresh.data)
            self.credentials.expires_at = fresh.expires_at

    @property
    def host(self) -> str:
        return _host(self.base_url or self.credentials.data.get("service_url", "https://bsky.social"))

    def _call(self, doing: str, operation: Callable[[Client], T]) -> T:
        try:
            return operation(self.client())
        except (AtProtocolError, httpx.TransportError) as error:
            raise connector_error(error, doing=doing, host=self.host) from error

    def identity(self) -> AccountIdentity:
        profile = self._call("reading the profile", lambda c: c.get_profile(self.did))
        return AccountIdentity(
            remote_id=profile.did,
            handle=profile.handle,
            display_name=profile.display_name or "",
            url=f"{WEB_URL}/profile/{profile.handle}",
        )

    def refresh_credentials(self) -> Credentials:
        """Swap the refresh token for new tokens now (the SDK also does it by itself near expiry)."""
        self._call("refreshing the session", lambda c: c._refresh_and_set_session())
        return self.credentials

    # Publishing

    def publish(self, text: str, *, media: Sequence[MediaItem] = (), key: str) -> Published:
        """Post once per key.

        1. The record key is derived from `key`; if that record exists, an earlier attempt made it: return it.
        2. Upload the images, then create the post with that record key.
        3. If the create fails, look again: the PDS may have written it before the answer was lost.
        """
        return self._create_post(text, media=media, key=key, reply=None)

    def find_published(self, key: str) -> Published | None:
        return self._find_record(record_key(key))

    def _find_record(self, rkey: str) -> Published | None:
        try:
            record = self.client().com.atproto.repo.get_record(
                models.ComAtprotoRepoGetRecord.Params(repo=self.did, collection=POST, rkey=rkey)
            )
        except (AtProtocolError, httpx.TransportError) as error:
            if _is_not_found(error):
                return None
            raise connector_error(error, doing="checking for an earlier attempt", host=self.host) from error
        return Published(remote_id=record.uri, url=post_url(record.uri))

    def _create_post(
        self, text: str, *, media: Sequence[MediaItem], key: str, reply: models.AppBskyFeedPost.ReplyRef | None
    ) -> Published:
        rkey = record_key(key)
        if (earlier := self._find_record(rkey)) is not None:
            return earlier
        if len(media) > self.limits.max_images:
            raise ConnectorError(f"Bluesky allows {self.limits.max_images} images per post.", permanent=True)
        embed = self._upload_images(media) if media else None
        record = models.AppBskyFeedPost.Record(
            text=text,
            created_at=self.client().get_current_time_iso(),
            facets=self._call("finding links and mentions", lambda c: c.detect_facets(text)) or None,
            embed=embed,
            reply=reply,
        )
        data = models.ComAtprotoRepoCreateRecord.Data(repo=self.did, collection=POST, rkey=rkey, record=record)
        try:
            created = self.client().com.atproto.repo.create_record(data)
        except (AtProtocolError, httpx.TransportError) as error:
            # A lost answer, or a race with another attempt: the PDS answers 500 when the record exists.
            try:
                earlier = self._find_record(rkey)
            except ConnectorError:
                earlier = None
            if earlier is not None:
                return earlier
            raise connector_error(error, doing="publishing the post", host=self.host) from error
        return Published(remote_id=created.uri, url=post_url(created.uri))

    def _upload_images(self, media: Sequence[MediaItem]) -> models.AppBskyEmbedImages.Main:
        images = []
        for item in media:
            uploaded = self._call(
                f"uploading {item.filename}",
                lambda c, item=item: c.com.atproto.repo.upload_blob(
                    item.data, headers={"Content-Type": item.mime_type}
                ),
            )
            images.append(
                models.AppBskyEmbedImages.Image(
                    image=uploaded.blob, alt=item.alt_text, aspect_ratio=_aspect_ratio(item.data)
                )
            )
        return models.AppBskyEmbedImages.Main(images=images)

    def delete_own(self, remote_id: str) -> None:
        uri = self._own_uri(remote_id, doing="delete")
        self._call(
            "deleting the post",
            lambda c: c.com.atproto.repo.delete_record(
                models.ComAtprotoRepoDeleteRecord.Data(repo=self.did, collection=uri.collection, rkey=uri.rkey)
            ),
        )

    def _own_uri(self, remote_id: str, *, doing: str) -> AtUri:
        uri = AtUri.from_str(remote_id)
        if uri.host != self.did:
            raise ConnectorError(
                f"Schoolgate can only {doing} this account's own posts, not {remote_id}.", permanent=True
            )
        return uri

    # Reading

    def fetch_replies(self, remote_post_id: str) -> list[RemoteItem]:
        """Every reply under the post, at any depth, as the AppView sees them (hidden ones marked).

        A post the AppView does not know (deleted, or published a moment ago and not indexed yet) has none.
        """
        try:
            thread = self.client().get_post_thread(remote_post_id, depth=1000, parent_height=0).thread
        except (AtProtocolError, httpx.TransportError) as error:
            if _is_not_found(error):
                return []
            raise connector_error(error, doing="reading replies", host=self.host) from error
        if not isinstance(thread, models.AppBskyFeedDefs.ThreadViewPost):
            return []
        gate = thread.post.threadgate
        hidden = set(getattr(gate.record, "hidden_replies", None) or []) if gate else set()
        found: list[RemoteItem] = []
        pending = list(thread.replies or [])
        while pending:
            node = pending.pop(0)
            if not isinstance(node, models.AppBskyFeedDefs.ThreadViewPost):
                continue  # deleted, or hidden from us by a block
            found.append(self._remote_item(node.post, hidden=node.post.uri in hidden))
            pending.extend(node.replies or [])
        return sorted(found, key=lambda item: item.created_at)

    def fetch_mentions(self, *, since: dt.datetime | None = None) -> list[RemoteItem]:
        """Mentions, replies and quotes of the account, newest first, back to `since`."""
        found: list[RemoteItem] = []
        cursor = None
        for _ in range(MENTION_PAGES):
            page = self._call(
                "reading notifications",
                lambda c, cursor=cursor: c.app.bsky.notification.list_notifications(
                    models.AppBskyNotificationListNotifications.Params(limit=50, cursor=cursor)
                ),
            )
            for note in page.notifications:
                indexed_at = dt.datetime.fromisoformat(note.indexed_at)
                if since is not None and indexed_at < since:
                    return found
                if note.reason in MENTION_REASONS:
                    found.append(self._remote_item(note, record=note.record))
            cursor = page.cursor
            if not cursor:
                break
        return found

    def _remote_item(self, view, *, record=None, hidden: bool = False) -> RemoteItem:
        record = record if record is not None else view.record
        reply = getattr(record, "reply", None)
        return RemoteItem(
            remote_id=view.uri,
            author_id=view.author.did,
            author_handle=view.author.handle,
            author_name=view.author.display_name or "",
            text=getattr(record, "text", ""),
            created_at=dt.datetime.fromisoformat(record.created_at),
            url=post_url(view.uri),
            in_reply_to=reply.parent.uri if reply else "",
            hidden=hidden,
        )

    def _post_view(self, uri: str) -> models.AppBskyFeedDefs.PostView:
        posts = self._call("looking up the post", lambda c: c.get_posts([uri])).posts
        if not posts:
            raise ConnectorError(
                f"Bluesky no longer has the post {uri} (deleted, or its author blocked us).", permanent=True
            )
        return posts[0]

    # Answering and moderating

    def reply(self, item: RemoteItem, text: str, *, key: str) -> Published:
        parent = self._post_view(item.remote_id)
        parent_ref = models.ComAtprotoRepoStrongRef.Main(uri=parent.uri, cid=parent.cid)
        root_ref = parent.record.reply.root if parent.record.reply else parent_ref
        return self._create_post(
            text, media=(), key=key, reply=models.AppBskyFeedPost.ReplyRef(root=root_ref, parent=parent_ref)
        )

    def hide(self, item: RemoteItem) -> None:
        """Add the reply to the thread gate of the thread we started (Bluesky apps then fold it away)."""
        post = self._post_view(item.remote_id)
        root_uri = post.record.reply.root.uri if post.record.reply else post.uri
        root = AtUri.from_str(root_uri)
        if root.host != self.did:
            raise ConnectorError(
                "Bluesky only lets the account that started a thread hide replies in it.", permanent=True
            )
        gate = self._threadgate(root.rkey)
        hidden = list(gate.hidden_replies or []) if gate else []
        if item.remote_id in hidden:
            return
        if len(hidden) >= MAX_HIDDEN_REPLIES:
            raise ConnectorError(
                f"Bluesky allows at most {MAX_HIDDEN_REPLIES} hidden replies per thread.", permanent=True
            )
        record = models.AppBskyFeedThreadgate.Record(
            post=root_uri,
            created_at=gate.created_at if gate else self.client().get_current_time_iso(),
            allow=gate.allow if gate else None,  # None keeps replies open to everyone, as before
            hidden_replies=[*hidden, item.remote_id],
        )
        self._call(
            "hiding the reply",
            lambda c: c.com.atproto.repo.put_record(
                models.ComAtprotoRepoPutRecord.Data(repo=self.did, collection=THREADGATE, rkey=root.rkey, record=record)
            ),
        )

    def _threadgate(self, rkey: str) -> models.AppBskyFeedThreadgate.Record | None:
        try:
            found = self.client().com.atproto.repo.get_record(
                models.ComAtprotoRepoGetRecord.Params(repo=self.did, collection=THREADGATE, rkey=rkey)
            )
        except (AtProtocolError, httpx.TransportError) as error:
            if _is_not_found(error):
                return None
            raise connector_error(error, doing="reading the thread gate", host=self.host) from error
        return found.value

    def block(self, author_id: str) -> None:
        """Write a block record, unless one for this account exists already (so running twice is harmless)."""
        cursor = None
        for _ in range(BLOCK_PAGES):
            page = self._call(
                "reading blocks",
                lambda c, cursor=cursor: c.com.atproto.repo.list_records(
                    models.ComAtprotoRepoListRecords.Params(repo=self.did, collection=BLOCK, limit=100, cursor=cursor)
                ),
            )
            if any(getattr(r.value, "subject", None) == author_id for r in page.records):
                return
            cursor = page.cursor
            if not cursor or not page.records:
                break
        record = models.AppBskyGraphBlock.Record(subject=author_id, created_at=self.client().get_current_time_iso())
        self._call(
            "blocking the account",
            lambda c: c.com.atproto.repo.create_record(
                models.ComAtprotoRepoCreateRecord.Data(repo=self.did, collection=BLOCK, record=record)
            ),
        )

    def mute(self, author_id: str) -> None:
        self._call(
            "muting the account",
            lambda c: c.app.bsky.graph.mute_actor(models.AppBskyGraphMuteActor.Data(actor=author_id)),
        )

    def report(self, item: RemoteItem, *, reason: str) -> None:
        """Report the post to the moderation service the account's PDS uses (Bluesky's own on bsky.social)."""
        post = self._post_view(item.remote_id)
        self._call(
            "reporting the post",
            lambda c: c.com.atproto.moderation.create_report(
                models.ComAtprotoModerationCreateReport.Data(
                    reason_type="com.atproto.moderation.defs#reasonOther",
                    reason=reason[:REPORT_REASON_LIMIT],
                    subject=models.ComAtprotoRepoStrongRef.Main(uri=post.uri, cid=post.cid),
                )
            ),
        )
