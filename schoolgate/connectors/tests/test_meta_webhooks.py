"""Meta's webhooks (facebook/webhooks.py): the hub.challenge handshake, X-Hub-Signature-256, and events parsed from
payloads shaped as Meta's webhook references show them (Page `feed`; Instagram `comments` and `mentions`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest
from django.http import QueryDict

from schoolgate.connectors.base import ItemKind
from schoolgate.connectors.facebook.webhooks import (
    MENTION_TEXT,
    WebhookEvent,
    parse_events,
    verification_challenge,
    verify_signature,
)

SECRET = "meta-app-secret-for-tests"  # noqa: S105 - a test fixture, not a credential
PAGE_ID = "104567890123456"
POST_ID = f"{PAGE_ID}_122100000000000001"
IG_USER = "17841400000000001"
MEDIA_ID = "17920000000000001"


def signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def feed_change(verb: str, comment_id: str, *, parent: str = POST_ID, message: str = "", **extra) -> dict:
    """A Page `feed` change for a comment, as in Meta's webhook reference (Page, field feed)."""
    value = {
        "from": {"id": "7000000000000001", "name": "Sam Parent"},
        "post": {"status_type": "added_photos", "is_published": True, "id": POST_ID},
        "post_id": POST_ID,
        "comment_id": comment_id,
        "parent_id": parent,
        "created_time": 1762161302,
        "item": "comment",
        "verb": verb,
        **extra,
    }
    if message:
        value["message"] = message
    return {"field": "feed", "value": value}


def page_payload(*changes) -> dict:
    return {"object": "page", "entry": [{"id": PAGE_ID, "time": 1762161310, "changes": list(changes)}]}


def instagram_payload(*changes) -> dict:
    return {"object": "instagram", "entry": [{"id": IG_USER, "time": 1762268469, "changes": list(changes)}]}


@pytest.mark.clause("RS-MON-2")
def test_it_answers_the_challenge_only_for_a_subscribe_with_our_token():
    asked = QueryDict("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=right-token")
    assert verification_challenge(asked, "right-token") == "1158201444"
    assert verification_challenge(asked, "other-token") is None
    assert verification_challenge(asked, "") is None  # no token configured: never answered
    plain = {"hub.mode": "unsubscribe", "hub.challenge": "1158201444", "hub.verify_token": "right-token"}
    assert verification_challenge(plain, "right-token") is None
    assert verification_challenge({"hub.mode": "subscribe", "hub.challenge": "1"}, "right-token") is None


@pytest.mark.clause("RS-MON-2")
def test_it_accepts_only_the_signature_made_with_our_secret_over_this_body():
    body = json.dumps(page_payload(feed_change("add", "122100000000000001_1001", message="Hi"))).encode()
    assert verify_signature(body, signature(body), SECRET)
    assert verify_signature(body, signature(body).upper().replace("SHA256=", "sha256="), SECRET)  # hex case
    assert not verify_signature(body, signature(body, "someone-elses-secret"), SECRET)
    assert not verify_signature(body + b" ", signature(body), SECRET)  # the body was changed on the way
    assert not verify_signature(body, "", SECRET)
    assert not verify_signature(body, signature(body).removeprefix("sha256="), SECRET)  # no algorithm prefix
    assert not verify_signature(body, "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest(), SECRET)
    assert not verify_signature(body, signature(body), "")


@pytest.mark.clause("RS-MON-2")
def test_it_reads_facebook_comments_and_replies_from_the_feed_field():
    events = parse_events(
        page_payload(
            feed_change("add", "122100000000000001_1001", message="Lovely! Which song was it?"),
            feed_change(
                "edited",
                "122100000000000001_1002",
                parent="122100000000000001_1001",
                message="It was Somewhere Over the Rainbow",
                created_time="2026-11-03T09:20:40+0000",
            ),
        )
    )
    first, reply = (event.item for event in events)
    assert {(e.network, e.account_remote_id, e.removed_remote_id) for e in events} == {("facebook", PAGE_ID, "")}
    assert first.kind == ItemKind.COMMENT and first.remote_id == "122100000000000001_1001"
    assert (first.author_id, first.author_handle, first.text) == (
        "7000000000000001",
        "Sam Parent",
        "Lovely! Which song was it?",
    )
    assert first.root_id == POST_ID and first.in_reply_to == POST_ID
    assert first.created_at == dt.datetime(2025, 11, 3, 9, 15, 2, tzinfo=dt.UTC)
    assert first.url == f"https://www.facebook.com/{PAGE_ID}/posts/122100000000000001?comment_id=1001"
    assert first.raw["comment_id"] == "122100000000000001_1001"  # Meta's own record, kept as evidence
    assert reply.in_reply_to == "122100000000000001_1001" and reply.root_id == POST_ID
    assert reply.created_at == dt.datetime(2026, 11, 3, 9, 20, 40, tzinfo=dt.UTC)


@pytest.mark.clause("RS-MON-2")
def test_it_turns_a_removed_facebook_comment_into_a_removal_and_skips_what_it_does_not_read():
    reaction = {
        "field": "feed",
        "value": {"item": "reaction", "verb": "add", "post_id": POST_ID, "reaction_type": "like"},
    }
    status = {"field": "feed", "value": {"item": "status", "verb": "add", "post_id": POST_ID, "message": "Hi"}}
    events = parse_events(page_payload(reaction, feed_change("remove", "122100000000000001_1003"), status))
    assert events == [WebhookEvent("facebook", PAGE_ID, None, removed_remote_id="122100000000000001_1003")]
    assert parse_events({"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "messaging": []}]}) == []


@pytest.mark.clause("RS-MON-2")
def test_it_reads_instagram_comments_and_mentions():
    comment = {
        "field": "comments",
        "value": {
            "from": {"id": "17841400000000077", "username": "grandma_pat"},
            "media": {"id": MEDIA_ID, "media_product_type": "FEED"},
            "id": "17850000000000002",
            "parent_id": "17850000000000001",
            "text": "So proud of Class 3!",
        },
    }
    mention = {"field": "mentions", "value": {"media_id": "17999000000000001", "comment_id": "17860000000000009"}}
    caption = {"field": "mentions", "value": {"media_id": "17999000000000002"}}
    events = parse_events(instagram_payload(comment, mention, caption))
    assert {(e.network, e.account_remote_id) for e in events} == {("instagram", IG_USER)}
    reply, in_comment, in_caption = (event.item for event in events)
    assert reply.kind == ItemKind.COMMENT and reply.remote_id == "17850000000000002"
    assert (reply.author_id, reply.author_handle, reply.text) == (
        "17841400000000077",
        "@grandma_pat",
        "So proud of Class 3!",
    )
    assert reply.root_id == MEDIA_ID and reply.in_reply_to == "17850000000000001"
    assert reply.created_at == dt.datetime.fromtimestamp(1762268469, tz=dt.UTC)  # comments carry no time of their own
    # Mentions carry ids only: stored as mentions saying so, for someone to open on Instagram.
    assert in_comment.kind == ItemKind.MENTION and in_comment.remote_id == "17860000000000009"
    assert in_comment.root_id == "17999000000000001" and in_comment.text == MENTION_TEXT
    assert in_caption.remote_id == "17999000000000002" and in_caption.in_reply_to == ""


@pytest.mark.clause("RS-MON-2")
def test_it_refuses_payloads_not_shaped_as_meta_sends_them():
    no_comment_id = feed_change("add", "x", message="Hi")
    del no_comment_id["value"]["comment_id"]
    ig_without_media = {"field": "comments", "value": {"id": "17850000000000002", "text": "Hi"}}
    for payload, message in [
        ([], "must be a JSON object"),
        ("page", "must be a JSON object"),
        ({"entry": []}, "which object"),
        ({"object": "page", "entry": "x"}, "entry must be a list"),
        ({"object": "page", "entry": ["x"]}, "must be an object"),
        ({"object": "page", "entry": [{"time": 1, "changes": []}]}, "entry id"),
        ({"object": "page", "entry": [{"id": PAGE_ID, "changes": {}}]}, "changes must be a list"),
        ({"object": "page", "entry": [{"id": PAGE_ID, "changes": [{"field": "feed", "value": "x"}]}]}, "value"),
        (page_payload(no_comment_id), "comment_id"),
        (instagram_payload(ig_without_media), "media id"),
        (instagram_payload({"field": "mentions", "value": {"comment_id": "1"}}), "media_id"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_events(payload)
