"""The listening pages: sources and keywords for those who configure, mentions and triage for those who watch, and
an honest coverage page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from schoolgate.listening.actions.polling import record_found
from schoolgate.listening.models import Keyword, Mention, MentionStatus, Source, SourceStatus
from schoolgate.listening.sources.base import Found
from schoolgate.listening.tests.helpers import keywords, watch

pytestmark = pytest.mark.clause("RS-WATCH-1")


def url(cast, path=""):
    return f"/s/{cast.school.slug}/listening/{path}"


def test_it_adds_pauses_resumes_and_edits_a_source_through_its_pages(client, cast):
    client.force_login(cast.dsl)

    added = client.post(
        url(cast, "sources/"),
        {"kind": "rss", "name": "Gazette", "url": "https://gazette.example/feed", "query": "", "poll_minutes": 30},
    )
    source = Source.objects.get()
    client.post(url(cast, f"sources/{source.pk}/pause/"))
    paused = Source.objects.get().status
    client.post(url(cast, f"sources/{source.pk}/resume/"))
    edited = client.post(
        url(cast, f"sources/{source.pk}/"),
        {"name": "Valley Gazette", "url": "https://gazette.example/feed", "query": "", "poll_minutes": 60},
    )

    assert added.status_code == 302 and edited.status_code == 302
    assert paused == SourceStatus.PAUSED
    source.refresh_from_db()
    assert source.status == SourceStatus.ACTIVE and source.name == "Valley Gazette"
    assert "Valley Gazette" in client.get(url(cast, "sources/")).content.decode()


def test_it_refuses_a_poll_interval_below_the_networks_limit(client, cast):
    client.force_login(cast.head)

    answer = client.post(
        url(cast, "sources/"), {"kind": "youtube", "name": "YT", "url": "", "query": "Hillside", "poll_minutes": 5}
    )

    assert answer.status_code == 400
    assert "at most every 60 minutes" in answer.content.decode()
    assert not Source.objects.exists()


def test_it_refuses_an_address_on_a_private_network(client, cast, settings):
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = []
    client.force_login(cast.head)

    answer = client.post(
        url(cast, "sources/"),
        {"kind": "page", "name": "Router", "url": "http://192.168.1.1/", "query": "", "poll_minutes": 60},
    )

    assert answer.status_code == 400 and not Source.objects.exists()


def test_it_keeps_configuration_to_the_leaders_and_safeguarding_leads(client, cast):
    for person, status in ((cast.leader, 200), (cast.deputy_dsl, 200), (cast.alice, 403), (cast.governor, 403)):
        client.force_login(person)
        assert client.get(url(cast, "sources/")).status_code == status
        assert client.get(url(cast, "keywords/")).status_code == status


def test_it_adds_keywords_and_says_when_there_are_too_many(client, cast, monkeypatch):
    from schoolgate.listening.actions import configure

    client.force_login(cast.head)
    client.post(url(cast, "keywords/"), {"phrases": "Hillside Primary\nHillside", "kind": "name"})
    monkeypatch.setattr(configure, "MAX_KEYWORDS", 3)
    refused = client.post(url(cast, "keywords/"), {"phrases": "A, B", "kind": "street"})

    assert sorted(Keyword.objects.values_list("text", flat=True)) == ["Hillside", "Hillside Primary"]
    assert refused.status_code == 400 and "at most" in refused.content.decode()


def test_it_lists_mentions_and_triages_one_with_its_buttons(client, cast):
    keywords(cast, "Hillside")
    source = watch(cast)
    record_found(source, [Found(remote_id="1", text="Hillside sports day", url="https://a.example/1")])
    mention = Mention.objects.get()
    client.force_login(cast.deputy_dsl)

    listed = client.get(url(cast)).content.decode()
    page = client.get(url(cast, f"mentions/{mention.pk}/")).content.decode()
    client.post(url(cast, f"mentions/{mention.pk}/decide/"), {"decision": "watch"})

    assert "Hillside sports day" in listed
    assert "Keep on reputation watch" in page and "Raise a concern" in page
    assert "Reply through the inbox" not in page  # not on one of the school's accounts
    assert Mention.objects.get().status == MentionStatus.WATCHING


def test_it_keeps_mentions_from_people_who_do_not_watch(client, cast):
    client.force_login(cast.volunteer)

    assert client.get(url(cast)).status_code == 403
    assert client.get(url(cast, "coverage/")).status_code == 403


def test_it_shows_what_is_watched_what_failed_and_what_no_tool_can_see(client, cast):
    fine = watch(cast, name="Gazette")
    limited = watch(cast, kind="reddit", url="", query="Hillside", name="Reddit search")
    broken = watch(cast, name="Old blog", url="https://old.example/feed")
    Source.objects.filter(pk=fine.pk).update(last_read_at=timezone.now())
    Source.objects.filter(pk=limited.pk).update(
        last_error="Reddit rate limit reached: Too Many Requests",
        rate_limited_until=timezone.now() + dt.timedelta(minutes=10),
    )
    Source.objects.filter(pk=broken.pk).update(
        status=SourceStatus.BROKEN, last_error="https://old.example/feed answered HTTP 404: check the address."
    )
    client.force_login(cast.head)

    page = client.get(url(cast, "coverage/")).content.decode()

    assert "Read as planned." in page
    assert "asked Schoolgate to wait (a rate limit)" in page
    assert "answered HTTP 404" in page
    assert "WhatsApp" in page and "Facebook groups" in page and "Closed or private accounts" in page
    assert "Not watched at all: Web page, Bluesky, Mastodon, YouTube." in page


def test_it_lets_a_watcher_choose_the_daily_digest_and_sends_it_once(client, cast):
    from schoolgate.listening.actions.digest import send_digest
    from schoolgate.notifications.models import Notification

    keywords(cast, "Hillside")
    source = watch(cast)
    record_found(source, [Found(remote_id="1", text="Hillside fair", url="https://a.example/1")])
    client.force_login(cast.dsl)
    client.post(url(cast, "digest/"), {"wants": "yes"})

    assert send_digest(cast.school.pk) == 1
    assert send_digest(cast.school.pk) == 0
    notice = Notification.objects.get(user=cast.dsl)
    assert notice.subject == f"1 new post about {cast.school.name}" and "Hillside fair" not in notice.body


def test_it_seeds_each_demo_school_with_keywords_a_paused_source_and_two_mentions(db):
    from schoolgate.listening.models import Keyword, Mention, MentionStatus, Source, SourceStatus
    from schoolgate.schools.demo_data import seed_demo

    schools = seed_demo()
    seed_demo()  # safe to run twice
    for school in schools:
        assert Keyword.objects.filter(school=school).count() == 3
        [source] = Source.objects.filter(school=school)
        assert source.status == SourceStatus.PAUSED and source.last_read_at is None  # the demo reads no network
        statuses = sorted(Mention.objects.filter(school=school).values_list("status", flat=True))
        assert statuses == sorted([MentionStatus.NEW, MentionStatus.WATCHING])
