"""The public news page and feeds are kept briefly in the cache, and refreshed at once when what families see
changes: a take-down, a new publication, a renamed school. A cache that is down never stops a take-down."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.cache.backends.base import BaseCache
from django.test import override_settings

from schoolgate.news.tests.conftest import publish
from schoolgate.posts.actions.takedown import request_takedown
from schoolgate.publiccache import cached_public, public_pages_changed
from schoolgate.schools.actions import update_school_details


def pages(client, cast) -> list[str]:
    slug = cast.school.slug
    return [client.get(f"/p/{slug}/news/{feed}").content.decode() for feed in ("", "rss/", "atom/")]


def test_it_serves_the_news_and_feeds_from_the_cache_until_something_changes(client, cast, account):
    publish(cast, "Harvest festival on Monday.", account=account)
    assert all("Harvest festival" in page for page in pages(client, cast))

    # Written straight to the database, past every action: not announced, so the cached pages stand.
    publish(cast, "Unannounced change.", account=account)
    assert all("Unannounced change" not in page for page in pages(client, cast))

    public_pages_changed(cast.school.pk)  # what every action that changes public content calls
    assert all("Unannounced change" not in page for page in pages(client, cast)), "only once it commits"


@pytest.mark.clause("AW-PUB-4")
def test_it_drops_a_taken_down_post_from_the_news_and_feeds_at_once(
    client, cast, account, django_capture_on_commit_callbacks
):
    post = publish(cast, "Class photo from the trip.", account=account)
    assert all("Class photo from the trip" in page for page in pages(client, cast))

    with django_capture_on_commit_callbacks(execute=True):
        request_takedown(post, reason="Consent withdrawn")

    assert all("Class photo from the trip" not in page for page in pages(client, cast))


def test_it_shows_a_new_school_name_on_the_public_pages_at_once(
    client, cast, account, django_capture_on_commit_callbacks
):
    publish(cast, "Open evening.", account=account)
    pages(client, cast)

    with django_capture_on_commit_callbacks(execute=True):
        update_school_details(cast.school, by=cast.head, name="Renamed Academy", website="", email_domains="")

    assert all("Renamed Academy" in page for page in pages(client, cast))


def test_it_keeps_one_schools_pages_apart_from_anothers(cast):
    assert cached_public(1, "news-page:1", lambda: "first school") == "first school"
    assert cached_public(2, "news-page:1", lambda: "second school") == "second school"
    assert cached_public(1, "news-page:1", lambda: "not used") == "first school"
    cache.clear()
    assert cached_public(1, "news-page:1", lambda: "rendered again") == "rendered again"


class UnreachableCache(BaseCache):
    """A cache server that is down (Redis stopped): every call fails."""

    def __init__(self, location, params):
        super().__init__(params)

    def _down(self, *args, **kwargs):
        raise ConnectionError("Connection refused")

    add = get = set = incr = delete = clear = _down


@override_settings(CACHES={"default": {"BACKEND": f"{__name__}.UnreachableCache"}})
def test_it_renders_the_pages_and_takes_posts_down_while_the_cache_is_unreachable(
    client, cast, account, django_capture_on_commit_callbacks
):
    post = publish(cast, "Science week.", account=account)
    assert all("Science week" in page for page in pages(client, cast))

    with django_capture_on_commit_callbacks(execute=True):
        request_takedown(post, reason="Consent withdrawn")

    post.refresh_from_db()
    assert post.removed_at is not None
    assert all("Science week" not in page for page in pages(client, cast))
