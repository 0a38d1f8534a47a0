"""Pre-moderation (AW-MOD-1): on an account that involves pupils, replies are hidden on arrival where the network
allows it and shown once someone approves them; where it does not, they go first in the queue and the account's
pages say the network cannot hold replies."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import TestCase
from django.utils import timezone

from schoolgate.connectors.base import RemoteItem
from schoolgate.inbox.actions import moderation, premoderation
from schoolgate.inbox.actions.ingest import ingest
from schoolgate.inbox.models import (
    InboxItem,
    ItemStatus,
    ModerationAction,
    ModerationKind,
    ModerationPurpose,
    ModerationStatus,
    Visibility,
)
from schoolgate.inbox.tests.peer import bluesky_thread
from schoolgate.policy.models import CommentsDefault
from schoolgate.posts.tests.conftest import make_account
from schoolgate.testing import make_school

pytestmark = pytest.mark.django_db


def mastodon_replies(cast, *texts, involves_pupils=True):
    account = make_account(cast, name="Year 6 blog", network="mastodon", staff=[cast.alice])
    account.involves_pupils = involves_pupils
    account.save(update_fields=["involves_pupils"])
    now = timezone.now()
    with TestCase.captureOnCommitCallbacks(execute=True):
        items = ingest(
            account,
            [
                RemoteItem(
                    remote_id=f"1090{n}",
                    author_id=f"7{n}",
                    author_handle=f"pupil{n}@social.example",
                    text=text,
                    created_at=now - dt.timedelta(minutes=30 - n),
                    in_reply_to="108999",
                )
                for n, text in enumerate(texts)
            ],
        )
    return account, [InboxItem.objects.get(pk=i.pk) for i in items]


@pytest.mark.clause("AW-MOD-1")
def test_it_hides_a_reply_on_arrival_on_bluesky_and_shows_it_once_approved(cast, bsky_peer):
    thread = bluesky_thread(cast, bsky_peer, involves_pupils=True)
    item = thread.reply("Our class made the best volcano!")  # the hold job runs after the item is stored

    assert thread.hidden_replies() == [item.remote_id]  # the thread gate of our post hides it on the network
    assert item.visibility == Visibility.HELD and item.status == ItemStatus.OPEN
    [held] = item.moderation.all()
    assert (held.kind, held.purpose, held.by, held.status) == (
        ModerationKind.HIDE,
        ModerationPurpose.HOLD,
        None,
        ModerationStatus.DONE,
    )
    assert held.reason == "held for approval: the account involves pupils"
    assert held.evidence["text"] == "Our class made the best volcano!"
    assert premoderation.hold_on_arrival(item.pk) is False  # safe to run twice
    assert item.moderation.count() == 1

    with pytest.raises(PermissionDenied):
        premoderation.approve_held(item, by=cast.volunteer)
    shown = premoderation.approve_held(item, by=cast.alice)
    assert shown.kind == ModerationKind.UNHIDE and shown.status == ModerationStatus.DONE and shown.undoes == held
    assert thread.hidden_replies() == []
    item.refresh_from_db()
    assert item.visibility == Visibility.VISIBLE and item.status == ItemStatus.OPEN  # it still wants an answer
    with pytest.raises(ValidationError):
        premoderation.approve_held(item, by=cast.alice)


@pytest.mark.clause("AW-MOD-1")
def test_it_puts_replies_it_cannot_hold_first_in_the_queue_and_says_why(cast):
    other = make_account(cast, name="News", network="mastodon", staff=[cast.alice])
    [older] = ingest(
        other,
        [
            RemoteItem(
                remote_id="1",
                author_id="9",
                author_handle="parent@social.example",
                text="When is the trip?",
                created_at=timezone.now() - dt.timedelta(hours=3),
            )
        ],
    )
    account, [item] = mastodon_replies(cast, "we loved the science week")  # live on the network until approved
    assert item.visibility == Visibility.VISIBLE and item.held_first
    assert not item.moderation.exists()
    assert list(InboxItem.objects.waiting())[:2] == [item, older]
    note = premoderation.held_on_network_note(account)
    assert note.startswith("Mastodon cannot hold replies for approval")
    assert premoderation.held_on_network_note(other) == ""

    assert premoderation.approve_held(item, by=cast.alice) is None
    item.refresh_from_db()
    assert not item.held_first and list(InboxItem.objects.waiting()) == [older, item]  # by due time again


def test_it_keeps_a_rejected_reply_hidden_and_closes_it(cast, bsky_peer):
    thread = bluesky_thread(cast, bsky_peer, involves_pupils=True)
    item = thread.reply("my address is 4 Elm Road")
    premoderation.reject_held(item, by=cast.alice, reason="Gives a home address")
    item.refresh_from_db()
    assert item.visibility == Visibility.HIDDEN and item.status == ItemStatus.CLOSED
    assert item.closed_reason == "moderated: not approved: Gives a home address"
    assert thread.hidden_replies() == [item.remote_id]


def test_it_holds_nothing_on_an_account_that_does_not_involve_pupils(cast):
    account, [item] = mastodon_replies(cast, "hi", involves_pupils=False)
    assert not item.held_first and premoderation.hold_on_arrival(item.pk) is False
    assert not ModerationAction.objects.exists()


def test_it_puts_a_reply_first_in_the_queue_when_hiding_it_fails(cast, bsky_peer):
    thread = bluesky_thread(cast, bsky_peer, involves_pupils=True)
    connection = thread.account.connection
    connection.status = "broken"
    connection.save(update_fields=["status"])
    item = thread.reply("can we bring cake on friday")
    assert item.visibility == Visibility.VISIBLE and item.held_first
    assert thread.hidden_replies() == []
    assert moderation.may_moderate(cast.alice, item.account)


@pytest.mark.clause("AW-MOD-1")
def test_it_holds_replies_where_the_policy_moderates_comments():
    """A school whose policy says comments are moderated holds replies on every account, not only those that
    involve pupils; the same account at a school whose comments are open holds nothing."""
    moderated = make_school(settings={"comments_default": CommentsDefault.MODERATED})
    open_comments = make_school(name="Open Comments School", settings={"comments_default": CommentsDefault.OPEN})
    _, [held] = mastodon_replies(moderated, "lovely assembly", involves_pupils=False)
    _, [live] = mastodon_replies(open_comments, "lovely assembly", involves_pupils=False)
    assert held.held_first and held.status == ItemStatus.OPEN
    assert not live.held_first
