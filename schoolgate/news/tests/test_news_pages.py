"""The public news page and item pages: every public post, nothing else, no login (AW-PUB-4)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from schoolgate.news.tests.conftest import HIDDEN, publish
from schoolgate.testing import make_school


@pytest.mark.clause("AW-PUB-4")
def test_it_lists_every_public_post_and_nothing_else_without_a_login(client, cast, posts):
    response = client.get(f"/p/{cast.school.slug}/news/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Sports day is on Friday." in html
    for text in HIDDEN:
        assert text not in html
    # The text is escaped (never markup), line breaks kept, and the post links to where it lives.
    assert "&lt;b&gt;please&lt;/b&gt;" in html and "<b>please</b>" not in html
    assert "Friday.<br>" in html
    assert 'href="https://social.example/@school/111"' in html and "View on Mastodon" in html
    assert f'href="/p/{cast.school.slug}/news/{posts["public"].pk}/"' in html


def test_it_signs_items_with_the_school_and_never_shows_staff(client, cast, posts):
    html = client.get(f"/p/{cast.school.slug}/news/").content.decode()

    assert cast.school.name in html
    assert cast.alice.email not in html and cast.alice.full_name not in html


def test_it_advertises_the_feeds_in_the_page_head(client, cast, posts):
    html = client.get(f"/p/{cast.school.slug}/news/").content.decode()
    head = html.split("</head>")[0]

    rss = f'type="application/rss+xml" title="Test School news (RSS)" href="/p/{cast.school.slug}/news/rss/"'
    assert f'rel="alternate" {rss}' in head
    assert (
        f'type="application/atom+xml" title="Test School news (Atom)" href="/p/{cast.school.slug}/news/atom/"' in head
    )
    body = html.split("</head>")[1]
    assert f'action="/p/{cast.school.slug}/news/digest/"' in body  # the digest sign-up form


def test_it_lists_newest_first_twenty_to_a_page(client, cast):
    start = timezone.now() - dt.timedelta(days=30)
    for n in range(25):
        publish(cast, f"News number {n:02d}", at=start + dt.timedelta(hours=n))

    first = client.get(f"/p/{cast.school.slug}/news/").content.decode()
    second = client.get(f"/p/{cast.school.slug}/news/?page=2").content.decode()

    assert first.index("News number 24") < first.index("News number 05")
    assert first.count("News number") == 20 and "News number 04" not in first
    assert second.count("News number") == 5 and "News number 00" in second
    assert "Older news" in first and "Newer news" in second


def test_it_skips_network_links_that_are_not_web_addresses(client, cast, account):
    publish(cast, "Harvest festival", account=account, url="javascript:alert(1)")

    html = client.get(f"/p/{cast.school.slug}/news/").content.decode()

    assert "Harvest festival" in html and "javascript:" not in html


@pytest.mark.clause("AW-PUB-4")
def test_it_shows_one_public_item_and_404s_for_every_other_post(client, cast, posts):
    public = client.get(f"/p/{cast.school.slug}/news/{posts['public'].pk}/")
    assert public.status_code == 200
    assert "Sports day is on Friday." in public.content.decode()

    for kind in ["draft", "approved", "withdrawn", "removed"]:
        assert client.get(f"/p/{cast.school.slug}/news/{posts[kind].pk}/").status_code == 404, kind


def test_it_does_not_show_one_schools_post_under_another_schools_address(client, cast, posts):
    other = make_school("Other School")

    assert client.get(f"/p/{other.school.slug}/news/{posts['public'].pk}/").status_code == 404
    assert "Sports day" not in client.get(f"/p/{other.school.slug}/news/").content.decode()
    assert client.get("/p/no-such-school/news/").status_code == 404
