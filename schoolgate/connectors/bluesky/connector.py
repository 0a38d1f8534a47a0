"""The Bluesky connector: an app password, then publish, read, answer and moderate through the atproto SDK."""

from __future__ import annotations

import contextlib
import datetime as dt
import urllib.parse
from collections.abc import Callable, Sequence
from typing import ClassVar

import httpx
from atproto import Client, models
from atproto_client.client.session import Session, SessionEvent
from atproto_client.exceptions import (
    AtProtocolError,
    RequestErrorBase,
)
from atproto_core.uri import AtUri

from schoolgate.connectors.addresses import check_url
from schoolgate.connectors.base import (
    AccountIdentity,
    Capability,
    ConnectionFlow,
    Connector,
    ConnectorError,
    Credentials,
    ItemKind,
    Limits,
    MediaItem,
    Published,
    ReadWay,
    link_on_hosts,
)
from schoolgate.connectors.bluesky.common import (
    APP_PASSWORD_SCOPES,
    POST,
    POST_LINK,
    WEB_URL,
    T,
    _aspect_ratio,
    _credentials_for,
    _error_name,
    _host,
    _is_not_found,
    _new_client,
    connector_error,
    post_url,
    record_key,
)
from schoolgate.connectors.bluesky.moderating import Moderating
from schoolgate.connectors.bluesky.reading import Reading

__all__ = ["BlueskyConnector", "connector_error", "post_url", "record_key"]


class BlueskyConnector(Reading, Moderating, Connector):
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
