"""The connector interface: what every network adapter offers, and how it says what it cannot do."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar


class Capability(StrEnum):
    PUBLISH = "publish", "Publish posts"
    PUBLISH_IMAGES = "publish_images", "Publish posts with images"
    FETCH_REPLIES = "fetch_replies", "Read replies and comments on our posts"
    FETCH_MENTIONS = "fetch_mentions", "Read mentions of our account"
    REPLY = "reply", "Reply to comments"
    HIDE = "hide", "Hide other people's replies"
    DELETE_OWN = "delete_own", "Delete our own posts"
    DELETE_OTHERS = "delete_others", "Delete other people's comments"
    BLOCK = "block", "Block an account"
    MUTE = "mute", "Mute an account"
    REPORT = "report", "Report content to the network"
    UNHIDE = "unhide", "Show a hidden reply again"
    UNBLOCK = "unblock", "Unblock an account"
    UNMUTE = "unmute", "Unmute an account"
    READ_MESSAGES = "read_messages", "Read private messages"

    def __new__(cls, value: str, label: str = ""):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


class ItemKind(StrEnum):
    """What reached the account: the inbox treats each kind by its own rules."""

    REPLY = "reply", "Replies to our posts"  # a reply to our post or thread
    COMMENT = "comment", "Comments on our posts"  # Facebook/Instagram comment (or reply to one) on our post
    MENTION = "mention", "Mentions of the account"
    QUOTE = "quote", "Quotes of our posts"
    MESSAGE = "message", "Private messages"  # a direct message

    def __new__(cls, value: str, label: str = ""):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


READ_HOWS = ("poll", "push", "poll and push", "paid", "not available")


@dataclass(frozen=True)
class ReadWay:
    """How Schoolgate learns of one kind of item on a network, for the account page.

    how: "poll" (Schoolgate asks), "push" (the network tells us, by webhook), "poll and push", "paid" (polling
    that the network bills per read), or "not available"; note: what people should know (limits, filters).
    """

    how: str
    note: str = ""

    def __post_init__(self):
        if self.how not in READ_HOWS:
            raise ValueError(f"ReadWay.how must be one of {', '.join(READ_HOWS)}; got {self.how!r}.")


class ConnectionFlow(StrEnum):
    APP_PASSWORD = "app_password"  # noqa: S105 - a flow name: handle + app password (Bluesky)
    OAUTH = "oauth"  # redirect to the network, callback with a code


class ConnectorError(Exception):
    """A network call failed.

    permanent=False: worth retrying later (timeouts, 5xx, rate limits; retry_after in seconds when the
    network said). permanent=True: retrying cannot help (revoked token, refused content, not allowed);
    the connection is marked broken with this message shown and leaders told.
    """

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: float | None = None, status: int | None = None
    ):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after
        self.status = status


class NotSupported(ConnectorError):
    """The network's API does not allow this operation at all."""

    def __init__(self, message: str):
        super().__init__(message, permanent=True)


class ItemGone(ConnectorError):
    """The item was deleted on the network before we acted on it (reply, hide, unhide, delete, report).

    Permanent for the item, not for the connection: the inbox marks the item gone and keeps the evidence.
    """

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message, permanent=True, status=status)


@dataclass(frozen=True)
class Limits:
    max_chars: int
    max_images: int = 4
    max_image_bytes: int = 1_000_000
    image_types: frozenset[str] = frozenset({"image/jpeg", "image/png"})
    needs_public_image_url: bool = False  # Instagram fetches images from a URL instead of an upload
    needs_media: bool = False  # Instagram has no text-only posts


@dataclass(frozen=True)
class MediaItem:
    data: bytes
    mime_type: str
    alt_text: str
    filename: str = "image"
    public_url: str = ""  # a short-lived URL for networks that fetch the image themselves


@dataclass(frozen=True)
class Published:
    remote_id: str
    url: str


@dataclass(frozen=True)
class RemoteMedia:
    """An image or video attached to something that reached us, as the network serves it."""

    url: str
    mime_type: str = ""
    alt_text: str = ""


@dataclass(frozen=True)
class RemoteItem:
    """A comment, reply, mention, quote or private message as the network reports it.

    kind: an ItemKind value. root_id: the remote id of our post the thread hangs from (for a message, the
    conversation), "" when unknown. raw: the network's own record as received, JSON-serialisable, kept as
    evidence before anyone moderates; it takes no part in equality.
    """

    remote_id: str
    author_id: str
    author_handle: str
    text: str
    created_at: dt.datetime
    url: str = ""
    in_reply_to: str = ""
    author_name: str = ""
    hidden: bool = False
    kind: str = ItemKind.REPLY.value
    root_id: str = ""
    media: tuple[RemoteMedia, ...] = ()
    raw: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class InboxPage:
    """One read of the inbox: items oldest first, and the cursor to persist for the next read.

    more: the network has more to read right now; call again at once with `cursor`.
    """

    items: list[RemoteItem]
    cursor: str
    more: bool = False


@dataclass(frozen=True)
class AccountIdentity:
    remote_id: str
    handle: str
    display_name: str = ""
    url: str = ""


@dataclass(frozen=True)
class OAuthClient:
    """The app registered with a network (per deployment; per instance for Mastodon)."""

    client_id: str
    client_secret: str
    base_url: str = ""  # the instance for Mastodon; empty for networks with one fixed API host


@dataclass
class Credentials:
    """What a connection stores (encrypted at rest by the caller): tokens and their expiry."""

    data: dict = field(default_factory=dict)
    expires_at: dt.datetime | None = None


class Connector:
    """One network. Subclasses set the class attributes and implement what the network allows.

    Every method that talks to the network raises ConnectorError on failure; an operation the network
    does not offer raises NotSupported, and is left out of `capabilities` so no button promises it.
    """

    network: ClassVar[str]
    label: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    limits: ClassVar[Limits]
    flow: ClassVar[ConnectionFlow]
    # Networks whose tokens expire: refresh this long before expiry (the health page warns too).
    refresh_ahead: ClassVar[dt.timedelta] = dt.timedelta(days=7)
    # How long a retry with the same publish key is safe. None: always (the key is the record's own key, or
    # find_published can look for it); otherwise the network forgets keys after this and a person must check.
    key_remembered_for: ClassVar[dt.timedelta | None] = None
    # A reply sent again with the same key is not posted twice (Bluesky: the record key; Mastodon: Idempotency-Key,
    # kept an hour, longer than the inbox's retries). Where not, a reply whose outcome is unknown waits for a person.
    replies_idempotent: ClassVar[bool] = False
    # The network's OAuth app is registered once per deployment (settings.NETWORK_APPS), not per server.
    needs_deployment_app: ClassVar[bool] = False
    # Where the network shows posts on the web: a link recorded by hand must be on one of these hosts.
    web_hosts: ClassVar[frozenset[str]] = frozenset()
    # How each kind of item (an ItemKind value) reaches Schoolgate on this network; kinds the network
    # does not have (comments on Bluesky, replies on Facebook) are left out.
    reads: ClassVar[dict[str, ReadWay]] = {}

    def __init__(self, credentials: Credentials, *, base_url: str | None = None):
        self.credentials = credentials
        self.base_url = base_url

    @classmethod
    def can(cls, capability: Capability) -> bool:
        return capability in cls.capabilities

    @classmethod
    def read_summary(cls) -> list[tuple[str, ReadWay]]:
        """(label, how it is read) for each kind of item the network has, in ItemKind order."""
        return [(kind.label, cls.reads[kind.value]) for kind in ItemKind if kind.value in cls.reads]

    @classmethod
    def reply_problems(cls, text: str) -> list[str]:
        """Problems that would make the network refuse this reply, found before it is sent."""
        problems = []
        if not text.strip():
            problems.append("The reply is empty.")
        if len(text) > cls.limits.max_chars:
            problems.append(f"{cls.label} allows {cls.limits.max_chars} characters; this reply has {len(text)}.")
        return problems

    def _check_reply(self, text: str) -> None:
        """Refuse a reply the network would refuse, before calling it (connectors call this first in reply)."""
        if problems := self.reply_problems(text):
            raise ConnectorError(" ".join(problems), permanent=True)

    def _unsupported(self, what: str) -> NotSupported:
        return NotSupported(f"{self.label} does not allow {what} through its API.")

    # Connecting (class methods: there are no credentials yet)
    @classmethod
    def connect_with_password(cls, *, handle: str, password: str, service_url: str) -> Credentials:
        """APP_PASSWORD flow: log in with a handle and an app password, return credentials to store."""
        raise NotSupported(f"{cls.label} connects through its own login page, not with a password.")

    @classmethod
    def authorization_url(cls, *, client: OAuthClient, redirect_uri: str, state: str) -> str:
        """OAUTH flow, step 1: where to send the person to grant access."""
        raise NotSupported(f"{cls.label} connects with an app password, not through a login page.")

    @classmethod
    def exchange_code(cls, *, client: OAuthClient, code: str, redirect_uri: str, state: str = "") -> Credentials:
        """OAUTH flow, step 2: swap the code from the callback for tokens (`state` lets PKCE rebuild its verifier)."""
        raise NotSupported(f"{cls.label} connects with an app password, not through a login page.")

    @classmethod
    def post_link_problem(cls, account, url: str, *, connector: Connector | None = None) -> str:
        """Why `url` is not a post of this account on the network, as a sentence for people; "" when it is.

        Used when someone records a post made by hand: the link becomes the public "View on ..." link and
        the target of any take-down, so it must point at the account's own post. The base check is the
        network's web address; connectors that can tell whose post it is (and ask the network, given a
        connected `connector`) say more.
        """
        _parts, problem = link_on_hosts(url, cls.web_hosts, cls.label)
        return problem

    # Identity and credentials
    def identity(self) -> AccountIdentity:
        raise NotImplementedError

    def refresh_credentials(self) -> Credentials | None:
        """New credentials when the tokens can be refreshed; None when they do not expire."""
        return None

    # Publishing: `key` is stable per delivery so a retry after a crash never posts twice.
    def publish(self, text: str, *, media: Sequence[MediaItem] = (), key: str) -> Published:
        raise self._unsupported("publishing")

    def find_published(self, key: str) -> Published | None:
        """The post an earlier attempt with this key already made, if any (see network-apis notes)."""
        return None

    def delete_own(self, remote_id: str) -> None:
        raise self._unsupported("deleting posts")

    # Reading
    def fetch_replies(self, remote_post_id: str) -> list[RemoteItem]:
        raise self._unsupported("reading replies")

    def fetch_mentions(self, *, since: dt.datetime | None = None) -> list[RemoteItem]:
        raise self._unsupported("reading mentions")

    def read_inbox(self, *, cursor: str, posts: Sequence[str] = ()) -> InboxPage:
        """What reached the account after `cursor`, oldest first, with the cursor to persist.

        `cursor` is opaque (only the connector reads it); "" means a first run, which reads back a bounded
        first page of a few days, never the whole history. `posts` are the remote ids of our recent
        published posts, for networks whose comments are read per post. The same cursor returns the same
        items (the caller dedupes by remote_id), the returned cursor never goes backwards, and a restart
        with the persisted cursor misses nothing. A rate limit raises ConnectorError with retry_after.
        """
        raise self._unsupported("reading what reached the account")

    # Answering and moderating
    def reply(self, item: RemoteItem, text: str, *, key: str) -> Published:
        raise self._unsupported("replying")

    def hide(self, item: RemoteItem) -> None:
        raise self._unsupported("hiding replies")

    def unhide(self, item: RemoteItem) -> None:
        raise self._unsupported("showing hidden replies again")

    def delete_others(self, item: RemoteItem) -> None:
        raise self._unsupported("deleting other people's comments")

    def block(self, author_id: str) -> None:
        raise self._unsupported("blocking accounts")

    def unblock(self, author_id: str) -> None:
        raise self._unsupported("unblocking accounts")

    def mute(self, author_id: str) -> None:
        raise self._unsupported("muting accounts")

    def unmute(self, author_id: str) -> None:
        raise self._unsupported("unmuting accounts")

    def report(self, item: RemoteItem, *, reason: str) -> None:
        raise self._unsupported("reporting content")


def link_on_hosts(url: str, hosts: frozenset[str], label: str) -> tuple[urllib.parse.SplitResult | None, str]:
    """The parsed link if it is an https address of a post on one of `hosts`, else (None, why not)."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("https", "http") or not parts.hostname:
        return None, f"Paste the link to the post on {label}, starting https://."
    if parts.hostname.lower().rstrip(".") not in hosts:
        shown = sorted(hosts, key=len)[0]
        return None, f"That link is not on {label} ({shown}); paste the link to the post on {label}."
    if parts.path.strip("/") == "":
        return None, f"That is {label}'s home page; paste the link to the post itself."
    return parts, ""


def handle_post_link_problem(account, url: str, connector_class, pattern, not_a_post: str) -> str:
    """For networks whose post links name the author (x.com/<user>/status/…): on the network, a post, and ours."""
    parts, problem = link_on_hosts(url, connector_class.web_hosts, connector_class.label)
    if problem:
        return problem
    match = pattern.fullmatch(parts.path)
    if match is None:
        return not_a_post
    username = account.handle.strip().lstrip("@").lower()
    if match["user"] and username and match["user"].lower() != username:
        return f"That post was made by @{match['user']}, not by this account ({account.handle})."
    return ""


def check_post(connector_class: type[Connector], text: str, media: Sequence[MediaItem] = ()) -> list[str]:
    """Problems that would make the network refuse this post, found before anyone reviews it."""
    limits = connector_class.limits
    problems = []
    if not text.strip() and not media:
        problems.append("The post is empty.")
    if len(text) > limits.max_chars:
        problems.append(f"{connector_class.label} allows {limits.max_chars} characters; this post has {len(text)}.")
    if limits.needs_media and not media:
        problems.append(f"{connector_class.label} cannot publish a post without an image.")
    if media and not connector_class.can(Capability.PUBLISH_IMAGES):
        problems.append(f"{connector_class.label} cannot publish images through its API.")
    if len(media) > limits.max_images:
        problems.append(f"{connector_class.label} allows {limits.max_images} images per post; this has {len(media)}.")
    for item in media:
        if item.mime_type not in limits.image_types:
            problems.append(f"{connector_class.label} does not accept {item.mime_type} images ({item.filename}).")
        if len(item.data) > limits.max_image_bytes:
            problems.append(
                f"{item.filename} is larger than {connector_class.label}'s limit of "
                f"{limits.max_image_bytes // 1000} kB."
            )
        if not item.alt_text.strip():
            problems.append(f"{item.filename} needs alt text describing it.")
    return problems


def jsonable(value):
    """A network's record as plain JSON (dates as ISO 8601 text, anything else as text): kept as evidence exactly
    as far as JSON can hold it, by the connectors, the inbox and listening alike."""
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
