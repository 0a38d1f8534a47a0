"""The Facebook Page connector: Graph API calls as the Page, with a Page access token.

Reference pages followed (Graph API, version pinned in facebook/graph.py):
- Publishing: https://developers.facebook.com/docs/pages-api/posts (POST /{page-id}/feed with message
  and attached_media[i]={"media_fbid": ...}) and
  https://developers.facebook.com/docs/graph-api/reference/page/photos (POST /{page-id}/photos with
  source, published=false, alt_text_custom; returns {"id"}).
- Comments: https://developers.facebook.com/docs/graph-api/reference/object/comments (GET and POST
  /{object-id}/comments; filter=stream, order=chronological, since=<unix time>; paging.cursors.after) and
  https://developers.facebook.com/docs/graph-api/reference/comment (POST /{comment-id} is_hidden=true|false,
  DELETE /{comment-id}; both return {"success": true}; a deleted comment answers code 100, subcode 33).
- Pushed comments: webhooks.py (the Page's `feed` field).
- Blocking: https://developers.facebook.com/docs/graph-api/reference/page/blocked (POST
  /{page-id}/blocked user=...; returns {"<id>": true}).
- Pages of the person logging in: https://developers.facebook.com/docs/graph-api/reference/user/accounts
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
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
    RemoteMedia,
)
from schoolgate.connectors.facebook import graph
from schoolgate.connectors.marker import MARKER_LENGTH, has_marker, with_marker, without_marker

# Least privilege: list the person's Pages, read and publish on them, moderate comments.
SCOPES = (
    "pages_show_list",
    "pages_read_engagement",
    "pages_read_user_content",
    "pages_manage_posts",
    "pages_manage_engagement",
)
COMMENT_FIELDS = "id,message,from{id,name},created_time,is_hidden,parent{id},permalink_url"
RECENT_POSTS = 25  # how far back find_published looks
COMMENT_PAGES = 10  # at most this many pages of 100 comments per fetch
INBOX_FIELDS = "id,message,from{id,name},created_time,is_hidden,parent{id},attachment,permalink_url"
INBOX_PAGE = 100
INBOX_PAGES_PER_POST = 3  # per post per read; a busier post is read on over the next reads (more=True)
FIRST_READ_BACK = dt.timedelta(days=3)  # a first read goes back this far, never the whole history
# Comments are asked for since the newest one read, less this: a comment Facebook files a little late (or two in
# the same second) is still caught, and the ids kept from the overlap keep it from being returned twice.
OVERLAP = 300.0


class FacebookConnector(Connector):
    network = "facebook"
    label = "Facebook"
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
            Capability.BLOCK,
        }
    )
    limits = Limits(
        max_chars=63_206 - MARKER_LENGTH,
        max_images=10,
        max_image_bytes=10_000_000,  # Meta: static photos under 10 MB
        image_types=frozenset({"image/jpeg", "image/png", "image/gif"}),
    )
    flow = ConnectionFlow.OAUTH
    needs_deployment_app = True
    web_hosts = frozenset({"facebook.com", "www.facebook.com", "m.facebook.com", "web.facebook.com"})
    reads: ClassVar[dict[str, ReadWay]] = {
        ItemKind.COMMENT.value: ReadWay(
            "poll and push",
            "Comments and replies on the Page's recent posts are read post by post; with the Page's feed webhook "
            "subscribed they arrive at once, and the poll catches anything a webhook missed.",
        ),
        ItemKind.MENTION.value: ReadWay(
            "not available",
            "Posts elsewhere that tag the Page are not read: Schoolgate reads comments on the Page's own posts.",
        ),
        ItemKind.MESSAGE.value: ReadWay(
            "not available",
            "Page messages need the pages_messaging permission and Messenger platform review, which Schoolgate "
            "does not request.",
        ),
    }
    # Tests inject an httpx.MockTransport here; None means the real network.
    transport: ClassVar[httpx.BaseTransport | None] = None

    def __init__(self, credentials: Credentials, *, base_url: str | None = None):
        super().__init__(credentials, base_url=base_url)
        self.page_id = credentials.data["page_id"]
        self.graph = graph.GraphSession(
            network=self.label,
            token=credentials.data["access_token"],
            account_id=self.page_id,
            transport=self.transport,
        )

    # Connecting
    @classmethod
    def authorization_url(cls, *, client: OAuthClient, redirect_uri: str, state: str) -> str:
        return graph.dialog_url(client=client, redirect_uri=redirect_uri, state=state, scopes=SCOPES)

    @classmethod
    def exchange_code(cls, *, client: OAuthClient, code: str, redirect_uri: str, state: str = "") -> Credentials:
        """1. Code -> user token. 2. Long-lived user token. 3. The Page's token from /me/accounts.

        A Page token obtained from a long-lived user token does not expire, so expires_at stays None.
        When the person manages several Pages the first is connected and the others are listed in
        data["other_pages"] so the choice can be offered later.
        """
        user_token, _ = graph.long_lived_user_token(
            client=client, code=code, redirect_uri=redirect_uri, network=cls.label, transport=cls.transport
        )
        session = graph.GraphSession(network=cls.label, token=user_token, account_id="login", transport=cls.transport)
        pages = session.get("/me/accounts", fields="id,name,access_token,tasks").get("data", [])
        pages = [page for page in pages if page.get("access_token")]
        if not pages:
            raise ConnectorError(
                "Facebook granted no Page: choose the school's Page when Facebook asks which Pages to share.",
                permanent=True,
            )
        page = pages[0]
        return Credentials(
            data={
                "page_id": page["id"],
                "page_name": page.get("name", ""),
                "access_token": page["access_token"],
                "other_pages": [{"id": p["id"], "name": p.get("name", "")} for p in pages[1:]],
            }
        )

    def identity(self) -> AccountIdentity:
        page = self.graph.get(f"/{self.page_id}", fields="id,name,link")
        return AccountIdentity(
            remote_id=page["id"],
            handle=page.get("name", ""),
            display_name=page.get("name", ""),
            url=page.get("link") or f"https://www.facebook.com/{page['id']}",
        )

    # Publishing
    def publish(self, text: str, *, media: Sequence[MediaItem] = (), key: str) -> Published:
        """1. Upload each photo unpublished, with its alt text. 2. One feed post attaching them all."""
        data: dict[str, str] = {"message": with_marker(text, key)}
        for index, item in enumerate(media):
            photo = self.graph.post(
                f"/{self.page_id}/photos",
                files={"source": (item.filename, item.data, item.mime_type)},
                published="false",
                alt_text_custom=item.alt_text,
            )
            data[f"attached_media[{index}]"] = json.dumps({"media_fbid": photo["id"]})
        post = self.graph.post(f"/{self.page_id}/feed", **data)
        return Published(remote_id=post["id"], url=f"https://www.facebook.com/{post['id']}")

    def find_published(self, key: str) -> Published | None:
        """Our recent Page posts, matched on the delivery's invisible marker (see marker.py)."""
        posts = self.graph.get(
            f"/{self.page_id}/posts", fields="id,message,permalink_url,created_time", limit=str(RECENT_POSTS)
        )
        for post in posts.get("data", []):
            if has_marker(post.get("message"), key):
                return Published(
                    remote_id=post["id"], url=post.get("permalink_url") or f"https://www.facebook.com/{post['id']}"
                )
        return None

    def delete_own(self, remote_id: str) -> None:
        self.graph.delete(f"/{remote_id}")

    # Reading
    def fetch_replies(self, remote_post_id: str) -> list[RemoteItem]:
        """Every comment and reply on the post, oldest first (filter=stream flattens the threads)."""
        items: list[RemoteItem] = []
        params = {"fields": COMMENT_FIELDS, "filter": "stream", "order": "chronological", "limit": "100"}
        for _ in range(COMMENT_PAGES):
            page = self.graph.get(f"/{remote_post_id}/comments", **params)
            items.extend(self._item(comment, post_id=remote_post_id) for comment in page.get("data", []))
            after = page.get("paging", {}).get("cursors", {}).get("after")
            if not page.get("paging", {}).get("next") or not after:
                break
            params["after"] = after
        return items

    def read_inbox(self, *, cursor: str, posts: Sequence[str] = ()) -> InboxPage:
        """New comments and replies on our recent posts, oldest first.

        1. For each post, ask for its comments in chronological order since the newest read there last time, less
           OVERLAP (a post not read before: since the first read's start; a first read: FIRST_READ_BACK ago).
        2. Skip the ids kept from the overlap; keep the new newest time and the ids near it, per post.
        3. Stop a post after INBOX_PAGES_PER_POST pages (more=True): reading on since the newest kept misses nothing.
        A post deleted on Facebook is dropped from the cursor; posts no longer listed are forgotten.
        """
        try:
            state = cursors.load(cursor, network=self.label)
        except ValueError as error:
            raise ConnectorError(str(error), permanent=True) from error
        now = timezone.now().timestamp()
        start = state.get("start")
        start = float(start) if isinstance(start, int | float) else now - FIRST_READ_BACK.total_seconds()
        known = state.get("posts") if isinstance(state.get("posts"), dict) else {}
        found: list[tuple[float, str, RemoteItem]] = []
        marks: dict[str, dict] = {}
        more = False
        for post_id in dict.fromkeys(str(post) for post in posts):
            try:
                mark = cursors.Mark.from_dict(known.get(post_id))
            except ValueError as error:  # a reading mark Schoolgate did not write
                raise ConnectorError(str(error), permanent=True) from error
            try:
                items, mark, unfinished = self._read_post(post_id, mark, first_floor=start)
            except ItemGone:
                continue  # the post was deleted: nothing more will reach it
            found.extend(items)
            marks[post_id] = mark.to_dict()
            more = more or unfinished
        found.sort(key=lambda entry: (entry[0], entry[1]))
        return InboxPage(
            items=[item for _at, _id, item in found],
            cursor=cursors.dump({"start": start, "posts": marks}),
            more=more,
        )

    def _read_post(
        self, post_id: str, mark: cursors.Mark, *, first_floor: float
    ) -> tuple[list[tuple[float, str, RemoteItem]], cursors.Mark, bool]:
        floor = first_floor if mark.newest is None else mark.newest - OVERLAP
        params = {
            "fields": INBOX_FIELDS,
            "filter": "stream",
            "order": "chronological",
            "since": str(int(floor)),
            "limit": str(INBOX_PAGE),
        }
        found: dict[str, tuple[float, str, RemoteItem]] = {}
        newest = mark.newest
        unfinished = False
        for page_number in range(INBOX_PAGES_PER_POST):
            page = self.graph.get(f"/{post_id}/comments", **params)
            comments = page.get("data")
            if not isinstance(comments, list) or not all(_readable(c, "created_time") for c in comments):
                raise ConnectorError(
                    "Facebook answered the comments read with something that is not a list of comments."
                )
            for comment in comments:
                item = self._item(comment, post_id=post_id)
                at = item.created_at.timestamp()
                newest = at if newest is None else max(newest, at)
                if at >= floor and item.remote_id not in mark.recent:
                    found.setdefault(item.remote_id, (at, item.remote_id, item))
            paging = page.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                break
            if page_number == INBOX_PAGES_PER_POST - 1:
                unfinished = True
                break
            params["after"] = after
        recent = {**mark.recent, **{remote_id: at for at, remote_id, _item in found.values()}}
        if newest is not None:
            recent = {key: at for key, at in recent.items() if at >= newest - OVERLAP}
        return list(found.values()), cursors.Mark(newest=newest, recent=recent), unfinished

    @staticmethod
    def _item(comment: dict, *, post_id: str) -> RemoteItem:
        author = comment.get("from") or {}  # Meta omits "from" when the person's privacy hides it
        return RemoteItem(
            remote_id=comment["id"],
            author_id=author.get("id", ""),
            author_handle=author.get("name", ""),
            author_name=author.get("name", ""),
            text=without_marker(comment.get("message", "")),
            created_at=graph.parse_time(comment["created_time"]),
            url=comment.get("permalink_url", ""),
            in_reply_to=(comment.get("parent") or {}).get("id", post_id),
            hidden=bool(comment.get("is_hidden")),
            kind=ItemKind.COMMENT.value,
            root_id=post_id,
            media=_media(comment.get("attachment")),
            raw=comment,
        )

    # Answering and moderating
    def reply(self, item: RemoteItem, text: str, *, key: str) -> Published:
        comment = self.graph.post(f"/{item.remote_id}/comments", message=text)
        return Published(remote_id=comment["id"], url=f"https://www.facebook.com/{comment['id']}")

    def hide(self, item: RemoteItem) -> None:
        self._expect_success(self.graph.post(f"/{item.remote_id}", is_hidden="true"), "hide the comment")

    def unhide(self, item: RemoteItem) -> None:
        self._expect_success(self.graph.post(f"/{item.remote_id}", is_hidden="false"), "show the comment again")

    def delete_others(self, item: RemoteItem) -> None:
        self._expect_success(self.graph.delete(f"/{item.remote_id}"), "delete the comment")

    def block(self, author_id: str) -> None:
        result = self.graph.post(f"/{self.page_id}/blocked", user=author_id)
        if result.get(author_id) is not True:
            raise ConnectorError(f"Facebook did not confirm blocking {author_id}: {result}", permanent=True)

    @staticmethod
    def _expect_success(result: dict, what: str) -> None:
        if result.get("success") is not True:
            raise ConnectorError(f"Facebook did not confirm it could {what}: {result}", permanent=True)


def _media(attachment) -> tuple[RemoteMedia, ...]:
    """A comment's one attachment (photo, sticker, GIF) as Facebook serves it: media.image.src; else its url."""
    if not isinstance(attachment, dict):
        return ()
    image = (attachment.get("media") or {}).get("image") or {}
    url = image.get("src") or attachment.get("url") or ""
    if not url:
        return ()
    return (RemoteMedia(url=url, alt_text=attachment.get("description") or attachment.get("title") or ""),)


def _readable(comment, time_field: str) -> bool:
    """Whether a comment has what Schoolgate needs: an id and a time in Graph's format."""
    if not isinstance(comment, dict) or not comment.get("id"):
        return False
    try:
        graph.parse_time(comment.get(time_field) or "")
    except (TypeError, ValueError):
        return False
    return True
