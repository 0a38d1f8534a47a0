"""Moderating what reaches the accounts (RS-ABU-1): hide, delete, block, mute and report through the connector, only
where the network allows it, the evidence kept before anything is done, the audience told why from the school's
template, failures kept and retried, undone where the network allows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import TestCase
from django.utils import timezone

from schoolgate.audit.models import AuditEntry
from schoolgate.connectors.base import RemoteItem
from schoolgate.connectors.bluesky.connector import BlueskyConnector
from schoolgate.connectors.tests.test_bluesky import closed_port
from schoolgate.inbox.actions import moderation
from schoolgate.inbox.actions.ingest import ingest
from schoolgate.inbox.models import (
    InboxItem,
    ItemStatus,
    ModerationAction,
    ModerationKind,
    ModerationStatus,
    ReplyKind,
    ResponseTemplate,
    TemplateKind,
    Visibility,
)
from schoolgate.inbox.tests.peer import bluesky_thread
from schoolgate.posts.tests.conftest import make_account

pytestmark = pytest.mark.django_db

ABUSE = "you are a useless bunch of idiots and Ms Patel is a disgrace"
EXPLANATION = "We have hidden a comment because it insulted a member of staff. Please keep replies kind."


def explanation(cast, text: str = EXPLANATION) -> ResponseTemplate:
    return ResponseTemplate.objects.create(
        school=cast.school, kind=TemplateKind.EXPLANATION, name="Insulting staff", text=text, updated_at=timezone.now()
    )


def mastodon_item(cast, text: str = ABUSE) -> InboxItem:
    account = make_account(cast, name="Mastodon news", network="mastodon", staff=[cast.alice])
    [item] = ingest(
        account,
        [
            RemoteItem(
                remote_id="109001",
                author_id="77",
                author_handle="troll@social.example",
                text=text,
                created_at=timezone.now() - dt.timedelta(minutes=3),
                url="https://social.example/@troll/109001",
                in_reply_to="108999",
            )
        ],
    )
    return item


@pytest.mark.clause("RS-ABU-1")
def test_it_hides_an_abusive_reply_on_bluesky_keeping_the_evidence_first_and_explaining_why(
    cast, bsky_peer, monkeypatch
):
    thread = bluesky_thread(cast, bsky_peer)
    item = thread.reply(ABUSE)
    template = explanation(cast)
    at_the_network = {}
    real_hide = BlueskyConnector.hide

    def hide(connector, remote):
        # What was saved before the network was called.
        action = ModerationAction.objects.get(item=item, kind=ModerationKind.HIDE)
        at_the_network.update(status=action.status, evidence=action.evidence)
        return real_hide(connector, remote)

    monkeypatch.setattr(BlueskyConnector, "hide", hide)
    with TestCase.captureOnCommitCallbacks(execute=True):
        action = moderation.moderate(
            item, by=cast.alice, kind=ModerationKind.HIDE, reason="Insults a teacher by name", explain_with=template
        )

    # The evidence was kept before the call: text, author, time, link and the network's own record.
    evidence = at_the_network["evidence"]
    assert at_the_network["status"] == ModerationStatus.PENDING
    assert evidence["text"] == ABUSE and evidence["author_id"] == thread.other.did
    assert evidence["author_handle"] == thread.other.handle and evidence["url"] == item.url
    assert evidence["received_at"] == item.received_at.isoformat() and "raw" in evidence

    # Hidden on the network (the thread gate of our post), and the item closed: nothing is left to answer.
    assert action.status == ModerationStatus.DONE
    assert thread.hidden_replies() == [item.remote_id]
    item.refresh_from_db()
    assert item.visibility == Visibility.HIDDEN and item.status == ItemStatus.CLOSED
    assert item.closed_reason.startswith("moderated: hide")

    # The audience is told why, from the school's template, as a reply under our post.
    reply = action.explanation
    assert reply is not None and reply.kind == ReplyKind.EXPLANATION and reply.text == EXPLANATION
    posted = [r.value.text for r in thread.replies_on_network()]
    assert posted == [EXPLANATION]
    assert AuditEntry.objects.filter(action="inbox.moderation_decided", detail__action=action.pk).exists()
    assert AuditEntry.objects.filter(action="inbox.moderation_done", detail__action=action.pk).exists()


@pytest.mark.clause("RS-ABU-1")
def test_it_refuses_clearly_what_the_network_does_not_allow(cast):
    item = mastodon_item(cast)
    with pytest.raises(ValidationError) as refused:
        moderation.moderate(item, by=cast.alice, kind=ModerationKind.HIDE, reason="Abusive", explanation_text="Hidden")
    assert refused.value.messages == ["Mastodon does not let an account hide other people's replies."]
    with pytest.raises(ValidationError, match="Mastodon does not let an account delete other people's comments"):
        moderation.moderate(item, by=cast.alice, kind=ModerationKind.DELETE, reason="Abusive", explanation_text="x")
    assert not ModerationAction.objects.exists()
    offered = {kind: why for kind, _label, why in moderation.available_actions(item)}
    assert offered[ModerationKind.HIDE] and offered[ModerationKind.DELETE]
    assert offered[ModerationKind.BLOCK] == offered[ModerationKind.MUTE] == offered[ModerationKind.REPORT] == ""


@pytest.mark.clause("RS-ABU-1")
def test_it_keeps_the_evidence_and_a_retryable_failure_when_the_network_is_down(cast, bsky_peer):
    thread = bluesky_thread(cast, bsky_peer)
    item = thread.reply(ABUSE)
    connection = thread.account.connection
    working = connection.service_url
    connection.service_url = f"http://127.0.0.1:{closed_port()}"
    connection.save(update_fields=["service_url"])

    action = moderation.moderate(
        item, by=cast.alice, kind=ModerationKind.HIDE, reason="Abusive", explain_with=explanation(cast)
    )
    assert action.status == ModerationStatus.FAILED and action.retryable
    assert "Could not reach Bluesky" in action.error
    assert action.evidence["text"] == ABUSE
    item.refresh_from_db()
    assert item.visibility == Visibility.VISIBLE and item.status == ItemStatus.OPEN
    assert thread.hidden_replies() == []
    assert action.explanation is None  # the audience is told once it is done, not before

    connection.service_url = working
    connection.save(update_fields=["service_url"])
    with TestCase.captureOnCommitCallbacks(execute=True):
        action = moderation.retry_moderation(action, by=cast.bob)
    assert action.status == ModerationStatus.DONE and action.attempts == 2
    assert thread.hidden_replies() == [item.remote_id]
    assert action.explanation is not None
    with pytest.raises(ValidationError):
        moderation.retry_moderation(action, by=cast.bob)  # done: nothing to retry


def test_it_lets_leaders_the_safeguarding_leads_and_the_accounts_staff_moderate_and_nobody_else(cast):
    item = mastodon_item(cast)
    for person in (cast.volunteer, cast.governor, cast.bob):  # Bob is staff, but not on this account
        with pytest.raises(PermissionDenied):
            moderation.moderate(item, by=person, kind=ModerationKind.BLOCK, reason="Abusive")
    assert {p for p in cast.everyone() if moderation.may_moderate(p, item.account)} == {
        cast.head,
        cast.dsl,
        cast.deputy_dsl,
        cast.leader,
        cast.alice,
    }


def test_it_asks_for_a_reason_and_for_the_explanation_to_hide_or_delete(cast, bsky_peer):
    thread = bluesky_thread(cast, bsky_peer)
    item = thread.reply(ABUSE)
    with pytest.raises(ValidationError) as refused:
        moderation.moderate(item, by=cast.alice, kind=ModerationKind.HIDE, reason=" ", explanation_text="Hidden.")
    assert "reason" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        moderation.moderate(item, by=cast.alice, kind=ModerationKind.HIDE, reason="Abusive")
    assert "explain_with" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        moderation.moderate(item, by=cast.alice, kind=ModerationKind.HIDE, reason="Abusive", explanation_text="x" * 301)
    assert refused.value.message_dict["explanation_text"] == ["Bluesky allows 300 characters; this has 301."]
    assert not ModerationAction.objects.exists()


def test_it_cannot_undo_a_deletion_or_a_report(cast):
    item = mastodon_item(cast)
    for kind in (ModerationKind.DELETE, ModerationKind.REPORT):
        done = ModerationAction.objects.create(
            item=item, kind=kind, reason="Abusive", by=cast.alice, at=timezone.now(), status=ModerationStatus.DONE
        )
        with pytest.raises(ValidationError) as refused:
            moderation.undo_moderation(done, by=cast.alice)
        assert "cannot be" in refused.value.messages[0]


def test_it_refuses_to_moderate_an_item_that_went_to_the_dsl(cast):
    item = mastodon_item(cast)
    moderation.route_to_dsl(item, by=cast.alice)
    item.refresh_from_db()
    with pytest.raises(ValidationError, match="safeguarding lead"):
        moderation.moderate(item, by=cast.head, kind=ModerationKind.BLOCK, reason="Blocking")
