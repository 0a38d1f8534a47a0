"""The Facebook Page connector: Graph API calls as the Page, with a Page access token.

Reference pages followed (Graph API, version pinned in facebook/graph.py):
- Publishing: https://developers.facebook.com/docs/pages-api/posts (POST /{page-id}/feed with message
  and attached_media[i]={"media_fbid": ...}) and
  https://developers.facebook.com/docs/graph-api/reference/page/photos (POST /{page-id}/photos with
  source, published=false, alt_text_custom; returns {"id"}).
- Comments: https://developers.facebook.com/docs/graph-api/reference/object/comments (GET and POST
  /{object-id}/comments) and https://developers.facebook.com/docs/graph-api/reference/comment
  (POST /{comment-id} is_hidden=true, DELETE /{comment-id}; both return {"success": true}).
- Blocking: https://developers.facebook.com/docs/graph-api/reference/page/blocked (POST
  /{page-id}/blocked user=...; returns {"<id>": true}).
- Pages of the person logging in: https://developers.facebook.com/docs/graph-api/reference/user/accounts
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import ClassVar

import httpx

from schoolgate.connectors.base import (
    AccountIdentity,
    Capability,
    ConnectionFlow,
    Connector,
    ConnectorError,
    Credentials,
    Limits,
    MediaItem,
    OAuthClient,
    Published,
    RemoteItem,
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
        )

    # Answering and moderating
    def reply(self, item: RemoteItem, text: str, *, key: str) -> Published:
        comment = self.graph.post(f"/{item.remote_id}/comments", message=text)
        return Published(remote_id=comment["id"], url=f"https://www.facebook.com/{comment['id']}")

    def hide(self, item: RemoteItem) -> None:
        self._expect_success(self.graph.post(f"/{item.remote_id}", is_hidden="true"), "hide the comment")

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
