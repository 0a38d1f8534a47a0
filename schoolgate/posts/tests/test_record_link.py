"""Recording the link of a post made by hand: only a post of that account, on that account's network."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from atproto import models
from django.utils import timezone

from schoolgate.connectors.base import Credentials
from schoolgate.connectors.mastodon.connector import MastodonConnector
from schoolgate.official_accounts.actions import connect_account
from schoolgate.posts.models import Delivery, DeliveryStatus, PostStatus
from schoolgate.posts.tests.conftest import make_account
from schoolgate.posts.tests.test_publishing import approved, connect_bluesky

pytestmark = pytest.mark.clause("RS-SCOPE-1")


def waiting_delivery(cast, account):
    """An approved post whose delivery failed, so a person records where it went out."""
    post = approved(cast, account, "Harvest festival thanks", scheduled_for=timezone.now() + dt.timedelta(hours=1))
    delivery = post.deliveries.get()
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED)
    return post, delivery


def record(client, cast, post, delivery, url, *, by=None):
    client.force_login(by or cast.alice)
    response = client.post(
        f"/s/{cast.school.slug}/posts/{post.pk}/deliveries/{delivery.pk}/record/", {"url": url}, follow=True
    )
    assert response.status_code == 200
    delivery.refresh_from_db()
    return html.unescape(response.content.decode())


def assert_not_recorded(delivery):
    assert delivery.status == DeliveryStatus.FAILED and not delivery.url and delivery.recorded_by is None
    assert delivery.post.status != PostStatus.PUBLISHED


def bluesky_account(cast, handle="news.test"):
    account = make_account(cast, name="Bluesky news", network="bluesky", staff=[cast.alice, cast.head])
    account.handle = handle
    account.save(update_fields=["handle"])
    return account


def test_it_refuses_a_link_that_is_not_on_the_accounts_network(client, cast):
    post, delivery = waiting_delivery(cast, bluesky_account(cast))
    page = record(client, cast, post, delivery, "https://example.com/whatever")
    assert "That link is not on Bluesky (bsky.app)" in page
    assert_not_recorded(delivery)


def test_it_refuses_a_bluesky_post_made_by_another_account(client, cast):
    post, delivery = waiting_delivery(cast, bluesky_account(cast))
    page = record(client, cast, post, delivery, "https://bsky.app/profile/someone-else.bsky.social/post/3kabc2def3gh4")
    assert "That post was made by someone-else.bsky.social, not by this account (news.test)" in page
    assert_not_recorded(delivery)


def test_it_refuses_a_bluesky_link_that_is_not_a_post(client, cast):
    post, delivery = waiting_delivery(cast, bluesky_account(cast))
    page = record(client, cast, post, delivery, "https://bsky.app/profile/news.test")
    assert "That link is not a Bluesky post" in page
    assert_not_recorded(delivery)


def test_it_asks_bluesky_whether_the_accounts_post_exists(client, cast, bsky_peer):
    account, remote = connect_bluesky(cast, bsky_peer)
    post, delivery = waiting_delivery(cast, account)
    page = record(client, cast, post, delivery, f"https://bsky.app/profile/{remote.handle}/post/3kzzzzzzzzzz2")
    assert "Bluesky has no such post on this account" in page
    assert_not_recorded(delivery)

    by_hand = bsky_peer.client(remote.session)
    made_by_hand = by_hand.com.atproto.repo.create_record(
        models.ComAtprotoRepoCreateRecord.Data(
            repo=remote.did,
            collection="app.bsky.feed.post",
            record=models.AppBskyFeedPost.Record(
                text="Harvest festival thanks", created_at=by_hand.get_current_time_iso()
            ),
        )
    )
    rkey = made_by_hand.uri.rsplit("/", 1)[1]
    link = f"https://bsky.app/profile/{remote.did}/post/{rkey}"
    page = record(client, cast, post, delivery, link)
    assert "Recorded as published." in page
    assert delivery.status == DeliveryStatus.PUBLISHED and delivery.url == link and delivery.recorded_by == cast.alice


@pytest.fixture
def mastodon_account(cast, mastodon_instance):
    account = make_account(cast, name="Mastodon news", network="mastodon", staff=[cast.alice, cast.head])
    account.instance_url = mastodon_instance.base_url
    account.save(update_fields=["instance_url"])
    credentials = Credentials(data={"access_token": "hillside_token", "instance": mastodon_instance.base_url})
    identity = MastodonConnector(credentials).identity()
    connect_account(
        account, by=cast.head, credentials=credentials, identity=identity, service_url=mastodon_instance.base_url
    )
    return account


def test_it_records_only_the_accounts_own_mastodon_post(client, cast, mastodon_instance, mastodon_account):
    post, delivery = waiting_delivery(cast, mastodon_account)
    theirs = mastodon_instance.client("parent").status_post("Lovely harvest festival")
    page = record(client, cast, post, delivery, theirs["url"])
    assert "That post was made by @parent, not by this account" in page
    assert_not_recorded(delivery)

    # The account's own name in the link, but another person's post number: the server says whose it is.
    forged = theirs["url"].replace("/@parent/", "/@hillside/")
    page = record(client, cast, post, delivery, forged)
    assert "That post is not one of this account's posts" in page
    assert_not_recorded(delivery)

    page = record(client, cast, post, delivery, "https://mastodon.example/@hillside/1234")
    assert "That link is not on the account's Mastodon server" in page
    assert_not_recorded(delivery)

    ours = mastodon_instance.client("hillside").status_post("Harvest festival thanks")
    page = record(client, cast, post, delivery, ours["url"])
    assert "Recorded as published." in page
    assert delivery.status == DeliveryStatus.PUBLISHED and delivery.url == ours["url"]


@pytest.mark.parametrize(
    "network, handle, refused, accepted",
    [
        ("linkedin", "", "https://example.com/whatever", "https://www.linkedin.com/posts/test-school_harvest-123"),
        ("youtube", "", "https://vimeo.com/123", "https://youtu.be/dQw4w9WgXcQ"),
        (
            "x",
            "@testschool",
            "https://x.com/someoneelse/status/1790000000000000001",
            "https://x.com/TestSchool/status/1",
        ),
        ("facebook", "", "https://facebook.example/posts/1", "https://www.facebook.com/testschool/posts/pfbid02abc"),
        ("other", "", "not a link", "https://www.testschool.sch.uk/news/harvest"),
    ],
)
def test_it_checks_links_on_networks_it_does_not_post_to(client, cast, network, handle, refused, accepted):
    account = make_account(cast, name="By hand", network=network, staff=[cast.alice, cast.head])
    account.handle = handle
    account.save(update_fields=["handle"])
    post, delivery = waiting_delivery(cast, account)
    page = record(client, cast, post, delivery, refused)
    assert "Recorded as published." not in page
    assert_not_recorded(delivery)
    page = record(client, cast, post, delivery, accepted)
    assert "Recorded as published." in page
    assert delivery.url == accepted


@pytest.mark.parametrize(
    "url, problem",
    [
        ("https://example.com/p/abc/", "That link is not on Instagram"),
        ("https://www.instagram.com/someoneelse/p/C0ab12XYZ/", "That post was made by @someoneelse"),
        ("https://www.instagram.com/testschool/", "That link is not an Instagram post"),
        ("https://www.instagram.com/p/C0ab12XYZ/", ""),
        ("https://www.instagram.com/TestSchool/reel/C0ab12XYZ/", ""),
    ],
)
def test_it_checks_instagram_links_by_address_and_name(cast, url, problem):
    # Instagram posts need an image, so this one is checked without the review chain.
    from schoolgate.connectors.registry import post_link_problem

    account = make_account(cast, name="Instagram", network="instagram")
    account.handle = "@testschool"
    assert post_link_problem(account, url).startswith(problem) and bool(problem) == bool(
        post_link_problem(account, url)
    )


def test_it_checks_who_may_record_before_looking_at_the_link(client, cast):
    post, delivery = waiting_delivery(cast, bluesky_account(cast))
    page = record(client, cast, post, delivery, "https://example.com/whatever", by=cast.bob)
    assert "Only the account's authorised staff or the school's leaders can do this." in page
    assert_not_recorded(delivery)
