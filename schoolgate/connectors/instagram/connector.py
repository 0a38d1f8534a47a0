"""The Instagram connector: a professional account reached through Facebook Login and the Graph API.

Reference pages followed (Graph API, version pinned in facebook/graph.py):
- Publishing: https://developers.facebook.com/docs/instagram-platform/content-publishing
  (POST /{ig-user-id}/media with image_url, caption, alt_text; carousels: one container per image with
  is_carousel_item=true, then media_type=CAROUSEL with children=<ids, comma-separated>; then
  POST /{ig-user-id}/media_publish with creation_id; GET /{container-id}?fields=status_code).
- Comments: https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media/comments
  and .../reference/ig-comment (GET /{ig-comment-id}/replies, POST /{ig-comment-id}/replies with message,
  POST /{ig-comment-id}?hide=true|false, DELETE /{ig-comment-id}; a deleted comment answers code 100/33).
- Pushed comments and mentions: facebook/webhooks.py (fields `comments` and `mentions`).
- Login: Facebook Login for Business; the Instagram account is the Page's instagram_business_account
  (GET /me/accounts?fields=instagram_business_account{id,username}).
Instagram has no API to block or mute an account, report content, or publish a text-only post.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time
from collections.abc import Callable, Sequence
from typing import ClassVar

import httpx
from django.utils import timezone

from schoolgate.connectors import cursors
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
    handle_post_link_problem,
)
from schoolgate.connectors.facebook import graph
from schoolgate.connectors.marker import MARKER_LENGTH, has_marker, with_marker, without_marker

SCOPES = (
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
    "instagram_manage_contents",  # deleting our own media (DELETE /{ig-media-id}, Facebook Login only)
    "pages_show_list",
    "pages_read_engagement",
)
COMMENT_FIELDS = (
    "id,text,timestamp,username,from{id,username},hidden,replies{id,text,timestamp,username,from{id,username},hidden}"
)
RECENT_POSTS = 25
INBOX_PAGE = 50
INBOX_PAGES_PER_MEDIA = 4  # per media per read: 200 top-level comments, each with its first replies
FIRST_READ_BACK = dt.timedelta(days=3)  # a first read keeps what arrived this far back, never the whole history
# Items from the newest read less this are looked at again (Instagram may file one a little late); the ids kept
# from the overlap stop them being returned twice.
OVERLAP = 300.0
# instagram.com/p/<code>/, /reel/<code>/, or the same under /<username>/
POST_LINK = re.compile(r"/(?:(?P<user>[\w.]+)/)?(?:p|reel)/[\w-]+/?")


class InstagramConnector(Connector):
    network = "instagram"
    label = "Instagram"
    capabilities = frozenset(
        {
            Capability.PUBLISH,
            Capability.PUBLISH_IMAGES,
            Capability.FETCH_REPLIES,
            Capability.REPLY,
            Capability.HIDE,
            Capability.UNHIDE,
            Capability.DELETE_OWN,
            Capability.DELETE_OTHERS,
        }
    )
    # Captions allow 2,200 characters; carousels allow 10 items but Schoolgate caps posts at 4 images.
    limits = Limits(
        max_chars=2_200 - MARKER_LENGTH,
        max_images=4,
        max_image_bytes=8_000_000,  # Meta: JPEG images up to 8 MB
        image_types=frozenset({"image/jpeg"}),
        needs_public_image_url=True,
        needs_media=True,
    )
    flow = ConnectionFlow.OAUTH
    needs_deployment_app = True
    web_hosts = frozenset({"instagram.com", "www.instagram.com"})
    reads: ClassVar[dict[str, ReadWay]] = {
        ItemKind.COMMENT.value: ReadWay(
            "poll and push",
            "Comments and replies on the account's recent posts, read post by post and sent by the comments "
            "webhook (Meta advises webhooks). Comments by accounts the school has restricted are not returned.",
        ),
        ItemKind.MENTION.value: ReadWay(
            "push",
            "Only by webhook, and with ids only: the inbox shows that the account was mentioned, to open on "
            "Instagram. There is no list of mentions to poll, and mentions by private accounts send no event.",
        ),
        ItemKind.MESSAGE.value: ReadWay(
            "not available",
            "Instagram messages need the instagram_manage_messages permission and Meta's app review, which "
            "Schoolgate does not request.",
        ),
    }
    # Facebook Login user tokens last about 60 days and cannot be refreshed server-side: warn early.
    refresh_ahead = dt.timedelta(days=14)
    transport: ClassVar[httpx.BaseTransport | None] = None
    # Waits between checks of a container Instagram is still fetching; then give up (transient).
    container_waits: ClassVar[tuple[float, ...]] = (1.0, 2.0, 4.0, 8.0)
    sleep: ClassVar[Callable[[float], None]] = staticmethod(time.sleep)

    def __init__(self, credentials: Credentials, *, base_url: str | None = None):
        super().__init__(credentials, base_url=base_url)
        self.ig_user_id = credentials.data["ig_user_id"]
        self.graph = graph.GraphSession(
            network=self.label,
            token=credentials.data["access_token"],
            account_id=self.ig_user_id,
            transport=self.transport,
        )

    @classmethod
    def post_link_problem(cls, account, url: str, *, connector: Connector | None = None) -> str:
        return handle_post_link_problem(
            account,
            url,
            cls,
            POST_LINK,
            "That link is not an Instagram post: open the post and copy its link (instagram.com/p/…).",
        )

    # Connecting
    @classmethod
    def authorization_url(cls, *, client: OAuthClient, redirect_uri: str, state: str) -> str:
        return graph.dialog_url(client=client, redirect_uri=redirect_uri, state=state, scopes=SCOPES)

    @classmethod
    def exchange_code(cls, *, client: OAuthClient, code: str, redirect_uri: str, state: str = "") -> Credentials:
        """1. Code -> long-lived user token (graph.py). 2. The first shared Page with an Instagram
        professional account. The user token is what the Instagram endpoints document; it expires."""
        user_token, expires_at = graph.long_lived_user_token(
            client=client, code=code, redirect_uri=redirect_uri, network=cls.label, transport=cls.transport
        )
        session = graph.GraphSession(network=cls.label, token=user_token, account_id="login", transport=cls.transport)
        pages = session.get("/me/accounts", fields="id,name,instagram_business_account{id,username}").get("data", [])
        linked = [page for page in pages if page.get("instagram_business_account")]
        if not linked:
            raise ConnectorError(
                "No Instagram professional account is linked to the Facebook Pages you shared; link the "
                "school's Instagram account to its Page, then connect again.",
                permanent=True,
            )
        account = linked[0]["instagram_business_account"]
        return Credentials(
            data={
                "ig_user_id": account["id"],
                "username": account.get("username", ""),
                "page_id": linked[0]["id"],
                "access_token": user_token,
            },
            expires_at=expires_at,
        )

    def identity(self) -> AccountIdentity:
        account = self.graph.get(f"/{self.ig_user_id}", fields="id,username,name")
        username = account.get("username", "")
        return AccountIdentity(
            remote_id=account["id"],
            handle=f"@{username}",
            display_name=account.get("name", ""),
            url=f"https://www.instagram.com/{username}/",
        )

    # Publishing
    def publish(self, text: str, *, media: Sequence[MediaItem] = (), key: str) -> Published:
        """1. One container per image (Instagram fetches each public URL). 2. For 2-4 images, a carousel
        container of them. 3. Wait until the container is FINISHED. 4. media_publish it."""
        if not media:
            raise self._unsupported("posts without an image")
        if len(media) > self.limits.max_images:
            raise ConnectorError(
                f"Instagram posts from Schoolgate take at most {self.limits.max_images} images.", permanent=True
            )
        for item in media:
            if not item.public_url:
                raise ConnectorError(f"{item.filename} has no public URL for Instagram to fetch.", permanent=True)
        caption = with_marker(text, key)
        if len(media) == 1:
            container = self._container(media[0], caption=caption)
        else:
            children = [self._container(item, carousel_item=True) for item in media]
            container = self.graph.post(
                f"/{self.ig_user_id}/media", media_type="CAROUSEL", children=",".join(children), caption=caption
            )["id"]
        self._wait_until_finished(container)
        published = self.graph.post(f"/{self.ig_user_id}/media_publish", creation_id=container)
        media_id = published["id"]
        permalink = self.graph.get(f"/{media_id}", fields="permalink").get("permalink", "")
        return Published(remote_id=media_id, url=permalink)

    def _container(self, item: MediaItem, *, caption: str = "", carousel_item: bool = False) -> str:
        data = {"image_url": item.public_url, "alt_text": item.alt_text}
        if carousel_item:
            data["is_carousel_item"] = "true"
        else:
            data["caption"] = caption
        return self.graph.post(f"/{self.ig_user_id}/media", **data)["id"]

    def _wait_until_finished(self, container_id: str) -> None:
        for wait in (0.0, *self.container_waits):
            if wait:
                self.sleep(wait)
            status = self.graph.get(f"/{container_id}", fields="status_code,status").get("status_code")
            if status in ("FINISHED", "PUBLISHED"):
                return
            if status in ("ERROR", "EXPIRED"):
                raise ConnectorError(
                    f"Instagram could not prepare the post ({status}); check the image.", permanent=True
                )
        raise ConnectorError("Instagram is still preparing the images; trying again later.")

    def find_published(self, key: str) -> Published | None:
        """Our recent media, matched on the delivery's invisible marker in the caption (see marker.py)."""
        recent = self.graph.get(
            f"/{self.ig_user_id}/media", fields="id,caption,permalink,timestamp", limit=str(RECENT_POSTS)
        )
        for post in recent.get("data", []):
            if has_marker(post.get("caption"), key):
                return Published(remote_id=post["id"], url=post.get("permalink", ""))
        return None

    def delete_own(self, remote_id: str) -> None:
        result = self.graph.delete(f"/{remote_id}")
        if result.get("success") is not True:
            raise ConnectorError(f"Instagram did not confirm deleting the post: {result}", permanent=True)

    # Reading
    def fetch_replies(self, remote_post_id: str) -> list[RemoteItem]:
        """Top-level comments and their replies (Instagram threads are one level deep)."""
        page = self.graph.get(f"/{remote_post_id}/comments", fields=COMMENT_FIELDS, limit="50")
        items = []
        for comment in page.get("data", []):
            items.append(self._item(comment, in_reply_to=remote_post_id))
            for reply in (comment.get("replies") or {}).get("data", []):
                items.append(self._item(reply, in_reply_to=comment["id"]))
        return items

    def read_inbox(self, *, cursor: str, posts: Sequence[str] = ()) -> InboxPage:
        """New comments and replies on our recent media, oldest first.

        1. For each media, read its comments (each with its first replies) page by page, keeping every comment or
           reply dated at or after the newest read there last time less OVERLAP (a media not read before: since
           the first read's start; a first read: FIRST_READ_BACK ago) whose id was not kept from the overlap.
        2. Stop at a page with nothing that recent (Instagram lists comments newest first), or after
           INBOX_PAGES_PER_MEDIA pages; each item is judged by its own time, so a new reply to an older comment
           on the pages read is caught too.
        3. Keep, per media, the newest time read and the ids near it. A media deleted on Instagram is dropped.
        A reply beyond the pages read, or beyond the replies Instagram embeds, reaches Schoolgate by the webhook.
        """
        try:
            state = cursors.load(cursor, network=self.label)
        except ValueError as error:
            raise ConnectorError(str(error), permanent=True) from error
        start = state.get("start")
        if not isinstance(start, int | float):
            start = timezone.now().timestamp() - FIRST_READ_BACK.total_seconds()
        known = state.get("media") if isinstance(state.get("media"), dict) else {}
        found: list[tuple[float, str, RemoteItem]] = []
        marks: dict[str, dict] = {}
        for media_id in dict.fromkeys(str(post) for post in posts):
            try:
                mark = cursors.Mark.from_dict(known.get(media_id))
            except ValueError as error:  # a reading mark Schoolgate did not write
                raise ConnectorError(str(error), permanent=True) from error
            try:
                items, mark = self._read_media(media_id, mark, first_floor=float(start))
            except ItemGone:
                continue  # the post was deleted: nothing more will reach it
            found.extend(items)
            marks[media_id] = mark.to_dict()
        found.sort(key=lambda entry: (entry[0], entry[1]))
        return InboxPage(
            items=[item for _at, _id, item in found], cursor=cursors.dump({"start": start, "media": marks})
        )

    def _read_media(
        self, media_id: str, mark: cursors.Mark, *, first_floor: float
    ) -> tuple[list[tuple[float, str, RemoteItem]], cursors.Mark]:
        floor = first_floor if mark.newest is None else mark.newest - OVERLAP
        params = {"fields": COMMENT_FIELDS, "limit": str(INBOX_PAGE)}
        found: dict[str, tuple[float, str, RemoteItem]] = {}
        newest = mark.newest
        for _ in range(INBOX_PAGES_PER_MEDIA):
            page = self.graph.get(f"/{media_id}/comments", **params)
            comments = page.get("data")
            if not isinstance(comments, list) or not all(_readable_thread(c) for c in comments):
                raise ConnectorError(
                    "Instagram answered the comments read with something that is not a list of comments."
                )
            recent_on_page = False
            for comment in comments:
                replies = (comment.get("replies") or {}).get("data") or []
                thread = [self._inbox_item(comment, media_id=media_id, in_reply_to=media_id)]
                thread += [self._inbox_item(r, media_id=media_id, in_reply_to=comment["id"]) for r in replies]
                for item in thread:
                    at = item.created_at.timestamp()
                    newest = at if newest is None else max(newest, at)
                    if at >= floor:
                        recent_on_page = True
                        if item.remote_id not in mark.recent:
                            found.setdefault(item.remote_id, (at, item.remote_id, item))
            paging = page.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not recent_on_page or not paging.get("next") or not after:
                break
            params["after"] = after
        recent = {**mark.recent, **{remote_id: at for at, remote_id, _item in found.values()}}
        if newest is not None:
            recent = {key: at for key, at in recent.items() if at >= newest - OVERLAP}
        return list(found.values()), cursors.Mark(newest=newest, recent=recent)

    def _inbox_item(self, comment: dict, *, media_id: str, in_reply_to: str) -> RemoteItem:
        item = self._item(comment, in_reply_to=in_reply_to)
        raw = {key: value for key, value in comment.items() if key != "replies"}  # replies are items of their own
        return dataclasses.replace(item, kind=ItemKind.COMMENT.value, root_id=media_id, raw=raw)

    @staticmethod
    def _item(comment: dict, *, in_reply_to: str) -> RemoteItem:
        author = comment.get("from") or {}
        username = author.get("username") or comment.get("username", "")
        return RemoteItem(
            remote_id=comment["id"],
            author_id=author.get("id", ""),
            author_handle=f"@{username}" if username else "",
            text=without_marker(comment.get("text", "")),
            created_at=graph.parse_time(comment["timestamp"]),
            in_reply_to=in_reply_to,
            hidden=bool(comment.get("hidden")),
        )

    # Answering and moderating
    def reply(self, item: RemoteItem, text: str, *, key: str) -> Published:
        """Instagram threads are one level deep: the reply joins the comment's thread."""
        reply = self.graph.post(f"/{item.remote_id}/replies", message=text)
        return Published(remote_id=reply["id"], url="")

    def hide(self, item: RemoteItem) -> None:
        result = self.graph.post(f"/{item.remote_id}", hide="true")
        if result.get("success") is not True:
            raise ConnectorError(f"Instagram did not confirm hiding the comment: {result}", permanent=True)

    def unhide(self, item: RemoteItem) -> None:
        result = self.graph.post(f"/{item.remote_id}", hide="false")
        if result.get("success") is not True:
            raise ConnectorError(f"Instagram did not confirm showing the comment again: {result}", permanent=True)

    def delete_others(self, item: RemoteItem) -> None:
        result = self.graph.delete(f"/{item.remote_id}")
        if result.get("success") is not True:
            raise ConnectorError(f"Instagram did not confirm deleting the comment: {result}", permanent=True)


def _readable(comment, time_field: str) -> bool:
    """Whether a comment has what Schoolgate needs: an id and a time in Graph's format."""
    if not isinstance(comment, dict) or not comment.get("id"):
        return False
    try:
        graph.parse_time(comment.get(time_field) or "")
    except (TypeError, ValueError):
        return False
    return True


def _readable_thread(comment) -> bool:
    """A readable comment whose embedded replies (if any) are readable too."""
    if not _readable(comment, "timestamp"):
        return False
    replies = comment.get("replies") or {}
    data = replies.get("data") if isinstance(replies, dict) else None
    return isinstance(data, list | None) and all(_readable(reply, "timestamp") for reply in data or [])
