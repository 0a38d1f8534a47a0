"""The X connector: X API v2 with an OAuth 2.0 user token (authorization code with PKCE).

Reference pages followed (docs.x.com):
- OAuth 2.0 with PKCE: /fundamentals/authentication/oauth-2-0/authorization-code
  (https://x.com/i/oauth2/authorize; POST /2/oauth2/token; tokens last two hours; offline.access
  gives a refresh token; confidential clients authenticate with HTTP Basic).
- Media: /x-api/media/upload-media (POST /2/media/upload, multipart media + media_category
  tweet_image; returns {"data": {"id", "media_key", ...}}) and /x-api/media/create-media-metadata
  (POST /2/media/metadata {"id", "metadata": {"alt_text": {"text"}}}).
- Posts: /x-api/posts/create-post (POST /2/tweets with media.media_ids or reply.in_reply_to_tweet_id),
  /x-api/posts/delete-post (DELETE /2/tweets/:id), /x-api/posts/hide-reply (PUT /2/tweets/:id/hidden).
- Reading: /x-api/posts/search-recent-posts (query conversation_id:<id>, last 7 days only) and
  /x-api/users/get-mentions (GET /2/users/:id/mentions: newest first, since_id / start_time,
  max_results 5-100, meta.next_token with pagination_token for older pages; the latest 800 only);
  /x-api/users/get-posts for our own posts. Reads are billed per post returned (pay-per-use, Basic).
- Muting: /x-api/users/mute-user (POST /2/users/:id/muting {"target_user_id"}).
- Rate limits: 429 with x-rate-limit-limit / -remaining / -reset (epoch seconds).
X offers no way to delete other people's replies, blocks only for enterprise customers, and no
report endpoint: those capabilities are left out and raise NotSupported.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import mimetypes
import re
import urllib.parse
from collections.abc import Sequence
from typing import ClassVar

import httpx
from django.conf import settings
from django.utils import timezone

from schoolgate.connectors import cursors, http
from schoolgate.connectors.base import (
    AccountIdentity,
    Capability,
    ConnectionFlow,
    Connector,
    ConnectorError,
    Credentials,
    InboxPage,
    ItemKind,
    Limits,
    MediaItem,
    NotSupported,
    OAuthClient,
    Published,
    ReadWay,
    RemoteItem,
    RemoteMedia,
    handle_post_link_problem,
)
from schoolgate.connectors.marker import MARKER_LENGTH, has_marker, with_marker, without_marker

API_URL = "https://api.x.com"
AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
SCOPES = (
    "tweet.read",
    "tweet.write",
    "users.read",
    "media.write",
    "tweet.moderate.write",
    "mute.write",
    "offline.access",
)
TWEET_FIELDS = "author_id,created_at,conversation_id,in_reply_to_user_id,referenced_tweets"
RECENT_POSTS = "20"
# The inbox: mentions with what tells a reply from a mention or a quote, and the attached media.
INBOX_TWEET_FIELDS = "author_id,created_at,conversation_id,in_reply_to_user_id,referenced_tweets,attachments"
INBOX_EXPANSIONS = "author_id,attachments.media_keys"
INBOX_MEDIA_FIELDS = "url,preview_image_url,alt_text,type"
INBOX_PAGE = "100"  # the most X returns per page; every post read is billed, so no page is read twice
FIRST_READ_BACK = dt.timedelta(days=3)  # a first inbox read goes back this far, never the whole history
PAID_READS = (
    "X bills API reads per post on its pay-per-use and Basic tiers, so how often Schoolgate checks is a cost "
    "setting; the mentions timeline holds the latest 800 posts."
)
# x.com/<username>/status/<id>, or /i/web/status/<id> (the form Schoolgate records itself)
POST_LINK = re.compile(r"/(?:i/web|(?P<user>\w{1,15}))/status/(?P<id>\d+)/?")


def describe_error(body: dict) -> str:
    """X v2 errors are problem documents ({"title", "detail", "type", "status"}) or {"errors": [...]}."""
    if body.get("detail") or body.get("title"):
        return str(body.get("detail") or body.get("title"))
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message") or errors[0].get("detail") or errors[0])
    return str(body.get("error_description") or body.get("error") or "")


def code_verifier(client: OAuthClient, state: str) -> str:
    """The PKCE verifier for one authorization request, derived from its unguessable state.

    Deriving it (HMAC with the deployment's secrets) instead of storing it lets exchange_code rebuild it
    from the state the callback brings back; it never leaves the server. 43 URL-safe characters.
    """
    if not state:
        raise ConnectorError("X needs the OAuth state to finish connecting (PKCE); start again.", permanent=True)
    key = f"{settings.SECRET_KEY}:{client.client_secret}".encode()
    digest = hmac.new(key, f"x-pkce:{client.client_id}:{state}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def code_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def _parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _x_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _remote_media(media: dict) -> RemoteMedia:
    """A photo has its url; a video or GIF only a preview image (X serves the video itself elsewhere)."""
    url = media.get("url") or media.get("preview_image_url") or ""
    guessed, _ = mimetypes.guess_type(urllib.parse.urlsplit(url).path)
    kind = media.get("type", "")
    mime_type = "video/mp4" if kind in ("video", "animated_gif") else (guessed or "")
    return RemoteMedia(url=url, mime_type=mime_type, alt_text=media.get("alt_text") or "")


def _check_readable(response: httpx.Response) -> None:
    """A success sent as JSON that is not JSON (cut short, or an error page labelled JSON): say so plainly."""
    if response.is_success and "json" in response.headers.get("content-type", ""):
        try:
            json.loads(response.content)
        except ValueError as error:
            raise ConnectorError(
                f"X sent an answer that could not be read (malformed JSON, HTTP {response.status_code}); "
                "the service may be overloaded. Schoolgate will try again.",
                status=response.status_code,
            ) from error


class XConnector(Connector):
    network = "x"
    label = "X"
    capabilities = frozenset(
        {
            Capability.PUBLISH,
            Capability.PUBLISH_IMAGES,
            Capability.FETCH_REPLIES,
            Capability.FETCH_MENTIONS,
            Capability.REPLY,
            Capability.HIDE,
            Capability.DELETE_OWN,
            Capability.MUTE,
        }
    )
    limits = Limits(
        max_chars=280 - MARKER_LENGTH,
        max_images=4,
        max_image_bytes=5_000_000,
        image_types=frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"}),
    )
    flow = ConnectionFlow.OAUTH
    needs_deployment_app = True
    web_hosts = frozenset(
        {"x.com", "www.x.com", "mobile.x.com", "twitter.com", "www.twitter.com", "mobile.twitter.com"}
    )
    reads: ClassVar[dict[str, ReadWay]] = {
        ItemKind.REPLY.value: ReadWay("paid", f"Replies that mention the account. {PAID_READS}"),
        ItemKind.MENTION.value: ReadWay("paid", PAID_READS),
        ItemKind.QUOTE.value: ReadWay("paid", f"Quotes that mention the account. {PAID_READS}"),
        ItemKind.MESSAGE.value: ReadWay(
            "not available", "Schoolgate does not read X direct messages; X charges for them separately."
        ),
    }
    refresh_ahead = dt.timedelta(minutes=30)  # access tokens last two hours
    transport: ClassVar[httpx.BaseTransport | None] = None

    def __init__(self, credentials: Credentials, *, base_url: str | None = None):
        super().__init__(credentials, base_url=base_url)
        self._user_id = credentials.data.get("user_id", "")

    @classmethod
    def post_link_problem(cls, account, url: str, *, connector: Connector | None = None) -> str:
        return handle_post_link_problem(
            account,
            url,
            cls,
            POST_LINK,
            "That link is not a post on X: open the post and copy its link (x.com/…/status/…).",
        )

    # Connecting
    @classmethod
    def authorization_url(cls, *, client: OAuthClient, redirect_uri: str, state: str) -> str:
        query = urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": client.client_id,
                "redirect_uri": redirect_uri,
                "scope": " ".join(SCOPES),
                "state": state,
                "code_challenge": code_challenge(code_verifier(client, state)),
                "code_challenge_method": "S256",
            }
        )
        return f"{AUTHORIZE_URL}?{query}"

    @classmethod
    def exchange_code(cls, *, client: OAuthClient, code: str, redirect_uri: str, state: str = "") -> Credentials:
        """1. Swap the code (with the PKCE verifier) for tokens. 2. Note whose account it is.

        X's PKCE needs the verifier again here, rebuilt from `state`: the caller passes the state the
        callback returned (base.Connector.exchange_code has no state; see the report).
        """
        data = {
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier(client, state),
            "client_id": client.client_id,
        }
        credentials = cls._token_request(data, client_id=client.client_id, client_secret=client.client_secret)
        me = cls(credentials)._get("/2/users/me")["data"]
        credentials.data["user_id"] = me["id"]
        credentials.data["username"] = me.get("username", "")
        return credentials

    def refresh_credentials(self) -> Credentials | None:
        """X access tokens last two hours; the refresh token (rotated on every use) gets a new pair."""
        refresh_token = self.credentials.data.get("refresh_token")
        if not refresh_token:
            return None
        client_id = self.credentials.data["client_id"]
        app = getattr(settings, "NETWORK_APPS", {}).get("x", {})
        secret = app.get("client_secret", "") if app.get("client_id") == client_id else ""
        data = {"refresh_token": refresh_token, "grant_type": "refresh_token", "client_id": client_id}
        credentials = self._token_request(data, client_id=client_id, client_secret=secret)
        for kept in ("user_id", "username"):
            credentials.data[kept] = self.credentials.data.get(kept, "")
        credentials.data.setdefault("refresh_token", refresh_token)
        return credentials

    @classmethod
    def _token_request(cls, data: dict, *, client_id: str, client_secret: str) -> Credentials:
        # Confidential clients authenticate with HTTP Basic; public clients only send client_id.
        auth = httpx.BasicAuth(client_id, client_secret) if client_secret else None
        with http.client(base_url=API_URL, transport=cls.transport) as client:
            response = http.call(lambda: client.post("/2/oauth2/token", data=data, auth=auth), network=cls.label)
        body = http.json_or_error(response, network=cls.label, describe_error=describe_error)
        if not body.get("access_token"):
            raise ConnectorError("X did not return an access token.", permanent=True)
        token_data = {"access_token": body["access_token"], "client_id": client_id, "scope": body.get("scope", "")}
        if body.get("refresh_token"):
            token_data["refresh_token"] = body["refresh_token"]
        expires_in = body.get("expires_in")
        expires_at = timezone.now() + dt.timedelta(seconds=int(expires_in)) if expires_in else None
        return Credentials(data=token_data, expires_at=expires_at)

    # One request with the user's token
    def _request(self, method: str, path: str, *, params=None, json=None, data=None, files=None) -> dict:
        headers = {"Authorization": f"Bearer {self.credentials.data['access_token']}"}
        with http.client(base_url=API_URL, headers=headers, transport=self.transport) as client:
            response = http.call(
                lambda: client.request(method, path, params=params, json=json, data=data, files=files),
                network=self.label,
            )
        _check_readable(response)
        return http.json_or_error(response, network=self.label, describe_error=describe_error)

    def _get(self, path: str, **params) -> dict:
        return self._request("GET", path, params=params)

    @property
    def user_id(self) -> str:
        if not self._user_id:
            self._user_id = self._get("/2/users/me")["data"]["id"]
        return self._user_id

    def identity(self) -> AccountIdentity:
        me = self._get("/2/users/me")["data"]
        return AccountIdentity(
            remote_id=me["id"],
            handle=f"@{me['username']}",
            display_name=me.get("name", ""),
            url=f"https://x.com/{me['username']}",
        )

    # Publishing
    def publish(self, text: str, *, media: Sequence[MediaItem] = (), key: str) -> Published:
        """1. Upload each image. 2. Give it its alt text. 3. Post the text with the media ids."""
        media_ids = [self._upload(item) for item in media]
        body: dict = {"text": with_marker(text, key)}
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        post = self._request("POST", "/2/tweets", json=body)["data"]
        return Published(remote_id=post["id"], url=f"https://x.com/i/web/status/{post['id']}")

    def _upload(self, item: MediaItem) -> str:
        uploaded = self._request(
            "POST",
            "/2/media/upload",
            data={"media_category": "tweet_image", "media_type": item.mime_type},
            files={"media": (item.filename, item.data, item.mime_type)},
        )["data"]
        self._request(
            "POST", "/2/media/metadata", json={"id": uploaded["id"], "metadata": {"alt_text": {"text": item.alt_text}}}
        )
        return uploaded["id"]

    def find_published(self, key: str) -> Published | None:
        """Our recent posts, matched on the delivery's invisible marker (see marker.py)."""
        posts = self._get(
            f"/2/users/{self.user_id}/tweets",
            max_results=RECENT_POSTS,
            exclude="replies,retweets",
            **{"tweet.fields": "created_at"},
        )
        for post in posts.get("data", []):
            if has_marker(post.get("text"), key):
                return Published(remote_id=post["id"], url=f"https://x.com/i/web/status/{post['id']}")
        return None

    def delete_own(self, remote_id: str) -> None:
        result = self._request("DELETE", f"/2/tweets/{remote_id}")
        if not result.get("data", {}).get("deleted"):
            raise ConnectorError(f"X did not confirm deleting the post: {result}", permanent=True)

    # Reading
    def fetch_replies(self, remote_post_id: str) -> list[RemoteItem]:
        """Replies in the post's conversation (recent search: X only searches the last seven days)."""
        found = self._get(
            "/2/tweets/search/recent",
            query=f"conversation_id:{remote_post_id}",
            max_results="100",
            expansions="author_id",
            **{"tweet.fields": TWEET_FIELDS, "user.fields": "username,name"},
        )
        return self._items(found)

    def fetch_mentions(self, *, since: dt.datetime | None = None) -> list[RemoteItem]:
        params = {
            "max_results": "100",
            "expansions": "author_id",
            "tweet.fields": TWEET_FIELDS,
            "user.fields": "username,name",
        }
        if since:
            params["start_time"] = since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return self._items(self._get(f"/2/users/{self.user_id}/mentions", **params))

    @staticmethod
    def _items(found: dict) -> list[RemoteItem]:
        users = {user["id"]: user for user in found.get("includes", {}).get("users", [])}
        items = []
        for post in found.get("data", []):
            author = users.get(post.get("author_id", ""), {})
            replied_to = next(
                (ref["id"] for ref in post.get("referenced_tweets", []) if ref["type"] == "replied_to"), ""
            )
            items.append(
                RemoteItem(
                    remote_id=post["id"],
                    author_id=post.get("author_id", ""),
                    author_handle=f"@{author['username']}" if author.get("username") else "",
                    author_name=author.get("name", ""),
                    text=without_marker(post.get("text", "")),
                    created_at=_parse_time(post["created_at"]),
                    url=f"https://x.com/i/web/status/{post['id']}",
                    in_reply_to=replied_to,
                )
            )
        return items

    def read_inbox(self, *, cursor: str, posts: Sequence[str] = ()) -> InboxPage:
        """Mentions after the cursor's post id, one page (up to 100 posts) per call, each page oldest first.

        X returns mentions newest first and pages back in time with next_token, so:
        1. A first run ("") reads one page of the last FIRST_READ_BACK and starts after its newest post.
        2. A later run asks for everything after `since_id`. When X has more pages, the cursor keeps
           since_id, the page token to resume from and the newest id seen (`top`), and more=True; the
           next call reads the next (older) page, and once the pages run out since_id becomes `top`.
        Post ids grow with time, so a restart with the persisted cursor misses nothing, and no page is
        read twice (X bills every post read).
        """
        try:
            state = cursors.load(cursor, network=self.label)
        except ValueError as error:
            raise ConnectorError(
                "That is not an X inbox cursor Schoolgate wrote; start again with an empty cursor.", permanent=True
            ) from error
        params = {
            "max_results": INBOX_PAGE,
            "tweet.fields": INBOX_TWEET_FIELDS,
            "expansions": INBOX_EXPANSIONS,
            "user.fields": "username,name",
            "media.fields": INBOX_MEDIA_FIELDS,
        }
        since_id = state.get("since_id")
        if since_id:
            params["since_id"] = since_id
        else:
            start = state.get("start_time") or _x_time(timezone.now() - FIRST_READ_BACK)
            params["start_time"] = start
        if state.get("resume"):
            params["pagination_token"] = state["resume"]
        found = self._get(f"/2/users/{self.user_id}/mentions", **params)
        try:
            meta = found.get("meta", {})
            next_token = meta.get("next_token")
            items = sorted(self._inbox_items(found, ours={str(post) for post in posts}), key=lambda i: int(i.remote_id))
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise ConnectorError("X answered the mentions read with data Schoolgate does not recognise.") from error
        newest = items[-1].remote_id if items else ""
        top = max((i for i in (since_id, state.get("top"), newest) if i), key=int, default="")
        if next_token and since_id:
            state = {"since_id": since_id, "resume": next_token, "top": top}
        elif top:
            state = {"since_id": top}
        else:  # nothing yet on a first run: keep its start so the next read begins there
            state = {"start_time": params["start_time"]}
        return InboxPage(items=items, cursor=cursors.dump(state), more="resume" in state)

    def _inbox_items(self, found: dict, *, ours: set[str]) -> list[RemoteItem]:
        includes = found.get("includes", {})
        media_by_key = {media["media_key"]: media for media in includes.get("media", []) if "media_key" in media}
        items = []
        data = found.get("data", [])
        if not isinstance(data, list):
            raise TypeError("data is not a list of posts")
        for base, post in zip(self._items(found), data, strict=True):
            references = {ref.get("type"): ref.get("id") for ref in post.get("referenced_tweets", [])}
            conversation = post.get("conversation_id", "")
            replies_to_us = conversation in ours or references.get("replied_to") in ours
            # A reply in one of our posts' conversations, or to us; a quote of one of our posts (its root is
            # the post it quotes: a quote starts a conversation of its own); else a mention.
            root_id = conversation
            if "replied_to" in references and (replies_to_us or post.get("in_reply_to_user_id") == self.user_id):
                kind = ItemKind.REPLY
            elif references.get("quoted") in ours:
                kind, root_id = ItemKind.QUOTE, references["quoted"]
            else:
                kind = ItemKind.MENTION
            attached = [
                media_by_key[key] for key in post.get("attachments", {}).get("media_keys", []) if key in media_by_key
            ]
            users = [user for user in includes.get("users", []) if user.get("id") == post.get("author_id")]
            items.append(
                dataclasses.replace(
                    base,
                    kind=kind.value,
                    root_id=root_id,
                    media=tuple(_remote_media(media) for media in attached),
                    raw={**post, "includes": {"users": users, "media": attached}},
                )
            )
        return items

    # Answering and moderating
    def reply(self, item: RemoteItem, text: str, *, key: str) -> Published:
        body = {"text": text, "reply": {"in_reply_to_tweet_id": item.remote_id}}
        post = self._request("POST", "/2/tweets", json=body)["data"]
        return Published(remote_id=post["id"], url=f"https://x.com/i/web/status/{post['id']}")

    def hide(self, item: RemoteItem) -> None:
        """Hidden replies stay reachable behind "View hidden replies"; only replies to our own posts."""
        result = self._request("PUT", f"/2/tweets/{item.remote_id}/hidden", json={"hidden": True})
        if not result.get("data", {}).get("hidden"):
            raise ConnectorError(f"X did not confirm hiding the reply: {result}", permanent=True)

    def mute(self, author_id: str) -> None:
        result = self._request("POST", f"/2/users/{self.user_id}/muting", json={"target_user_id": author_id})
        if not result.get("data", {}).get("muting"):
            raise ConnectorError(f"X did not confirm muting {author_id}: {result}", permanent=True)

    def block(self, author_id: str) -> None:
        raise NotSupported("X only lets enterprise API customers block accounts; mute the account instead.")
