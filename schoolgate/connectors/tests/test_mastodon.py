"""The Mastodon connector against a real mastodon-mock server (see conftest_mastodon.py)."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from schoolgate.connectors import registry
from schoolgate.connectors.base import (
    Capability,
    ConnectorError,
    Credentials,
    MediaItem,
    NotSupported,
    RemoteItem,
    check_post,
)
from schoolgate.connectors.http import with_retries
from schoolgate.connectors.mastodon.connector import SCOPES, MastodonConnector, instance_base_url
from schoolgate.connectors.tests.conftest_mastodon import MASTODON_DOMAIN

REDIRECT_URI = "https://schoolgate.example/connections/mastodon/callback"
# A 1x1 PNG and a tiny JPEG header are enough: the mock stores bytes without decoding them.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNk+A8AAQUBAScY42YAAAAASUVORK5CYII=")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def connect(instance, username: str = "hillside") -> MastodonConnector:
    credentials = Credentials(data={"access_token": instance.token(username), "instance": instance.base_url})
    return MastodonConnector(credentials)


def item_for(status) -> RemoteItem:
    return RemoteItem(
        remote_id=str(status["id"]),
        author_id=str(status["account"]["id"]),
        author_handle=f"@{status['account']['acct']}",
        text="",
        created_at=status["created_at"],
    )


# Connecting
def test_it_connects_by_registering_an_app_and_exchanging_the_code(mastodon_instance):
    client = MastodonConnector.register_app(instance_url=mastodon_instance.base_url, redirect_uri=REDIRECT_URI)
    assert client.client_id and client.client_secret
    assert client.base_url == mastodon_instance.base_url

    url = MastodonConnector.authorization_url(client=client, redirect_uri=REDIRECT_URI, state="s3cret-state")
    assert url.startswith(f"{mastodon_instance.base_url}/oauth/authorize?")
    redirect = mastodon_instance.approve(url, username="hillside")
    assert redirect["state"] == "s3cret-state"

    credentials = MastodonConnector.exchange_code(client=client, code=redirect["code"], redirect_uri=REDIRECT_URI)
    assert credentials.expires_at is None
    assert credentials.data["instance"] == mastodon_instance.base_url
    assert set(credentials.data["scope"].split()) == set(SCOPES)

    identity = MastodonConnector(credentials).identity()
    assert identity.handle == f"@hillside@{MASTODON_DOMAIN}"


def test_it_asks_only_for_the_scopes_it_uses(mastodon_instance):
    client = MastodonConnector.register_app(instance_url=mastodon_instance.base_url, redirect_uri=REDIRECT_URI)
    url = MastodonConnector.authorization_url(client=client, redirect_uri=REDIRECT_URI, state="x")
    assert "scope=read%3Aaccounts+read%3Astatuses" in url
    assert "write+" not in url and "follow" not in url


def test_it_refuses_a_code_the_instance_did_not_issue(mastodon_instance):
    client = MastodonConnector.register_app(instance_url=mastodon_instance.base_url, redirect_uri=REDIRECT_URI)
    with pytest.raises(ConnectorError) as raised:
        MastodonConnector.exchange_code(client=client, code="forged", redirect_uri=REDIRECT_URI)
    assert raised.value.permanent
    assert raised.value.status == 400


def test_it_accepts_what_people_type_as_an_instance_but_only_over_https():
    assert instance_base_url("mastodon.social") == "https://mastodon.social"
    assert instance_base_url(" https://mastodon.social/@hillside ") == "https://mastodon.social"
    assert instance_base_url("http://127.0.0.1:3000") == "http://127.0.0.1:3000"
    with pytest.raises(ConnectorError, match="https") as raised:
        instance_base_url("http://mastodon.social")
    assert raised.value.permanent
    with pytest.raises(ConnectorError, match="not the address"):
        instance_base_url("ftp://mastodon.social")


def test_it_is_in_the_registry():
    assert registry.connector_class("mastodon") is MastodonConnector


# Identity
def test_it_reports_the_connected_account(mastodon_instance):
    identity = connect(mastodon_instance).identity()
    expected = mastodon_instance.client("hillside").account_verify_credentials()
    assert identity.remote_id == str(expected["id"])
    assert identity.handle == f"@hillside@{MASTODON_DOMAIN}"
    assert identity.display_name == "Hillside Primary"
    assert identity.url


# Publishing
def test_it_publishes_text(mastodon_instance):
    published = connect(mastodon_instance).publish("Sports day is on Friday.", key="delivery-1")
    status = mastodon_instance.client("parent").status(published.remote_id)
    assert "Sports day is on Friday." in status["content"]
    assert status["account"]["username"] == "hillside"
    assert published.url == status["url"]


def test_it_publishes_images_with_their_alt_text(mastodon_instance):
    media = [
        MediaItem(data=PNG, mime_type="image/png", alt_text="Year 5 planting the garden", filename="garden.png"),
        MediaItem(data=JPEG, mime_type="image/jpeg", alt_text="The finished vegetable beds", filename="beds.jpg"),
    ]
    published = connect(mastodon_instance).publish("Our new garden", media=media, key="delivery-2")

    status = mastodon_instance.client("parent").status(published.remote_id)
    attachments = status["media_attachments"]
    assert [a["description"] for a in attachments] == ["Year 5 planting the garden", "The finished vegetable beds"]
    assert {a["type"] for a in attachments} == {"image"}


def test_it_waits_for_an_upload_the_instance_is_still_processing(mastodon_instance, monkeypatch):
    # /api/v2/media answers 202 with url null while it processes; replay that for the first upload.
    school = mastodon_instance.client("hillside")
    processed = school.media_post(PNG, mime_type="image/png", description="A sunflower")
    mastodon_instance.fail(
        path="/api/v2/media",
        status=202,
        body={
            "id": str(processed["id"]),
            "type": "image",
            "url": None,
            "preview_url": None,
            "description": "A sunflower",
        },
    )
    waits = []
    monkeypatch.setattr(MastodonConnector, "sleep", staticmethod(waits.append))

    item = MediaItem(data=PNG, mime_type="image/png", alt_text="A sunflower", filename="sunflower.png")
    published = connect(mastodon_instance).publish("Tallest sunflower", media=[item], key="delivery-3")

    assert waits == [0.5]
    status = school.status(published.remote_id)
    assert [str(a["id"]) for a in status["media_attachments"]] == [str(processed["id"])]


def test_it_posts_once_when_the_same_key_is_sent_twice(mastodon_instance):
    connector = connect(mastodon_instance)
    first = connector.publish("Term dates for next year", key="delivery-4")
    sent = connector._session.last_response.request.headers
    assert sent["Idempotency-Key"] == "delivery-4"

    again = connector.publish("Term dates for next year", key="delivery-4")
    assert again.remote_id == first.remote_id
    account_id = connector.identity().remote_id
    statuses = mastodon_instance.client("parent").account_statuses(account_id)
    assert [str(s["id"]) for s in statuses] == [first.remote_id]

    different = connector.publish("Term dates for next year", key="delivery-5")
    assert different.remote_id != first.remote_id


def test_it_surfaces_a_refused_post_as_permanent(mastodon_instance):
    with pytest.raises(ConnectorError) as raised:
        connect(mastodon_instance).publish("x" * 501, key="delivery-6")
    assert raised.value.permanent
    assert raised.value.status == 422
    assert "too long" in raised.value.message


def test_it_refuses_more_than_four_images_before_uploading_any(mastodon_instance):
    image = MediaItem(data=PNG, mime_type="image/png", alt_text="A tree", filename="tree.png")
    connector = connect(mastodon_instance)
    with pytest.raises(ConnectorError, match="4 images") as raised:
        connector.publish("Five trees", media=[image] * 5, key="delivery-15")
    assert raised.value.permanent
    assert connector._session.last_response is None  # nothing was sent


def test_it_checks_posts_against_mastodon_limits():
    gif = MediaItem(data=b"GIF89a", mime_type="image/gif", alt_text="A wave", filename="wave.gif")
    assert check_post(MastodonConnector, "Hello", [gif] * 4) == []
    problems = check_post(MastodonConnector, "x" * 501, [gif] * 5)
    assert any("500 characters" in p for p in problems)
    assert any("4 images" in p for p in problems)


def test_it_deletes_its_own_post(mastodon_instance):
    connector = connect(mastodon_instance)
    published = connector.publish("Posted by mistake", key="delivery-7")
    connector.delete_own(published.remote_id)
    with pytest.raises(Exception, match="404"):
        mastodon_instance.client("parent").status(published.remote_id)
    connector.delete_own(published.remote_id)  # already gone: running the job twice is fine


def test_it_cannot_delete_someone_elses_post(mastodon_instance):
    theirs = mastodon_instance.client("parent").status_post("My own words")
    with pytest.raises(ConnectorError) as raised:
        connect(mastodon_instance).delete_own(str(theirs["id"]))
    assert raised.value.permanent
    assert raised.value.status == 403


# Reading
def test_it_reads_replies_at_any_depth(mastodon_instance):
    published = connect(mastodon_instance).publish("Who is coming to the fair?", key="delivery-8")
    reply = mastodon_instance.client("parent").status_post(
        "@hillside We are! <3 & bringing cake", in_reply_to_id=published.remote_id
    )
    nested = mastodon_instance.client("troll").status_post("@parent cake is overrated", in_reply_to_id=reply["id"])

    items = connect(mastodon_instance).fetch_replies(published.remote_id)

    assert [i.remote_id for i in items] == [str(reply["id"]), str(nested["id"])]
    first, second = items
    assert first.text == "@hillside We are! <3 & bringing cake"
    assert first.author_handle == "@parent"
    assert first.author_name == "A Parent"
    assert first.in_reply_to == published.remote_id
    assert second.in_reply_to == str(reply["id"])
    assert first.created_at.tzinfo is not None


def test_it_reads_mentions(mastodon_instance):
    before = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    mention = mastodon_instance.client("parent").status_post("@hillside is the school open tomorrow?")
    mastodon_instance.client("parent").status_post("Not about the school")

    items = connect(mastodon_instance).fetch_mentions()
    assert [i.remote_id for i in items] == [str(mention["id"])]
    assert items[0].text == "@hillside is the school open tomorrow?"
    assert items[0].author_handle == "@parent"

    assert [i.remote_id for i in connect(mastodon_instance).fetch_mentions(since=before)] == [str(mention["id"])]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    assert connect(mastodon_instance).fetch_mentions(since=later) == []


# Answering and moderating
def test_it_replies_in_the_thread(mastodon_instance):
    connector = connect(mastodon_instance)
    published = connector.publish("Lost property is in the hall.", key="delivery-9")
    question = mastodon_instance.client("parent").status_post(
        "@hillside until when?", in_reply_to_id=published.remote_id
    )

    answer = connector.reply(item_for(question), "@parent Until Friday.", key="reply-1")
    again = connector.reply(item_for(question), "@parent Until Friday.", key="reply-1")

    assert again.remote_id == answer.remote_id
    status = mastodon_instance.client("parent").status(answer.remote_id)
    assert str(status["in_reply_to_id"]) == str(question["id"])
    assert status["visibility"] == "public"
    replies = connector.fetch_replies(published.remote_id)
    assert [i.remote_id for i in replies] == [str(question["id"]), answer.remote_id]


def test_it_keeps_a_reply_to_a_direct_message_private(mastodon_instance):
    message = mastodon_instance.client("parent").status_post("@hillside my child is unwell", visibility="direct")
    answer = connect(mastodon_instance).reply(item_for(message), "@parent Thank you, get well soon.", key="reply-2")
    status = mastodon_instance.client("hillside").status(answer.remote_id)
    assert status["visibility"] == "direct"


def test_it_blocks_an_account(mastodon_instance):
    troll_id = str(mastodon_instance.client("troll").account_verify_credentials()["id"])
    connect(mastodon_instance).block(troll_id)
    assert [str(a["id"]) for a in mastodon_instance.client("hillside").blocks()] == [troll_id]


def test_it_mutes_an_account(mastodon_instance):
    troll_id = str(mastodon_instance.client("troll").account_verify_credentials()["id"])
    connect(mastodon_instance).mute(troll_id)
    assert [str(a["id"]) for a in mastodon_instance.client("hillside").mutes()] == [troll_id]


def test_it_reports_a_post_to_the_moderators(mastodon_instance):
    insult = mastodon_instance.client("troll").status_post("@hillside something nasty")
    connect(mastodon_instance).report(item_for(insult), reason="Abuse aimed at the school")

    reports = mastodon_instance.client("hillside").admin_reports()
    assert len(reports) == 1
    assert str(reports[0]["target_account"]["id"]) == str(insult["account"]["id"])
    assert [str(s["id"]) for s in reports[0]["statuses"]] == [str(insult["id"])]
    assert reports[0]["comment"] == "Abuse aimed at the school"


def test_it_cannot_hide_or_delete_other_peoples_replies(mastodon_instance):
    connector = connect(mastodon_instance)
    assert not MastodonConnector.can(Capability.HIDE)
    assert not MastodonConnector.can(Capability.DELETE_OTHERS)
    reply = mastodon_instance.client("parent").status_post("A reply")
    with pytest.raises(NotSupported, match="hiding"):
        connector.hide(item_for(reply))
    with pytest.raises(NotSupported, match="deleting other people"):
        connector.delete_others(item_for(reply))


# Errors
def test_it_retries_a_server_error_then_publishes_once(mastodon_instance):
    mastodon_instance.fail(path="/api/v1/statuses", status=503)
    connector = connect(mastodon_instance)
    waits = []

    published = with_retries(
        lambda: connector.publish("Snow day: school closed", key="delivery-10"), sleep=waits.append
    )

    assert waits == [1.0]
    account_id = connector.identity().remote_id
    statuses = mastodon_instance.client("parent").account_statuses(account_id)
    assert [str(s["id"]) for s in statuses] == [published.remote_id]


def test_it_waits_as_long_as_a_rate_limit_says(mastodon_instance):
    mastodon_instance.fail(path="/api/v1/statuses", kind="ratelimit")  # 429 with Retry-After: 300
    with pytest.raises(ConnectorError) as raised:
        connect(mastodon_instance).publish("Hello", key="delivery-11")
    assert not raised.value.permanent
    assert raised.value.status == 429
    assert raised.value.retry_after == 300


def test_it_reads_a_rate_limit_reset_time_when_there_is_no_retry_after(mastodon_instance):
    # Mastodon's own 429 carries X-RateLimit-Reset as an ISO 8601 time.
    reset = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120)).isoformat()
    mastodon_instance.fail(path="/api/v1/statuses", status=429, headers={"X-RateLimit-Reset": reset})
    with pytest.raises(ConnectorError) as raised:
        connect(mastodon_instance).publish("Hello", key="delivery-13")
    assert not raised.value.permanent
    assert 100 < raised.value.retry_after <= 120


def test_it_backs_off_normally_after_a_server_error_despite_rate_limit_headers(mastodon_instance):
    # Every Mastodon response carries X-RateLimit-Reset; it says nothing about when a 502 ends.
    reset = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).isoformat()
    mastodon_instance.fail(path="/api/v1/statuses", status=502, headers={"X-RateLimit-Reset": reset})
    with pytest.raises(ConnectorError) as raised:
        connect(mastodon_instance).publish("Hello", key="delivery-14")
    assert not raised.value.permanent
    assert raised.value.status == 502
    assert raised.value.retry_after is None


def test_it_retries_when_the_instance_cannot_be_reached(closed_port_url):
    connector = MastodonConnector(Credentials(data={"access_token": "t", "instance": closed_port_url}))
    waits = []
    with pytest.raises(ConnectorError, match="Could not reach") as raised:
        with_retries(lambda: connector.publish("Hello", key="delivery-12"), sleep=waits.append)
    assert "The server at 127.0.0.1 did not answer." in raised.value.message  # not "[Errno 111] ..."
    assert not raised.value.permanent
    assert waits == [1.0, 2.0]


def test_it_explains_a_server_answering_html_instead_of_json(html_server):
    connector = MastodonConnector(Credentials(data={"access_token": "t", "instance": html_server}))
    with pytest.raises(ConnectorError, match="a web page instead of the data") as raised:
        connector.identity()
    assert "Sign in" not in raised.value.message  # never the page itself
    with pytest.raises(ConnectorError, match="a web page instead of the data") as raised:
        MastodonConnector.register_app(instance_url=html_server, redirect_uri=REDIRECT_URI)
    assert "Sign in" not in raised.value.message


def test_it_surfaces_a_revoked_token_as_permanent(mastodon_instance):
    connector = connect(mastodon_instance)
    connector.identity()
    mastodon_instance.revoke(mastodon_instance.token("hillside"))
    waits = []

    with pytest.raises(ConnectorError, match="Connect the account again") as raised:
        with_retries(connector.identity, sleep=waits.append)

    assert raised.value.permanent
    assert raised.value.status == 401
    assert waits == []
