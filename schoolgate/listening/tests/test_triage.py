"""Triage: ignore, reputation watch, reply through the inbox only on the school's own accounts, or a concern for the
DSL (tagged underage use for an account run by a pupil under the site's age); and who may do each."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from schoolgate.audit.models import AuditEntry
from schoolgate.concerns.models import Category as ConcernCategory
from schoolgate.concerns.models import Concern
from schoolgate.inbox.models import InboxItem
from schoolgate.listening.actions import triage
from schoolgate.listening.actions.polling import record_found
from schoolgate.listening.models import Mention, MentionStatus
from schoolgate.listening.sources.base import Found
from schoolgate.listening.tests.helpers import keywords, watch
from schoolgate.posts.tests.conftest import make_account


@pytest.fixture
def account(cast):
    account = make_account(cast, network="bluesky", staff=[cast.alice])
    account.handle = "hillside.bsky.social"
    account.save(update_fields=["handle"])
    return account


def found(cast, text="Hillside sports day was great", *, owner="", url="https://bsky.app/profile/p/post/1"):
    keywords(cast, "Hillside")
    source = watch(cast, kind="bluesky", url="", query="Hillside")
    record_found(
        source,
        [
            Found(
                remote_id="at://did:plc:parent/app.bsky.feed.post/1",
                text=text,
                url=url,
                author="@parent.bsky.social",
                thread_owner=owner,
                raw={"author": {"did": "did:plc:parent", "handle": "parent.bsky.social"}},
            )
        ],
    )
    return Mention.objects.get()


@pytest.mark.clause("RS-WATCH-1")
def test_it_ignores_and_watches_a_mention_and_audits_each_decision(cast):
    mention = found(cast)

    triage.watch_mention(mention, by=cast.dsl)
    assert Mention.objects.get().status == MentionStatus.WATCHING
    triage.ignore_mention(mention, by=cast.leader)
    assert Mention.objects.get().status == MentionStatus.IGNORED
    assert AuditEntry.objects.filter(action__startswith="listening.mention.").count() == 2


@pytest.mark.clause("RS-WATCH-1")
def test_it_lets_authorised_staff_triage_but_not_other_staff_or_governors(cast, account):
    mention = found(cast)

    triage.watch_mention(mention, by=cast.alice)  # authorised on one of the school's accounts
    for person in (cast.bob, cast.volunteer, cast.governor):
        with pytest.raises(PermissionDenied):
            triage.ignore_mention(mention, by=person)


@pytest.mark.clause("RS-WATCH-1")
def test_it_answers_through_the_inbox_a_post_on_the_schools_own_account(cast, account):
    mention = found(cast, "Hillside: is the fete still on?", owner="hillside.bsky.social")
    assert triage.can_answer_in_inbox(mention)

    item = triage.send_to_inbox(mention, by=cast.alice)

    assert InboxItem.objects.get() == item and item.account == account and item.text == mention.text
    mention.refresh_from_db()
    assert mention.status == MentionStatus.IN_INBOX and mention.inbox_item == item


@pytest.mark.clause("RS-WATCH-1")
def test_it_offers_no_reply_to_a_post_elsewhere(cast, account):
    mention = found(cast, owner="someone.else")

    assert not triage.can_answer_in_inbox(mention)
    with pytest.raises(ValidationError):
        triage.send_to_inbox(mention, by=cast.head)
    assert not InboxItem.objects.exists()


@pytest.mark.clause("AW-PUPIL-1")
def test_it_raises_an_underage_account_run_by_a_pupil_as_an_underage_use_concern(cast, account):
    mention = found(cast, "I'm in year 5 at Hillside, follow my new account!")

    concern = triage.raise_concern(mention, by=cast.alice, category=ConcernCategory.UNDERAGE_USE)

    assert Concern.objects.get() == concern and concern.category == ConcernCategory.UNDERAGE_USE
    mention.refresh_from_db()
    assert mention.status == MentionStatus.WITH_DSL and mention.text == "" and mention.concern == concern
    with pytest.raises(ValidationError):
        triage.ignore_mention(mention, by=cast.head)  # passed on: no second decision


@pytest.mark.clause("RS-WATCH-1")
def test_it_refuses_a_concern_kind_it_does_not_offer(cast):
    mention = found(cast)

    with pytest.raises(ValidationError):
        triage.raise_concern(mention, by=cast.head, category="self_report")
