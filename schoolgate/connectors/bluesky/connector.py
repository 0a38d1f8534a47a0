"""The Bluesky connector: an app password, then publish, read, answer and moderate through the atproto SDK."""

from __future__ import annotations

import contextlib
import dataclasses
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

from schoolgate.connectors import cursors, http
from schoolgate.connectors.addresses import check_url, describe_transport_error, guarded_transport
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
    Published,
    ReadWay,
    RemoteItem,
    RemoteMedia,
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


class BlueskyConnector(Connector):
    """One Bluesky account, reached through its PDS; reads (threads, notifications) go to the AppView via the PDS.

    Credentials.data holds the SDK's session string (handle, DID, access and refresh tokens, PDS address);
    the SDK refreshes the tokens when they near expiry and `credentials` is updated in place when it does.
    """

    network: ClassVar[str] = "bluesky"
    label: ClassVar[str] = "Bluesky"
    flow: ClassVar[ConnectionFlow] = ConnectionFlow.APP_PASSWORD
    replies_idempotent: ClassVar[bool] = True
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
            Capability.UNHIDE,
            Capability.UNBLOCK,
            Capability.UNMUTE,
        }
    )
    reads: ClassVar[dict[str, ReadWay]] = {
        ItemKind.REPLY.value: ReadWay(
            "poll",
            "Replies anywhere in our threads, from the account's notifications. Bluesky leaves out replies we "
            "hid and posts from accounts we block or mute.",
        ),
        ItemKind.MENTION.value: ReadWay("poll", "Posts that @mention the account, from its notifications."),
        ItemKind.QUOTE.value: ReadWay("poll", "Posts that quote ours, from the account's notifications."),
        ItemKind.MESSAGE.value: ReadWay(
            "not available",
            "Bluesky chat runs on a separate chat service, reached through a proxy with an app password allowed "
            "to read direct messages; Schoolgate asks for neither, so messages stay in the Bluesky app.",
        ),
    }
    # Reading the inbox (instance attributes may override these, as the tests do for small pages).
    inbox_page_size: ClassVar[int] = 50  # notifications per listNotifications call (the lexicon allows 100)
    inbox_pages: ClassVar[int] = 10  # calls per read before the rest is left for the next read (more=True)
    inbox_first_read: ClassVar[dt.timedelta] = dt.timedelta(days=3)  # how far back a first run reads
    # Bluesky files a post by its own createdAt when that is earlier than when it was indexed, so a post
    # written a little before the newest one we read can appear below it: each read looks this far back.
    inbox_overlap: ClassVar[dt.timedelta] = dt.timedelta(minutes=15)
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
            created_at=_parse_time(record.created_at),
            url=post_url(view.uri),
            in_reply_to=reply.parent.uri if reply else "",
            hidden=hidden,
        )

    def read_inbox(self, *, cursor: str, posts: Sequence[str] = ()) -> InboxPage:
        """Replies, mentions and quotes from the account's notifications after `cursor`, oldest first.

        1. Read listNotifications (newest first) down to just below the last read, through
           cursors.read_newest_first: a first run ("") reads back `inbox_first_read`; a read that stops at
           `inbox_pages` pages keeps the rest as a gap for the next call (more=True).
        2. Look up the posts (getPosts) for their embeds and labels, and our root posts for their thread gates.
        3. Turn each into a RemoteItem; the cursor saves the reading mark.
        `posts` is not needed: notifications cover every post of ours. Bluesky lists a post once per recipient,
        as a mention if it mentions us, else a quote, else a reply (see `_inbox_kind`). A post deleted before
        it is read is no longer listed.
        """
        try:
            mark = cursors.Mark.from_dict(cursors.load(cursor, network=self.label).get("mark"))
        except ValueError as error:
            raise ConnectorError(str(error), permanent=True) from error
        first_floor = (dt.datetime.now(dt.UTC) - self.inbox_first_read).timestamp()
        entries, mark, more = cursors.read_newest_first(
            mark,
            self._notification_page,
            overlap=self.inbox_overlap.total_seconds(),
            max_pages=self.inbox_pages,
            first_floor=first_floor,
            first_pages=self.inbox_pages,
        )
        notes = [entry.value for entry in entries]
        views = self._post_views([note.uri for note in notes])
        kinds_roots = [self._inbox_kind(note) for note in notes]
        hidden = self._hidden_replies({root for _, root in kinds_roots if _is_ours(root, self.did)})
        items = [
            self._inbox_item(note, views.get(note.uri), kind=kind, root_id=root, hidden=note.uri in hidden)
            for note, (kind, root) in zip(notes, kinds_roots, strict=True)
        ]
        return InboxPage(items=items, cursor=cursors.dump({"mark": mark.to_dict()}), more=more)

    def _notification_page(self, token: str | None) -> tuple[list[cursors.Entry], str | None]:
        page = self._call(
            "reading notifications",
            lambda c: c.app.bsky.notification.list_notifications(
                models.AppBskyNotificationListNotifications.Params(
                    limit=self.inbox_page_size, cursor=token, reasons=list(INBOX_REASONS)
                )
            ),
        )
        entries = [
            # The notification's indexedAt is the time the stream is sorted by (a post's sortAt).
            cursors.Entry(id=note.uri, at=_parse_time(note.indexed_at).timestamp(), value=note)
            for note in page.notifications
            if note.reason in INBOX_REASONS  # an AppView that ignores `reasons` still gives us only these
        ]
        return entries, page.cursor

    def _inbox_kind(self, note) -> tuple[str, str]:
        """(kind, root_id) of a notification.

        A reply's root is its thread's root post (ours, or someone else's when they reply to us lower down).
        A mention in a reply in our thread is a reply there (Bluesky calls it a mention because mentions win);
        any other mention hangs from its thread's root, which is the mention itself when it starts the thread,
        and a quote hangs from the post it quotes (ours).
        """
        record = note.record
        reply = getattr(record, "reply", None)
        root = reply.root.uri if reply else ""
        if note.reason == "reply" or (note.reason == "mention" and _is_ours(root, self.did)):
            return ItemKind.REPLY.value, root or note.reason_subject or ""
        if note.reason == "quote":
            return ItemKind.QUOTE.value, note.reason_subject or _quoted_uri(record) or note.uri
        return ItemKind.MENTION.value, root or note.uri

    def _post_views(self, uris: Sequence[str]) -> dict[str, models.AppBskyFeedDefs.PostView]:
        found: dict[str, models.AppBskyFeedDefs.PostView] = {}
        unique = list(dict.fromkeys(uris))
        for start in range(0, len(unique), GET_POSTS_LIMIT):
            batch = unique[start : start + GET_POSTS_LIMIT]
            views = self._call("looking up posts", lambda c, batch=batch: c.get_posts(batch)).posts
            found.update({view.uri: view for view in views})
        return found

    def _hidden_replies(self, roots: set[str]) -> set[str]:
        """The replies our thread gates hide, for these root posts of ours."""
        hidden: set[str] = set()
        for view in self._post_views(sorted(roots)).values():
            if view.threadgate is not None:
                hidden.update(getattr(view.threadgate.record, "hidden_replies", None) or [])
        return hidden

    def _inbox_item(self, note, view, *, kind: str, root_id: str, hidden: bool) -> RemoteItem:
        # The notification carries the record and author; the post view (None if deleted since) adds the
        # embed as the AppView serves it.
        return dataclasses.replace(
            self._remote_item(note, record=note.record, hidden=hidden),
            kind=kind,
            root_id=root_id,
            media=_media(view, note.record),
            raw={"notification": _jsonable(note), "post": _jsonable(view) if view is not None else None},
        )

    def _post_view(self, uri: str) -> models.AppBskyFeedDefs.PostView:
        posts = self._call("looking up the post", lambda c: c.get_posts([uri])).posts
        if not posts:
            raise ItemGone(f"Bluesky no longer has the post {uri}: it was deleted (or its author blocked us).")
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
        """Add the reply to the thread gate of the thread we started (Bluesky apps then fold it away).

        ItemGone when the reply was deleted; the rest of the gate (who may reply) is kept as it was.
        """
        root_uri = self._own_root(item, doing="hide")
        root = AtUri.from_str(root_uri)
        gate = self._threadgate(root.rkey)
        hidden = list(gate.hidden_replies or []) if gate else []
        if item.remote_id in hidden:
            return
        if len(hidden) >= MAX_HIDDEN_REPLIES:
            raise ConnectorError(
                f"Bluesky allows at most {MAX_HIDDEN_REPLIES} hidden replies per thread.", permanent=True
            )
        if gate is None:
            # allow=None keeps replies open to everyone, as before.
            gate = models.AppBskyFeedThreadgate.Record(post=root_uri, created_at=self.client().get_current_time_iso())
        record = gate.model_copy(update={"hidden_replies": [*hidden, item.remote_id]})
        self._put_threadgate(root.rkey, record, doing="hiding the reply")

    def unhide(self, item: RemoteItem) -> None:
        """Take the reply off the thread gate's hidden list, keeping the rest of the gate.

        A gate left with no reply rules and nothing hidden is deleted, as if it had never been written. For a
        reply deleted since, its entry is still removed (it takes one of the 300 places) before ItemGone.
        """
        try:
            root_uri = self._own_root(item, doing="show")
        except ItemGone:
            if _is_ours(item.root_id, self.did):
                self._remove_hidden(item.root_id, item.remote_id)
            raise
        self._remove_hidden(root_uri, item.remote_id)

    def _own_root(self, item: RemoteItem, *, doing: str) -> str:
        """The root post of the reply's thread, which must be ours (ItemGone if the reply was deleted)."""
        post = self._post_view(item.remote_id)
        root_uri = post.record.reply.root.uri if post.record.reply else post.uri
        if not _is_ours(root_uri, self.did):
            raise ConnectorError(
                f"Bluesky only lets the account that started a thread {doing} replies in it.", permanent=True
            )
        return root_uri

    def _remove_hidden(self, root_uri: str, uri: str) -> None:
        root = AtUri.from_str(root_uri)
        gate = self._threadgate(root.rkey)
        hidden = list(gate.hidden_replies or []) if gate else []
        if uri not in hidden:
            return  # not hidden (or shown already): nothing to do
        remaining = [hidden_uri for hidden_uri in hidden if hidden_uri != uri]
        if not remaining and gate.allow is None:
            self._call(
                "showing the reply again",
                lambda c: c.com.atproto.repo.delete_record(
                    models.ComAtprotoRepoDeleteRecord.Data(repo=self.did, collection=THREADGATE, rkey=root.rkey)
                ),
            )
            return
        record = gate.model_copy(update={"hidden_replies": remaining or None})
        self._put_threadgate(root.rkey, record, doing="showing the reply again")

    def _put_threadgate(self, rkey: str, record: models.AppBskyFeedThreadgate.Record, *, doing: str) -> None:
        self._call(
            doing,
            lambda c: c.com.atproto.repo.put_record(
                models.ComAtprotoRepoPutRecord.Data(repo=self.did, collection=THREADGATE, rkey=rkey, record=record)
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
        if self._block_rkeys(author_id):
            return
        record = models.AppBskyGraphBlock.Record(subject=author_id, created_at=self.client().get_current_time_iso())
        self._call(
            "blocking the account",
            lambda c: c.com.atproto.repo.create_record(
                models.ComAtprotoRepoCreateRecord.Data(repo=self.did, collection=BLOCK, record=record)
            ),
        )

    def unblock(self, author_id: str) -> None:
        """Delete every block record for this account (none left: nothing to do, so running twice is harmless)."""
        for rkey in self._block_rkeys(author_id):
            self._call(
                "unblocking the account",
                lambda c, rkey=rkey: c.com.atproto.repo.delete_record(
                    models.ComAtprotoRepoDeleteRecord.Data(repo=self.did, collection=BLOCK, rkey=rkey)
                ),
            )

    def _block_rkeys(self, author_id: str) -> list[str]:
        found: list[str] = []
        cursor = None
        for _ in range(BLOCK_PAGES):
            page = self._call(
                "reading blocks",
                lambda c, cursor=cursor: c.com.atproto.repo.list_records(
                    models.ComAtprotoRepoListRecords.Params(repo=self.did, collection=BLOCK, limit=100, cursor=cursor)
                ),
            )
            found.extend(
                AtUri.from_str(r.uri).rkey for r in page.records if getattr(r.value, "subject", None) == author_id
            )
            cursor = page.cursor
            if not cursor or not page.records:
                break
        return found

    def mute(self, author_id: str) -> None:
        self._call(
            "muting the account",
            lambda c: c.app.bsky.graph.mute_actor(models.AppBskyGraphMuteActor.Data(actor=author_id)),
        )

    def unmute(self, author_id: str) -> None:
        self._call(
            "unmuting the account",
            lambda c: c.app.bsky.graph.unmute_actor(models.AppBskyGraphUnmuteActor.Data(actor=author_id)),
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
