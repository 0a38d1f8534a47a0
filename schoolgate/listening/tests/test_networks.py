"""Open networks' search: Bluesky searchPosts, Mastodon hashtag timelines (a real mastodon-mock server), Reddit and
YouTube search, from recorded exchanges shaped as each network documents them; limits and bad answers.

Bluesky is also read from the suite's real local network (test_bluesky_peer.py); here its answers are shaped as the
lexicon app.bsky.feed.searchPosts documents them, to pin the query (sort, since) and the paging down.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from schoolgate.listening.models import Mention, Source, SourceStatus
from schoolgate.listening.tests.helpers import Recorded, jsonr, keywords, page, read, watch

pytestmark = pytest.mark.clause("RS-WATCH-1")


def bsky_post(rkey: str, text: str, *, at: str, handle: str = "parent.bsky.social", reply_root: str = "") -> dict:
    record = {"$type": "app.bsky.feed.post", "text": text, "createdAt": at, "langs": ["en"]}
    if reply_root:
        record["reply"] = {
            "root": {"uri": reply_root, "cid": "bafyroot"},
            "parent": {"uri": reply_root, "cid": "bafyroot"},
        }
    return {
        "uri": f"at://did:plc:parent/app.bsky.feed.post/{rkey}",
        "cid": f"bafy{rkey}",
        "author": {"did": "did:plc:parent", "handle": handle, "displayName": "A Parent", "labels": []},
        "record": record,
        "replyCount": 0,
        "repostCount": 0,
        "likeCount": 1,
        "quoteCount": 0,
        "indexedAt": at,
        "labels": [],
    }


def test_it_searches_bluesky_and_reads_on_from_the_newest_post(cast):
    source = watch(cast, kind="bluesky", url="", query="Hillside Primary")
    first = jsonr(
        {
            "hitsTotal": 2,
            "posts": [
                bsky_post("3lb2", "Hillside Primary choir tonight", at="2026-12-01T18:00:00.000Z"),
                bsky_post("3lb1", "Off to Hillside Primary", at="2026-12-01T08:00:00.000Z"),
            ],
        }
    )
    second = jsonr({"posts": [bsky_post("3lb2", "Hillside Primary choir tonight", at="2026-12-01T18:00:00.000Z")]})
    recorded = Recorded(first, second)

    assert [read(source, recorded) for _ in range(2)] == [2, 0]

    first_query, second_query = (dict(r.url.params) for r in recorded.requests)
    assert recorded.requests[0].url.path == "/xrpc/app.bsky.feed.searchPosts"
    assert first_query == {"q": "Hillside Primary", "sort": "latest", "limit": "100"}
    assert second_query["since"] == "2026-12-01T17:30:00Z"  # back over the indexing delay; dupes dropped
    assert sorted(Mention.objects.values_list("url", flat=True)) == [
        "https://bsky.app/profile/parent.bsky.social/post/3lb1",
        "https://bsky.app/profile/parent.bsky.social/post/3lb2",
    ]


def test_it_says_so_when_bluesky_answers_with_a_web_page(cast, html_server):
    source = watch(cast, kind="bluesky", url=html_server, query="Hillside")
    Source.objects.filter(pk=source.pk).update(next_poll_at=None)
    from schoolgate.listening.actions.polling import poll_source

    poll_source(source.pk)  # the real HTTP stack against a server that sends a login page

    source.refresh_from_db()
    assert "answered with a web page instead of the data" in source.last_error
    assert source.status == SourceStatus.ACTIVE  # it may be maintenance: tried again later


def test_it_reads_a_mastodon_hashtag_timeline_from_the_server_the_school_chose(cast, mastodon_instance):
    parent = mastodon_instance.client("parent")
    parent.status_post("Lovely carols at #HillsidePrimary today")
    parent.status_post("Nothing to see here #elsewhere")
    source = watch(cast, kind="mastodon", url=mastodon_instance.base_url, query="#HillsidePrimary")
    Source.objects.filter(pk=source.pk).update(next_poll_at=None)
    from schoolgate.listening.actions.polling import poll_source

    assert poll_source(source.pk) == 1
    parent.status_post("Second #HillsidePrimary post")
    Source.objects.filter(pk=source.pk).update(next_poll_at=None)
    assert poll_source(source.pk) == 1
    Source.objects.filter(pk=source.pk).update(next_poll_at=None)
    assert poll_source(source.pk) == 0

    assert sorted(Mention.objects.values_list("text", flat=True)) == [
        "Lovely carols at #HillsidePrimary today",
        "Second #HillsidePrimary post",
    ]
    assert set(Mention.objects.values_list("author", flat=True)) == {"@parent"}


def test_it_refuses_a_mastodon_server_on_a_private_network(cast, settings):
    from django.core.exceptions import ValidationError

    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = []
    with pytest.raises(ValidationError) as refused:
        watch(cast, kind="mastodon", url="http://127.0.0.1:8080", query="#Hillside")
    assert "url" in refused.value.message_dict
    with pytest.raises(ValidationError):
        watch(cast, kind="page", url="https://10.0.0.5/admin")


def reddit_listing(*posts: dict) -> dict:
    return {
        "kind": "Listing",
        "data": {
            "after": None,
            "dist": len(posts),
            "modhash": "",
            "before": None,
            "children": [{"kind": "t3", "data": post} for post in posts],
        },
    }


def reddit_post(post_id: str, title: str, created: float, selftext: str = "") -> dict:
    return {
        "id": post_id,
        "name": f"t3_{post_id}",
        "title": title,
        "selftext": selftext,
        "author": "localdad",
        "subreddit": "Valleytown",
        "permalink": f"/r/Valleytown/comments/{post_id}/slug/",
        "url": f"https://www.reddit.com/r/Valleytown/comments/{post_id}/slug/",
        "created_utc": created,
        "over_18": False,
    }


def test_it_searches_reddit_and_backs_off_when_rate_limited(cast):
    keywords(cast, "Hillside")
    source = watch(cast, kind="reddit", url="", query="Hillside school")
    now = timezone.now().timestamp()
    recorded = Recorded(
        jsonr(reddit_listing(reddit_post("abc1", "Hillside school admissions?", now - 60))),
        jsonr({"message": "Too Many Requests", "error": 429}, status=429, **{"retry-after": "600"}),
    )

    assert read(source, recorded) == 1
    assert read(source, recorded) == 0

    assert dict(recorded.requests[0].url.params) == {
        "q": "Hillside school",
        "sort": "new",
        "limit": "100",
        "type": "link",
        "raw_json": "1",
    }
    assert Mention.objects.get().url == "https://www.reddit.com/r/Valleytown/comments/abc1/slug/"
    source.refresh_from_db()
    assert source.is_rate_limited and "rate limit" in source.last_error
    assert source.next_poll_at >= timezone.now() + dt.timedelta(minutes=9)


def youtube_answer(*items: tuple[str, str, str]) -> dict:
    return {
        "kind": "youtube#searchListResponse",
        "etag": "etag1",
        "regionCode": "GB",
        "pageInfo": {"totalResults": len(items), "resultsPerPage": 50},
        "items": [
            {
                "kind": "youtube#searchResult",
                "etag": f"e{video}",
                "id": {"kind": "youtube#video", "videoId": video},
                "snippet": {
                    "publishedAt": at,
                    "channelId": "UC123",
                    "title": title,
                    "description": "Filmed at the school gates.",
                    "thumbnails": {},
                    "channelTitle": "Valley Vlogs",
                    "liveBroadcastContent": "none",
                    "publishTime": at,
                },
            }
            for video, title, at in items
        ],
    }


QUOTA = {
    "error": {
        "code": 403,
        "message": "The request cannot be completed because you have exceeded your quota.",
        "errors": [{"message": "...", "domain": "youtube.quota", "reason": "quotaExceeded"}],
    }
}


def test_it_searches_youtube_and_waits_for_the_quota_when_it_is_used_up(cast, settings):
    settings.YOUTUBE_API_KEY = "test-key"
    source = watch(cast, kind="youtube", url="", query="Hillside Primary")
    recorded = Recorded(
        jsonr(youtube_answer(("vid1", "Hillside Primary nativity 2026", "2026-12-01T10:00:00Z"))),
        jsonr(QUOTA, status=403),
    )

    assert read(source, recorded) == 1
    assert read(source, recorded) == 0

    assert dict(recorded.requests[1].url.params)["publishedAfter"] == "2026-12-01T10:00:00Z"
    assert Mention.objects.get().url == "https://www.youtube.com/watch?v=vid1"
    source.refresh_from_db()
    assert source.status == SourceStatus.ACTIVE and source.is_rate_limited
    assert "quota is used up" in source.last_error


def test_it_marks_youtube_as_needing_a_key_when_none_is_set(cast, settings, monkeypatch):
    settings.YOUTUBE_API_KEY = ""
    monkeypatch.delenv("SCHOOLGATE_YOUTUBE_API_KEY", raising=False)
    source = watch(cast, kind="youtube", url="", query="Hillside")

    read(source, Recorded())

    source.refresh_from_db()
    assert source.status == SourceStatus.BROKEN and "API key" in source.last_error


def test_it_keeps_reading_other_sources_when_one_network_sends_a_web_page(cast):
    keywords(cast, "Hillside")
    reddit, bluesky = (
        watch(cast, kind="reddit", url="", query="Hillside"),
        watch(cast, kind="bluesky", url="", query="Hillside"),
    )

    read(reddit, Recorded(page("<html><body>Blocked</body></html>")))
    read(bluesky, Recorded(jsonr({"posts": [bsky_post("3x", "Hillside", at="2026-12-01T10:00:00Z")]})))

    reddit.refresh_from_db()
    assert "a web page instead of the data" in reddit.last_error
    assert Mention.objects.get().source_id == bluesky.pk


def test_it_pages_through_a_busy_bluesky_window_so_nothing_is_skipped(cast):
    source = watch(cast, kind="bluesky", url="", query="Hillside")
    recorded = Recorded(
        jsonr({"posts": [bsky_post("a0", "Hillside first", at="2026-12-01T08:00:00Z")]}),
        jsonr({"cursor": "page2", "posts": [bsky_post("a2", "Hillside later", at="2026-12-01T12:00:00Z")]}),
        jsonr({"posts": [bsky_post("a1", "Hillside between", at="2026-12-01T10:00:00Z")]}),
    )

    assert read(source, recorded) == 1
    assert read(source, recorded) == 2

    assert dict(recorded.requests[2].url.params)["cursor"] == "page2"


def test_it_reads_a_mastodon_backlog_longer_than_one_page(cast, mastodon_instance):
    from schoolgate.listening.actions.polling import poll_source

    parent = mastodon_instance.client("parent")
    parent.status_post("Start #HillsideFete")
    source = watch(cast, kind="mastodon", url=mastodon_instance.base_url, query="HillsideFete")
    Source.objects.filter(pk=source.pk).update(next_poll_at=None)
    poll_source(source.pk)
    for number in range(45):
        parent.status_post(f"Cake stall {number} #HillsideFete")
    Source.objects.filter(pk=source.pk).update(next_poll_at=None)

    assert poll_source(source.pk) == 45
    assert Mention.objects.count() == 46
