"""Mentions: stored once across sources, screened like incoming comments, a possible disclosure to the DSL at
once (its words only in the concern log), a threat told to the safeguarding leads without its words."""

from __future__ import annotations

import pytest

from schoolgate.concerns.models import Category as ConcernCategory
from schoolgate.concerns.models import Concern
from schoolgate.listening.actions.polling import record_found
from schoolgate.listening.models import Mention, MentionStatus
from schoolgate.listening.sources.base import Found
from schoolgate.listening.tests.helpers import Recorded, keywords, read, rss, watch, xml
from schoolgate.notifications.models import Notification

pytestmark = pytest.mark.clause("RS-WATCH-1")


def test_it_stores_a_post_once_when_two_sources_find_it(cast):
    keywords(cast, "Hillside")
    gazette, aggregator = watch(cast, name="Gazette"), watch(cast, name="News roundup", url="https://news.example/rss")

    read(gazette, Recorded(xml(rss(("Hillside wins award", "https://www.gazette.example/award/", "Big day.")))))
    read(
        aggregator,
        Recorded(xml(rss(("Hillside wins award", "https://gazette.example/award?utm_medium=feed#top", "Big day.")))),
    )

    mention = Mention.objects.get()
    assert mention.source == gazette and mention.also_found_by == ["News roundup"]


def test_it_treats_the_same_words_at_another_address_as_the_same_post(cast):
    keywords(cast, "Hillside")
    source = watch(cast)
    words = "Hillside Primary has closed its car park to parents from Monday, says the council."

    record_found(source, [Found(remote_id="1", text=words, url="https://a.example/1")])
    record_found(source, [Found(remote_id="2", text=words.upper() + " https://t.example/x", url="https://b.example/2")])

    assert Mention.objects.count() == 1


def test_it_screens_each_mention_as_incoming_comments_are(cast):
    keywords(cast, "Hillside")
    source = watch(cast)

    record_found(
        source,
        [
            Found(remote_id="1", text="Why is Hillside closed tomorrow?", url="https://a.example/q"),
            Found(remote_id="2", text="Hillside is a disgrace, I am appalled", url="https://a.example/c"),
        ],
    )

    assert dict(Mention.objects.values_list("remote_id", "category")) == {"1": "query", "2": "complaint"}


def test_it_sends_a_possible_disclosure_to_the_dsl_at_once_without_the_words_in_the_notice(
    cast, django_capture_on_commit_callbacks
):
    keywords(cast, "Hillside")
    source = watch(cast)
    words = "I go to Hillside and my step dad hits me, please don't tell anyone"

    with django_capture_on_commit_callbacks(execute=True):
        record_found(source, [Found(remote_id="1", text=words, url="https://forum.example/p/1", author="kid123")])

    mention = Mention.objects.get()
    concern = Concern.objects.get()
    assert mention.status == MentionStatus.WITH_DSL and mention.concern == concern
    assert concern.category == ConcernCategory.DISCLOSURE
    assert mention.text == "" and mention.author == "" and mention.raw == {}
    told = Notification.objects.filter(user=cast.dsl)
    assert told.exists()
    assert all(words not in n.body and "step dad" not in n.subject + n.body for n in Notification.objects.all())


def test_it_alerts_the_safeguarding_leads_to_a_threat_without_its_words(cast, django_capture_on_commit_callbacks):
    keywords(cast, "Hillside")
    source = watch(cast)
    words = "Someone is going to burn down the school, Hillside had better watch out"

    with django_capture_on_commit_callbacks(execute=True):
        record_found(source, [Found(remote_id="1", text=words, url="https://forum.example/p/2")])

    mention = Mention.objects.get()
    assert mention.status == MentionStatus.NEW and mention.text == words  # a threat stays for staff to triage
    told = set(Notification.objects.filter(about=f"mention:{mention.pk}:threat").values_list("user", flat=True))
    assert told == {cast.head.pk, cast.dsl.pk, cast.deputy_dsl.pk}
    assert all("burn" not in n.subject + n.body for n in Notification.objects.all())


def test_it_notes_the_schools_own_account_when_a_post_is_in_its_thread(cast):
    from schoolgate.posts.tests.conftest import make_account

    account = make_account(cast, network="bluesky")
    account.handle = "hillside.bsky.social"
    account.save(update_fields=["handle"])
    keywords(cast, "Hillside")
    source = watch(cast, kind="bluesky", url="", query="Hillside")

    record_found(
        source,
        [
            Found(
                remote_id="at://a/1",
                text="Hillside replied!",
                url="https://bsky.app/1",
                thread_owner="hillside.bsky.social",
            ),
            Found(
                remote_id="at://b/2", text="Hillside elsewhere", url="https://bsky.app/2", thread_owner="someone.else"
            ),
        ],
    )

    assert dict(Mention.objects.values_list("remote_id", "account")) == {"at://a/1": account.pk, "at://b/2": None}
