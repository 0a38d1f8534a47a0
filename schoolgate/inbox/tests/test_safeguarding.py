"""Items passed to the safeguarding lead (RS-ABU-2, AW-CON-1, the inbox side): a possible disclosure found by the
screening, or an item staff mark, opens a concern for the DSL, is hidden on the network (never deleted), and the
inbox keeps none of its words: not on the item, in a notification, an email or the audit log."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import TestCase
from django.utils import timezone

from schoolgate.audit.models import AuditEntry
from schoolgate.concerns.models import Audience, Category, ClockKind, Concern, WhereKind
from schoolgate.connectors.base import RemoteItem
from schoolgate.inbox.actions import moderation
from schoolgate.inbox.actions.ingest import ingest
from schoolgate.inbox.models import (
    InboxItem,
    ItemStatus,
    ModerationAction,
    ModerationKind,
    ModerationPurpose,
    ModerationStatus,
    Note,
    Visibility,
)
from schoolgate.inbox.tests.peer import bluesky_thread
from schoolgate.notifications.models import Notification
from schoolgate.posts.tests.conftest import make_account

pytestmark = pytest.mark.django_db

DISCLOSURE = "my step dad hurts me when mum is at work, please don't tell anyone"
WORDS = ("step dad hurts me", "hurts me", "don't tell anyone")


def everything_audited() -> str:
    return json.dumps(
        [[e.action, e.actor_label, e.object_repr, e.changes, e.detail] for e in AuditEntry.objects.order_by("seq")]
    )


def no_words_in(text: str) -> bool:
    return not any(words.lower() in text.lower() for words in WORDS)


def mastodon_item(cast, text: str = "Mr Jones the PE teacher keeps sending horrible messages to parents", **kw):
    account = make_account(cast, name="Mastodon news", network="mastodon", staff=[cast.alice])
    [item] = ingest(
        account,
        [
            RemoteItem(
                remote_id="109001",
                author_id="77",
                author_handle="parent@social.example",
                author_name="A Parent",
                text=text,
                created_at=timezone.now() - dt.timedelta(minutes=3),
                url="https://social.example/@parent/109001",
                in_reply_to="108999",
                **kw,
            )
        ],
    )
    return item


@pytest.mark.clause("RS-ABU-2")
@pytest.mark.clause("AW-CON-1")
def test_it_passes_a_disclosure_found_by_the_screening_to_the_dsl_hidden_and_kept_as_evidence(
    cast, bsky_peer, mailoutbox_cleared
):
    thread = bluesky_thread(cast, bsky_peer)
    item = thread.reply(DISCLOSURE)  # the screening flags it; the job after commit passes it on

    # A concern for the DSL, from no person: the screening of the account found it.
    concern = Concern.objects.get(school=cast.school)
    assert item.concern == concern and item.status == ItemStatus.WITH_DSL
    assert concern.reported_by is None and concern.source == "Found by Schoolgate's screening of Bluesky news (Bluesky)"
    assert (concern.category, concern.where_kind, concern.network) == (
        Category.DISCLOSURE,
        WhereKind.OFFICIAL_ACCOUNT,
        "bluesky",
    )
    assert concern.audience == Audience.SAFEGUARDING
    content = concern.content
    assert DISCLOSURE in content["text"] and thread.other.did in content["text"] and item.url in content["where"]
    [evidence] = concern.evidence.all()
    record = json.loads(evidence.data())
    assert evidence.content_type == "application/json"
    assert record["item"]["text"] == DISCLOSURE and record["item"]["author_id"] == thread.other.did
    assert record["item"]["url"] == item.url and record["item"]["received_at"]
    assert any("disclosure" in json.dumps(f) for f in record["screening"])

    # Hidden on the network (the thread gate of our post), never deleted.
    assert thread.hidden_replies() == [item.remote_id]
    assert item.visibility == Visibility.HIDDEN
    [hide] = item.moderation.all()
    assert (hide.kind, hide.purpose, hide.status, hide.by) == (
        ModerationKind.HIDE,
        ModerationPurpose.SAFEGUARDING,
        ModerationStatus.DONE,
        None,
    )
    assert not item.moderation.filter(kind=ModerationKind.DELETE).exists()

    # The inbox keeps no words: not the item, not the hide's evidence, not the screening's findings.
    assert (item.text, item.author_name, item.raw, item.media, item.findings) == ("", "", {}, [], [])
    assert no_words_in(json.dumps(hide.evidence))

    # The readers are told a concern needs their attention, without its content; nobody else hears of it.
    told = Notification.objects.filter(subject="A new concern needs your attention")
    assert {n.user for n in told} == {cast.dsl, cast.deputy_dsl, cast.head}
    for notification in Notification.objects.all():
        assert no_words_in(f"{notification.subject} {notification.body}")
    assert {m.to[0] for m in mailoutbox_cleared} >= {cast.dsl.email}
    for message in mailoutbox_cleared:
        assert no_words_in(f"{message.subject} {message.body}")
    assert no_words_in(everything_audited())
    assert AuditEntry.objects.filter(action="inbox.passed_to_dsl", detail__found_by="screening").exists()


@pytest.mark.clause("AW-CON-1")
def test_it_shows_the_words_only_to_the_concerns_readers_with_the_source_as_reporter(client, cast, bsky_peer):
    thread = bluesky_thread(cast, bsky_peer)
    item = thread.reply(DISCLOSURE)
    client.force_login(cast.dsl)
    page = client.get(f"/s/{cast.school.slug}/concerns/{item.concern_id}/").content.decode()
    assert "step dad hurts me" in page and "Found by Schoolgate&#x27;s screening of Bluesky news" in page
    client.force_login(cast.alice)
    assert client.get(f"/s/{cast.school.slug}/concerns/{item.concern_id}/").status_code == 404


def test_it_opens_one_concern_however_often_the_job_runs(cast):
    item = mastodon_item(cast, text=DISCLOSURE)
    assert item.status == ItemStatus.WITH_DSL
    assert moderation.route_item_to_dsl(item.pk) is True
    assert moderation.route_item_to_dsl(item.pk) is False
    assert Concern.objects.count() == 1


@pytest.mark.clause("RS-ABU-2")
def test_it_passes_abuse_by_a_colleague_marked_by_staff_to_the_headteacher_and_dsl(cast):
    item = mastodon_item(cast)
    Note.objects.create(item=item, author=cast.alice, text="Mr Jones again, see his reply", created_at=timezone.now())
    concern = moderation.route_to_dsl(item, by=cast.alice, category=Category.COLLEAGUE_ABUSE, staff=[cast.bob])
    item.refresh_from_db()
    assert concern.reported_by == cast.alice and concern.source == ""
    assert concern.category == Category.COLLEAGUE_ABUSE and concern.audience == Audience.STAFF
    assert concern.clocks.filter(kind=ClockKind.LADO).exists()  # an allegation against staff starts the LADO clock
    record = json.loads(concern.evidence.get().data())
    assert record["staff_notes"][0]["text"] == "Mr Jones again, see his reply"
    # The words went with it: the item, and the note about it, keep none.
    assert item.status == ItemStatus.WITH_DSL and item.text == ""
    assert "Mr Jones" not in item.notes.get().text
    assert Notification.objects.filter(user=cast.alice, subject="Your concern has been received").exists()
    assert "Mr Jones" not in everything_audited()


@pytest.mark.clause("RS-ABU-2")
def test_it_records_why_it_could_not_hide_it_where_the_network_cannot(cast):
    item = mastodon_item(cast)
    moderation.route_to_dsl(item, by=cast.alice)
    [hide] = ModerationAction.objects.filter(item=item)
    assert hide.status == ModerationStatus.FAILED and not hide.retryable
    assert hide.error == "Mastodon does not let an account hide other people's replies."
    item.refresh_from_db()
    assert item.visibility == Visibility.VISIBLE and item.concern is not None


def test_it_lets_only_those_who_work_the_inbox_pass_an_item_on_and_only_once(cast):
    item = mastodon_item(cast)
    with pytest.raises(PermissionDenied):
        moderation.route_to_dsl(item, by=cast.volunteer)
    moderation.route_to_dsl(item, by=cast.alice)
    item.refresh_from_db()
    with pytest.raises(ValidationError, match="already"):
        moderation.route_to_dsl(item, by=cast.head)
    assert Concern.objects.count() == 1


def test_it_moves_the_words_of_earlier_moderation_evidence_into_the_concern(cast, bsky_peer):
    thread = bluesky_thread(cast, bsky_peer)
    item = thread.reply("you are all useless idiots")
    with TestCase.captureOnCommitCallbacks(execute=True):
        moderation.moderate(item, by=cast.alice, kind=ModerationKind.HIDE, reason="Abusive", explanation_text="Hidden.")
    item.refresh_from_db()
    concern = moderation.route_to_dsl(item, by=cast.dsl)
    earlier = ModerationAction.objects.get(item=item, purpose=ModerationPurpose.MODERATION, kind=ModerationKind.HIDE)
    assert earlier.evidence == {"kept_in": "the concern log"}
    record = json.loads(concern.evidence.get().data())
    assert record["earlier_moderation"][0]["evidence"]["text"] == "you are all useless idiots"
    assert not InboxItem.objects.filter(pk=item.pk, text__contains="idiots").exists()
