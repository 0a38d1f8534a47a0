"""Meta's webhooks (RS-MON-2, pushed events): the verification handshake; signed events only (X-Hub-Signature-256 over
the raw body with the app secret); each item stored once, whatever the order or the repeats; removals marked gone;
a malformed payload refused with nothing stored. Payloads are shaped as Meta documents them (Page `feed` field)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time

import pytest

from schoolgate.connectors.base import AccountIdentity, Credentials
from schoolgate.inbox.models import InboxItem, Visibility
from schoolgate.official_accounts.actions import connect_account
from schoolgate.posts.tests.conftest import make_account

pytestmark = pytest.mark.django_db

APP_SECRET = "test-meta-app-secret"  # noqa: S105 - a test fixture, not a credential
PAGE_ID = "104217318301"
POST_ID = f"{PAGE_ID}_880011"
URL = "/hooks/meta/"


@pytest.fixture
def page(cast, settings):
    settings.NETWORK_APPS = {**settings.NETWORK_APPS, "facebook": {"client_id": "123", "client_secret": APP_SECRET}}
    settings.META_WEBHOOK_VERIFY_TOKEN = "verify-me-please"  # noqa: S105 - a test fixture
    account = make_account(cast, name="Applebee on Facebook", network="facebook", staff=[cast.alice])
    connect_account(
        account,
        by=cast.head,
        credentials=Credentials(data={"page_token": "EAAtest"}),
        identity=AccountIdentity(remote_id=PAGE_ID, handle="Applebee Wood"),
        service_url="",
    )
    return account


def comment(comment_id: str, text: str, *, parent: str = POST_ID, verb: str = "add", at: int | None = None) -> dict:
    value = {
        "from": {"id": "6000123", "name": "A Parent"},
        "post_id": POST_ID,
        "comment_id": f"880011_{comment_id}",
        "parent_id": parent,
        "created_time": at or int(time.time()) - 60,
        "item": "comment",
        "verb": verb,
    }
    if verb != "remove":
        value["message"] = text
    return {"field": "feed", "value": value}


def payload(*changes, page_id: str = PAGE_ID) -> bytes:
    body = {"object": "page", "entry": [{"id": page_id, "time": int(time.time()), "changes": list(changes)}]}
    return json.dumps(body).encode()


def signed(body: bytes, secret: str = APP_SECRET) -> dict:
    return {"HTTP_X_HUB_SIGNATURE_256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


def post(client, body: bytes, **headers):
    return client.post(URL, body, content_type="application/json", **headers)


@pytest.mark.clause("RS-MON-2")
def test_it_answers_metas_verification_only_with_the_right_token(client, page):
    asked = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
    answer = client.get(URL, {**asked, "hub.verify_token": "verify-me-please"})
    assert answer.status_code == 200 and answer.content == b"1158201444"
    assert client.get(URL, {**asked, "hub.verify_token": "guess"}).status_code == 403


@pytest.mark.clause("RS-MON-2")
def test_it_refuses_a_bad_or_missing_signature_and_stores_nothing(client, page, caplog):
    body = payload(comment("1", "When is sports day?"))
    with caplog.at_level(logging.WARNING):
        assert post(client, body).status_code == 403
        assert post(client, body, **signed(body, secret="someone-elses-secret")).status_code == 403
        tampered = body.replace(b"sports day", b"the disco")
        assert post(client, tampered, **signed(body)).status_code == 403
    assert not InboxItem.objects.exists()
    assert "Refused a Meta webhook" in caplog.text and "sports day" not in caplog.text


@pytest.mark.clause("RS-MON-2")
def test_it_stores_an_event_sent_twice_once(client, page):
    body = payload(comment("1", "When is sports day?"))
    assert post(client, body, **signed(body)).status_code == 200
    assert post(client, body, **signed(body)).status_code == 200  # Meta retries when it is not sure
    [item] = InboxItem.objects.filter(account=page)
    assert item.text == "When is sports day?" and item.author_remote_id == "6000123"


@pytest.mark.clause("RS-MON-2")
def test_it_takes_events_in_any_order_and_marks_a_removed_comment_gone(client, page):
    reply = payload(comment("2", "Thanks, see you there", parent="880011_1"))
    first = payload(comment("1", "Is it on the field?"))
    for body in (reply, first):  # the answer to a comment arrives before the comment
        assert post(client, body, **signed(body)).status_code == 200
    items = {i.text: i for i in InboxItem.objects.filter(account=page)}
    assert set(items) == {"Is it on the field?", "Thanks, see you there"}
    assert items["Thanks, see you there"].parent_remote_id.endswith("880011_1")

    removed = payload(comment("1", "", verb="remove"))
    assert post(client, removed, **signed(removed)).status_code == 200
    assert InboxItem.objects.get(text="Is it on the field?").visibility == Visibility.GONE
    assert InboxItem.objects.get(text="Thanks, see you there").visibility == Visibility.VISIBLE


@pytest.mark.clause("RS-MON-2")
def test_it_refuses_a_malformed_payload_and_stores_nothing(client, page):
    for body in (b"{not json", b"<html>Bad gateway</html>", json.dumps({"object": "page", "entry": "x"}).encode()):
        answer = post(client, body, **signed(body))
        assert answer.status_code == 400 and b"not a webhook event" in answer.content
    assert not InboxItem.objects.exists()


def test_it_ignores_events_for_pages_not_connected_here(client, page):
    body = payload(comment("9", "Hello"), page_id="999999999")
    assert post(client, body, **signed(body)).status_code == 200  # or Meta would send it again and again
    assert not InboxItem.objects.exists()


def test_it_refuses_a_body_over_the_cap_unread(client, page, settings):
    settings.META_WEBHOOK_MAX_BYTES = 100
    body = payload(comment("1", "x" * 200))
    assert post(client, body, **signed(body)).status_code == 413
    assert not InboxItem.objects.exists()
