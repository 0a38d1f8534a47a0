"""Meta's webhooks (Facebook Page `feed`, Instagram `comments` and `mentions`): the verification handshake, the
signature check and the events turned into RemoteItems, exactly as a poll would build them.

Reference pages followed:
- https://developers.facebook.com/docs/graph-api/webhooks/getting-started (hub.mode, hub.verify_token,
  hub.challenge; X-Hub-Signature-256: "sha256=" + HMAC-SHA256 of the raw body keyed with the app secret).
- https://developers.facebook.com/docs/graph-api/webhooks/reference/page/#feed (object "page"; entry[].id is the
  Page; changes[].value for item "comment": comment_id, post_id, parent_id, from{id,name}, message, created_time,
  verb add / edited / remove / hide / unhide).
- https://developers.facebook.com/docs/instagram-platform/webhooks (object "instagram"; entry[].id is the
  Instagram professional account; field "comments": value.id, text, from{id,username}, media{id}, parent_id;
  field "mentions": value.media_id and, for a mention in a comment, value.comment_id — ids only).

Instagram mention events carry no text or author: Schoolgate stores them as kind "mention" with a text saying
so, without calling the Graph API from the webhook (the view must answer Meta quickly, and one slow or failing
call would make Meta resend the whole delivery). Reading the text needs a Graph call per mention (the
mentioned_comment / mentioned_media fields of the account, given these ids), left to a later step.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from schoolgate.connectors.base import ItemKind, RemoteItem

SIGNATURE_PREFIX = "sha256="
# Facebook comment verbs: a new or changed comment is (re)stored, a removed one marked gone; hide and unhide
# are our own moderation echoing back (or the Page's admins on Facebook) and change nothing here.
FEED_ITEM_VERBS = frozenset({"add", "edited", "edit"})
FEED_REMOVE_VERBS = frozenset({"remove", "delete"})
MENTION_TEXT = "Instagram says the account was mentioned here; open it on Instagram to read it."


@dataclass(frozen=True)
class WebhookEvent:
    """One thing a webhook delivery says: a new or changed item, or the id of one removed on the network."""

    network: str
    account_remote_id: str
    item: RemoteItem | None
    removed_remote_id: str = ""


def verification_challenge(query: Mapping, token: str) -> str | None:
    """The hub.challenge to echo back when Meta's subscription request carries our verify token; else None."""
    if not token or query.get("hub.mode") != "subscribe":
        return None
    offered = query.get("hub.verify_token") or ""
    challenge = query.get("hub.challenge")
    if not challenge or not hmac.compare_digest(offered.encode(), token.encode()):
        return None
    return challenge


def verify_signature(body: bytes, header: str, secret: str) -> bool:
    """Whether X-Hub-Signature-256 ("sha256=<hex>") is the HMAC-SHA256 of the raw body with this app secret."""
    if not header or not secret or not header.startswith(SIGNATURE_PREFIX):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header[len(SIGNATURE_PREFIX) :].strip().lower().encode(), expected.encode())


def parse_events(payload: Any) -> list[WebhookEvent]:
    """The events in one delivery (its JSON already parsed); ValueError when it is not shaped as Meta sends them.

    Changes Schoolgate does not read (reactions, likes, the Page's own status posts, other fields) are skipped;
    a delivery for an object other than a Page or an Instagram account gives no events.
    """
    if not isinstance(payload, dict):
        raise ValueError("A Meta webhook payload must be a JSON object.")
    kind = payload.get("object")
    if not isinstance(kind, str) or not kind:
        raise ValueError("A Meta webhook payload must say which object it is about.")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise ValueError("A Meta webhook payload's entry must be a list.")
    events: list[WebhookEvent] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise ValueError("Each entry of a Meta webhook payload must be an object.")
        account_id = _id(entry.get("id"), "entry id")
        changes = entry.get("changes", [])
        if not isinstance(changes, list):
            raise ValueError("A Meta webhook entry's changes must be a list.")
        sent_at = _time(entry.get("time"))
        for change in changes:
            if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
                raise ValueError("Each change of a Meta webhook entry must be an object with a value object.")
            if kind == "page":
                event = _feed_event(account_id, change, sent_at)
            elif kind == "instagram":
                event = _instagram_event(account_id, change, sent_at)
            else:
                event = None
            if event is not None:
                events.append(event)
    return events


def _feed_event(page_id: str, change: dict, sent_at: dt.datetime | None) -> WebhookEvent | None:
    value = change["value"]
    if change.get("field") != "feed" or value.get("item") != "comment":
        return None
    verb = value.get("verb")
    comment_id = _id(value.get("comment_id"), "comment_id")
    if verb in FEED_REMOVE_VERBS:
        return WebhookEvent("facebook", page_id, None, removed_remote_id=comment_id)
    if verb not in FEED_ITEM_VERBS:
        return None
    post_id = _id(value.get("post_id"), "post_id")
    author = value.get("from") if isinstance(value.get("from"), dict) else {}  # left out when privacy hides it
    name = str(author.get("name") or "")
    item = RemoteItem(
        remote_id=comment_id,
        author_id=str(author.get("id") or ""),
        author_handle=name,
        author_name=name,
        text=str(value.get("message") or ""),
        created_at=_time(value.get("created_time")) or sent_at or _now(),
        url=_comment_url(post_id, comment_id),
        in_reply_to=str(value.get("parent_id") or post_id),
        kind=ItemKind.COMMENT.value,
        root_id=post_id,
        raw=value,
    )
    return WebhookEvent("facebook", page_id, item)


def _instagram_event(ig_user_id: str, change: dict, sent_at: dt.datetime | None) -> WebhookEvent | None:
    value = change["value"]
    field = change.get("field")
    if field == "comments":
        comment_id = _id(value.get("id"), "comment id")
        media = value.get("media") if isinstance(value.get("media"), dict) else {}
        media_id = _id(media.get("id"), "media id")
        author = value.get("from") if isinstance(value.get("from"), dict) else {}
        username = str(author.get("username") or "")
        item = RemoteItem(
            remote_id=comment_id,
            author_id=str(author.get("id") or ""),
            author_handle=f"@{username}" if username else "",
            text=str(value.get("text") or ""),
            # Instagram's comment events carry no timestamp: the delivery's time is the closest there is.
            created_at=_time(value.get("timestamp")) or sent_at or _now(),
            in_reply_to=str(value.get("parent_id") or media_id),
            kind=ItemKind.COMMENT.value,
            root_id=media_id,
            raw=value,
        )
        return WebhookEvent("instagram", ig_user_id, item)
    if field == "mentions":
        media_id = _id(value.get("media_id"), "media_id")
        comment_id = str(value.get("comment_id") or "")
        item = RemoteItem(
            # A caption mention is the media itself; a comment mention is that comment.
            remote_id=comment_id or media_id,
            author_id="",
            author_handle="",
            text=MENTION_TEXT,
            created_at=sent_at or _now(),
            in_reply_to=media_id if comment_id else "",
            kind=ItemKind.MENTION.value,
            root_id=media_id,
            raw=value,
        )
        return WebhookEvent("instagram", ig_user_id, item)
    return None


def _id(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise ValueError(f"A Meta webhook event is missing its {what}.")
    return str(value).strip()


def _time(value: Any) -> dt.datetime | None:
    """Meta's times: unix seconds, or ISO 8601 ("2026-11-03T09:15:02+0000"); None when absent or unreadable."""
    if isinstance(value, bool) or value in (None, ""):
        return None
    if isinstance(value, int | float):
        # entry.time is sometimes in milliseconds (Instagram); seconds stay below 1e11 until the year 5138.
        seconds = value / 1000 if value > 1e11 else value
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    if isinstance(value, str):
        if value.isdigit():
            return _time(int(value))
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None


def _comment_url(post_id: str, comment_id: str) -> str:
    """The comment's web address when the ids have Facebook's {page}_{post} and {post}_{comment} shapes."""
    page, _, post = post_id.partition("_")
    _, _, comment = comment_id.partition("_")
    if not (page and post and comment):
        return ""
    return f"https://www.facebook.com/{page}/posts/{post}?comment_id={comment}"


def _now() -> dt.datetime:
    return dt.datetime.now(tz=dt.UTC)
