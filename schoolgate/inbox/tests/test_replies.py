"""Our answers: sent through the connector exactly once, named and signed (RS-PUB-1), an acknowledgement stops the
clock (RS-MON-1), read by a colleague where the settings say so, approved by the headteacher for the press
(RS-PRESS-1), and refused when private to a known pupil or parent (AW-MOD-2). Against the real local Bluesky network."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import TestCase
from django.utils import timezone

from schoolgate.audit.models import AuditEntry
from schoolgate.connectors.base import RemoteItem
from schoolgate.connectors.tests.test_bluesky import eventually
from schoolgate.inbox.actions import replies, triage
from schoolgate.inbox.actions.ingest import ingest
from schoolgate.inbox.deadlines import inbox_settings
from schoolgate.inbox.models import (
    Category,
    ContactRelation,
    ItemKind,
    ItemStatus,
    Reply,
    ReplyKind,
    ReplyStatus,
    ResponseTemplate,
    TemplateKind,
)
from schoolgate.inbox.tests.peer import bluesky_thread
from schoolgate.posts.tests.conftest import make_account
from schoolgate.testing import make_school

pytestmark = pytest.mark.django_db

THANKS = "Thank you for your message. We will reply by the end of the next school day."


def acknowledgement(school) -> ResponseTemplate:
    return ResponseTemplate.objects.create(
        school=school, kind=TemplateKind.ACKNOWLEDGEMENT, name="We will reply", text=THANKS, updated_at=timezone.now()
    )


def write(item, **kwargs) -> Reply:
    """Write a reply; the send job queued after commit runs here, as a worker would run it."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        reply = replies.write_reply(item, **kwargs)
    reply.refresh_from_db()
    return reply


@pytest.mark.clause("RS-MON-1")
@pytest.mark.clause("RS-PUB-1")
@pytest.mark.clause("RS-SCOPE-1")
def test_it_sends_an_acknowledgement_once_signed_and_stops_the_clock(cast, bsky_peer):
    thread = bluesky_thread(cast, bsky_peer)
    thread.account.sign_off = "Mrs Patel, school office"
    thread.account.save(update_fields=["sign_off"])
    item = thread.reply("What time does the disco finish on Friday?")
    assert item.status == ItemStatus.OPEN and item.due_at is not None

    reply = write(item, by=cast.alice, kind=ReplyKind.ACKNOWLEDGEMENT, template=acknowledgement(cast.school))

    assert reply.status == ReplyStatus.SENT and reply.remote_id and reply.written_by == cast.alice
    assert [r.value.text for r in thread.replies_on_network()] == [f"{THANKS}\n\nMrs Patel, school office"]
    item.refresh_from_db()
    assert item.status == ItemStatus.ANSWERED and item.answered_by == cast.alice
    assert item.first_answered_at == reply.sent_at  # the acknowledgement is the answer the clock waits for
    sent = AuditEntry.objects.get(action="inbox.reply_sent", detail__reply=reply.pk)
    assert sent.detail["by"] == cast.alice.pk

    # The job again, or a worker that died after the network call: the same key, no second reply.
    assert replies.send_reply(reply.pk) == ""
    Reply.objects.filter(pk=reply.pk).update(
        status=ReplyStatus.SENDING, lease_expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert replies.send_reply(reply.pk) == ReplyStatus.SENT
    assert len(thread.replies_on_network()) == 1


@pytest.mark.clause("RS-PRESS-1")
def test_it_sends_nothing_to_the_press_until_the_headteacher_approves(cast, bsky_peer):
    thread = bluesky_thread(cast, bsky_peer)
    item = thread.reply("I'm a reporter at the Gazette, can the head comment on the Ofsted report?")
    item = triage.set_category(item, by=cast.alice, category=Category.PRESS)

    reply = write(item, by=cast.alice, text="The headteacher will be pleased to speak to you.")

    assert reply.status == ReplyStatus.AWAITING_APPROVAL
    assert thread.replies_on_network() == []
    for not_the_head in (cast.alice, cast.bob, cast.leader):
        with pytest.raises(PermissionDenied):
            replies.approve_press_reply(reply, by=not_the_head, approve=True)
    with TestCase.captureOnCommitCallbacks(execute=True):
        replies.approve_press_reply(reply, by=cast.head, approve=True)
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.SENT and reply.approved_by == cast.head
    assert [r.value.text for r in thread.replies_on_network()] == ["The headteacher will be pleased to speak to you."]


def test_it_has_a_colleague_read_the_reply_first_where_the_school_says_so(cast, bsky_peer):
    settings = inbox_settings(cast.school)
    settings.replies_need_review = True
    settings.save()
    thread = bluesky_thread(cast, bsky_peer)
    item = thread.reply("Is there a uniform sale this term?")

    reply = write(item, by=cast.alice, text="Yes, on the 12th in the hall.")
    assert reply.status == ReplyStatus.AWAITING_REVIEW and thread.replies_on_network() == []
    with pytest.raises(PermissionDenied):
        replies.review_reply(reply, by=cast.alice, approve=True)  # not the writer
    with pytest.raises(ValidationError):
        replies.review_reply(reply, by=cast.bob, approve=False)  # returning needs a reason
    with TestCase.captureOnCommitCallbacks(execute=True):
        replies.review_reply(reply, by=cast.bob, approve=True)
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.SENT and reply.reviewed_by == cast.bob
    assert len(thread.replies_on_network()) == 1


@pytest.mark.clause("AW-PUB-6")
def test_it_refuses_a_reply_the_network_would_refuse_and_keeps_nothing_half_written(cast, bsky_peer):
    thread = bluesky_thread(cast, bsky_peer)
    item = thread.reply("When is parents' evening?")
    with pytest.raises(ValidationError) as refused:
        replies.write_reply(item, by=cast.alice, text="x" * 301)
    assert refused.value.message_dict["text"] == ["Bluesky allows 300 characters; this reply has 301."]
    with pytest.raises(PermissionDenied):
        replies.write_reply(item, by=cast.volunteer, text="Hello")  # not authorised on the account
    assert not Reply.objects.exists() and thread.replies_on_network() == []


def private_message(school, account):
    [item] = ingest(
        account,
        [
            RemoteItem(
                remote_id="dm-1",
                author_id="81",
                author_handle="parent@social.example",
                text="Can you message me privately about my son?",
                created_at=timezone.now() - dt.timedelta(minutes=5),
                kind=ItemKind.MESSAGE.value,
            )
        ],
    )
    return item


@pytest.mark.clause("AW-MOD-2")
def test_it_refuses_a_private_reply_to_a_known_parent_and_logs_the_attempt():
    strict = make_school(settings={"private_messages_forbidden": True})
    account = make_account(strict, name="Mastodon news", network="mastodon", staff=[strict.alice])
    item = private_message(strict, account)
    triage.set_contact(item, by=strict.alice, relation=ContactRelation.CARER)

    with pytest.raises(PermissionDenied) as refused:
        replies.write_reply(item, by=strict.alice, text="Of course, what is your number?")

    assert "forbids private messages with pupils, parents and carers" in str(refused.value)
    assert not Reply.objects.filter(item=item).exists()
    attempt = AuditEntry.objects.get(action="inbox.private_reply_refused")
    assert attempt.actor == strict.alice and attempt.detail["item"] == item.pk

    # A school whose policy allows private messages is not refused (here the account is not connected instead).
    relaxed = make_school(name="Relaxed School", settings={"private_messages_forbidden": False})
    other = make_account(relaxed, name="Mastodon news", network="mastodon", staff=[relaxed.alice])
    allowed = private_message(relaxed, other)
    triage.set_contact(allowed, by=relaxed.alice, relation=ContactRelation.CARER)
    with pytest.raises(ValidationError, match="not connected"):
        replies.write_reply(allowed, by=relaxed.alice, text="Of course.")
    assert AuditEntry.objects.filter(action="inbox.private_reply_refused").count() == 1


def test_it_records_an_answer_given_another_way(cast):
    account = make_account(cast, name="Mastodon news", network="mastodon", staff=[cast.alice])
    item = private_message(cast, account)
    with pytest.raises(ValidationError):
        replies.record_answered_elsewhere(item, by=cast.alice, how=" ")
    item = replies.record_answered_elsewhere(item, by=cast.alice, how="Phoned the parent from the office")
    assert item.status == ItemStatus.ANSWERED and item.first_answered_at is not None
    assert (
        AuditEntry.objects.get(action="inbox.answered_elsewhere").detail["how"] == "Phoned the parent from the office"
    )


def test_it_keeps_a_reply_to_an_item_deleted_on_the_network_as_failed_and_marks_the_item_gone(cast, bsky_peer):
    thread = bluesky_thread(cast, bsky_peer)
    item = thread.reply("Is there school tomorrow?")
    thread.other_client.delete_post(item.remote_id)
    eventually(lambda: not thread.other_client.get_posts([item.remote_id]).posts, what="the deletion at the AppView")

    reply = write(item, by=cast.alice, text="Yes, as normal.")

    assert reply.status == ReplyStatus.FAILED and "deleted on the network" in reply.last_error
    item.refresh_from_db()
    assert item.visibility == "gone" and thread.replies_on_network() == []
    with pytest.raises(ValidationError, match="deleted on the network"):
        replies.write_reply(item, by=cast.alice, text="Yes, as normal.")  # nothing left to reply to


def facebook_comment(cast, settings):
    """A comment on a connected Facebook Page (the Graph API is not called until the reply is sent)."""
    settings.NETWORK_APPS = {**settings.NETWORK_APPS, "facebook": {"client_id": "123", "client_secret": "s"}}
    from schoolgate.connectors.base import AccountIdentity, Credentials
    from schoolgate.official_accounts.actions import connect_account

    account = make_account(cast, name="Applebee on Facebook", network="facebook", staff=[cast.alice])
    connect_account(
        account,
        by=cast.head,
        credentials=Credentials(data={"page_id": "104217318301", "access_token": "EAAtest"}),
        identity=AccountIdentity(remote_id="104217318301", handle="Applebee Wood"),
        service_url="",
    )
    [item] = ingest(
        account,
        [
            RemoteItem(
                remote_id="880011_5551",
                author_id="6000123",
                author_handle="A Parent",
                text="Is the car park open on Saturday?",
                created_at=timezone.now() - dt.timedelta(minutes=10),
                kind=ItemKind.COMMENT.value,
                root_id="104217318301_880011",
                in_reply_to="104217318301_880011",
            )
        ],
    )
    return item


@pytest.mark.clause("RS-MON-1")
def test_it_never_sends_a_reply_twice_where_the_network_cannot_recognise_a_retry(cast, monkeypatch, settings):
    """Facebook keeps no key for comments: after a timeout the reply may be there already, so a person looks before
    it is sent again (or records the link); Schoolgate never repeats it on its own."""
    from schoolgate.connectors.base import ConnectorError, Published
    from schoolgate.connectors.facebook.connector import FacebookConnector

    sent = []

    def times_out(connector, remote, text, *, key):
        sent.append(text)
        raise ConnectorError("Facebook did not answer in time.")

    monkeypatch.setattr(FacebookConnector, "reply", times_out)
    item = facebook_comment(cast, settings)
    reply = write(item, by=cast.alice, text="Yes, from 9am.")

    assert reply.status == ReplyStatus.CHECK and len(sent) == 1
    assert "may or may not have gone out" in reply.last_error
    assert replies.replies_due(timezone.now() + dt.timedelta(hours=1)) == []  # the sweep leaves it alone
    item.refresh_from_db()
    assert item.status == ItemStatus.OPEN  # not answered until someone knows it was

    monkeypatch.setattr(
        FacebookConnector,
        "reply",
        lambda connector, remote, text, *, key: sent.append(text) or Published("c2", "https://www.facebook.com/c2"),
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        replies.retry_reply(reply, by=cast.alice)  # the person looked: it is not there
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.SENT and len(sent) == 2


def test_it_records_a_reply_found_on_the_network_after_an_uncertain_attempt(cast, monkeypatch, settings):
    from schoolgate.connectors.base import ConnectorError
    from schoolgate.connectors.facebook.connector import FacebookConnector

    def times_out(connector, remote, text, *, key):
        raise ConnectorError("Facebook did not answer in time.", status=502)

    monkeypatch.setattr(FacebookConnector, "reply", times_out)
    item = facebook_comment(cast, settings)
    reply = write(item, by=cast.alice, text="Yes, from 9am.")
    assert reply.status == ReplyStatus.CHECK
    with pytest.raises(ValidationError):
        replies.confirm_sent(reply, by=cast.alice, url="not a link")
    reply = replies.confirm_sent(reply, by=cast.alice, url="https://www.facebook.com/880011_7777")
    assert reply.status == ReplyStatus.SENT and reply.url == "https://www.facebook.com/880011_7777"
    item.refresh_from_db()
    assert item.status == ItemStatus.ANSWERED


def test_it_asks_a_person_when_a_send_was_interrupted_on_a_network_without_keys(cast, monkeypatch, settings):
    from schoolgate.connectors.facebook.connector import FacebookConnector

    calls = []
    monkeypatch.setattr(FacebookConnector, "reply", lambda *args, **kwargs: calls.append(args))
    item = facebook_comment(cast, settings)
    reply = Reply.objects.create(
        item=item,
        text="Yes.",
        written_by=cast.alice,
        written_at=timezone.now(),
        status=ReplyStatus.SENDING,
        key=f"reply-crashed@{timezone.now().isoformat()}",
        lease_expires_at=timezone.now() - dt.timedelta(minutes=1),
    )
    assert reply.pk in replies.replies_due(timezone.now())

    assert replies.send_reply(reply.pk) == ReplyStatus.CHECK
    assert calls == []  # not sent again blindly
