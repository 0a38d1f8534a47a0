"""RSS/Atom feeds and page watch: new entries become mentions once, conditional requests, and bad answers stay on
the source that gave them."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from django.utils import timezone

from schoolgate.listening.actions import polling
from schoolgate.listening.models import Mention, Source, SourceStatus
from schoolgate.listening.tests.helpers import Recorded, keywords, page, read, rss, timeout, watch, xml

pytestmark = pytest.mark.clause("RS-WATCH-1")

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Parents' blog</title><id>urn:blog</id>
<updated>2026-12-01T10:00:00Z</updated>
<entry><title>Hillside nativity</title><id>urn:post:1</id><link href="https://blog.example/nativity"/>
<updated>2026-12-01T10:00:00Z</updated>
<summary type="html">&lt;p&gt;The &lt;b&gt;Hillside&lt;/b&gt; nativity was lovely&lt;/p&gt;</summary></entry>
</feed>"""


def test_it_stores_the_feed_entries_that_mention_the_school(cast):
    keywords(cast, "Hillside")
    source = watch(cast)
    feed = rss(
        ("Road works on Elm Street", "https://gazette.example/roads", "Traffic all week."),
        ("Hillside pupils raise £500", "https://gazette.example/hillside-500?utm_source=rss", "A bake sale."),
    )

    assert read(source, Recorded(xml(feed, etag='"v1"'))) == 1

    mention = Mention.objects.get()
    assert mention.title == "Hillside pupils raise £500"
    assert mention.url == "https://gazette.example/hillside-500?utm_source=rss"
    assert mention.dedupe_key == "https://gazette.example/hillside-500"
    assert mention.matched == ["Hillside"]
    source.refresh_from_db()
    assert source.last_read_at is not None and source.last_error == ""
    assert source.next_poll_at > timezone.now() + dt.timedelta(minutes=14)


def test_it_reads_atom_and_turns_html_summaries_into_text(cast):
    keywords(cast, "Hillside")
    source = watch(cast, url="https://blog.example/atom")

    read(source, Recorded(xml(ATOM)))

    assert Mention.objects.get().text == "Hillside nativity The Hillside nativity was lovely"


def test_it_asks_again_with_the_etag_and_stores_nothing_twice(cast):
    keywords(cast, "Hillside")
    source = watch(cast)
    feed = rss(("Hillside wins", "https://gazette.example/win", "Well done."))
    recorded = Recorded(
        xml(feed, etag='"v1"', **{"last-modified": "Tue, 01 Dec 2026 09:00:00 GMT"}),
        httpx.Response(304),
        xml(feed, etag='"v2"'),  # the same entry again, as a feed served without caching would send it
    )

    assert [read(source, recorded) for _ in range(3)] == [1, 0, 0]

    assert recorded.requests[1].headers["if-none-match"] == '"v1"'
    assert recorded.requests[1].headers["if-modified-since"] == "Tue, 01 Dec 2026 09:00:00 GMT"
    assert Mention.objects.count() == 1


def test_it_says_plainly_when_a_feed_address_is_a_web_page(cast):
    source = watch(cast)

    read(source, Recorded(page("<!doctype html><html><body><h1>Welcome</h1></body></html>")))

    source.refresh_from_db()
    assert source.status == SourceStatus.BROKEN
    assert "is a web page, not a news feed" in source.last_error
    assert source.next_poll_at is None


def test_it_keeps_the_place_when_a_feed_is_not_xml_and_tries_again_later(cast):
    keywords(cast, "Hillside")
    source = watch(cast)
    read(source, Recorded(xml(rss(("Hillside one", "https://gazette.example/1", "")), etag='"v1"')))
    cursor = Source.objects.get(pk=source.pk).cursor

    read(source, Recorded(httpx.Response(200, text="}{ not a feed", headers={"content-type": "text/plain"})))

    source.refresh_from_db()
    assert source.status == SourceStatus.ACTIVE
    assert "not valid XML" in source.last_error
    assert source.cursor == cursor  # nothing lost: the next read starts where the last good one ended
    assert source.failures == 1 and source.next_poll_at > timezone.now()


def test_it_records_a_timeout_on_that_source_only(cast):
    keywords(cast, "Hillside")
    slow, fine = watch(cast, name="Slow"), watch(cast, name="Fine", url="https://other.example/feed")

    read(slow, Recorded(timeout))
    read(fine, Recorded(xml(rss(("Hillside news", "https://other.example/n", "")))))

    slow.refresh_from_db()
    fine.refresh_from_db()
    assert "did not answer in time" in slow.last_error and slow.status == SourceStatus.ACTIVE
    assert fine.last_error == "" and Mention.objects.get().source == fine


def test_it_backs_off_after_a_rate_limit_as_long_as_told(cast):
    source = watch(cast)

    read(source, Recorded(httpx.Response(429, headers={"retry-after": "7200"})))

    source.refresh_from_db()
    assert source.is_rate_limited
    assert source.next_poll_at >= timezone.now() + dt.timedelta(minutes=119)


def test_it_reads_a_down_server_as_a_clear_transient_error(cast, closed_port_url):
    source = watch(cast, url=f"{closed_port_url}/feed.xml")
    Source.objects.filter(pk=source.pk).update(next_poll_at=None)

    polling.poll_source(source.pk)  # the real HTTP stack, to a port where nothing listens

    source.refresh_from_db()
    assert source.status == SourceStatus.ACTIVE and source.last_error.startswith("Could not reach")


def test_it_reports_only_new_passages_of_a_watched_page_that_match(cast):
    keywords(cast, "Hillside")
    source = watch(cast, kind="page", url="https://forum.example/thread/12")
    first = (
        "<html><head><script>var hillside=1</script></head>"
        "<body><p>Anyone know Hillside term dates?</p><p>Weather.</p></body></html>"
    )
    second = first.replace("<p>Weather.</p>", "<p>Weather.</p><p>Hillside parking is awful</p>")
    recorded = Recorded(page(first, etag='"a"'), page(first, etag='"b"'), page(second, etag='"c"'))

    assert [read(source, recorded) for _ in range(3)] == [1, 0, 1]

    assert [m.text for m in Mention.objects.order_by("pk")] == [
        "Anyone know Hillside term dates?",
        "Hillside parking is awful",
    ]
    assert recorded.requests[1].headers["if-none-match"] == '"a"'


def test_it_reads_only_active_sources_whose_time_has_come_and_one_worker_at_a_time(cast):
    due, later, paused = watch(cast, name="Due"), watch(cast, name="Later"), watch(cast, name="Paused")
    now = timezone.now()
    Source.objects.filter(pk=due.pk).update(next_poll_at=now - dt.timedelta(minutes=1))
    Source.objects.filter(pk=later.pk).update(next_poll_at=now + dt.timedelta(minutes=10))
    Source.objects.filter(pk=paused.pk).update(status=SourceStatus.PAUSED, next_poll_at=None)

    assert polling.sources_due(now) == [due.pk]
    assert polling.claim_source(due.pk, now=now) is not None
    assert polling.claim_source(due.pk, now=now) is None  # a second worker leaves it alone
    assert polling.claim_source(paused.pk, now=now) is None
