"""Taking live posts down everywhere by the school's deadline (RS-IMG-5, RS-IMG-4)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from schoolgate.notifications.models import Notification
from schoolgate.posts.actions import record_manual_removal, request_takedown, send_delivery, take_down
from schoolgate.posts.models import DeliveryStatus, Post, Takedown
from schoolgate.posts.tasks import remind_overdue_takedowns
from schoolgate.posts.tests.conftest import make_account
from schoolgate.posts.tests.test_publishing import approved, connect_bluesky, records_on
from schoolgate.testing import PASSWORD


def published_on_bluesky(cast, bsky_peer, text="Sports day photos"):
    account, remote = connect_bluesky(cast, bsky_peer)
    post = approved(cast, account, text)
    send_delivery(post.deliveries.get().pk)
    post.refresh_from_db()
    assert post.published_at and len(records_on(bsky_peer, remote)) == 1
    return post, remote


@pytest.mark.clause("RS-IMG-5")
def test_it_takes_a_post_off_the_news_page_at_once_and_off_bluesky_through_its_api(cast, bsky_peer):
    post, remote = published_on_bluesky(cast, bsky_peer)
    cast.policy.settings.takedown_deadline_hours = 6
    cast.policy.settings.save()
    takedown = request_takedown(post, reason="Consent withdrawn for a pupil in the photo.")
    assert takedown.due_at - takedown.requested_at == dt.timedelta(hours=6)
    assert not Post.objects.public().filter(pk=post.pk).exists()
    assert Notification.objects.filter(user=cast.dsl, subject__contains="taken down within 6 hours").exists()
    assert request_takedown(post, reason="Again") == takedown  # one open take-down per post and cause

    assert take_down(post, by=cast.dsl) == []
    assert records_on(bsky_peer, remote) == []
    delivery = post.deliveries.get()
    assert delivery.status == DeliveryStatus.REMOVED and "API" in delivery.removal_note
    takedown.refresh_from_db()
    assert takedown.completed_at


@pytest.mark.clause("RS-IMG-5")
def test_it_leaves_what_the_api_cannot_delete_on_the_worklist_until_a_person_records_it(client, cast):
    account = make_account(cast, name="Website", network="other", staff=[cast.alice, cast.head])
    post = approved(cast, account)
    from schoolgate.posts.actions import record_manual_publication

    record_manual_publication(post.deliveries.get(), by=cast.alice, url="https://school.example/news/1")
    takedown = request_takedown(post, reason="Compromising image", by=cast.head)
    left = take_down(post, by=cast.head)
    assert left == ["Website: delete it on the network by hand, then record what you did."]
    assert client.login(email=cast.head.email, password=PASSWORD)
    worklist = client.get(f"/s/{cast.school.slug}/posts/takedowns/").content.decode()
    assert "Still live" in worklist and "Compromising image" in worklist
    with pytest.raises(ValidationError):
        record_manual_removal(post.deliveries.get(), by=cast.head, note="")
    record_manual_removal(post.deliveries.get(), by=cast.head, note="Deleted from the website CMS")
    takedown.refresh_from_db()
    assert takedown.completed_at
    assert "Nothing waits to be taken down" in client.get(f"/s/{cast.school.slug}/posts/takedowns/").content.decode()


def test_it_lets_only_leaders_and_safeguarding_leads_take_posts_down(cast):
    account = make_account(cast, name="Website", network="other", staff=[cast.alice, cast.head])
    post = approved(cast, account)
    with pytest.raises(PermissionDenied):
        request_takedown(post, reason="I don't like it", by=cast.alice)
    with pytest.raises(PermissionDenied):
        take_down(post, by=cast.alice)


@pytest.mark.clause("RS-IMG-5")
def test_it_reminds_once_when_a_takedown_is_overdue(cast):
    account = make_account(cast, name="Website", network="other", staff=[cast.alice, cast.head])
    post = approved(cast, account)
    from schoolgate.posts.actions import record_manual_publication

    record_manual_publication(post.deliveries.get(), by=cast.alice, url="https://school.example/news/1")
    takedown = request_takedown(post, reason="Consent withdrawn")
    assert remind_overdue_takedowns.call_local() == 0
    Takedown.objects.filter(pk=takedown.pk).update(due_at=timezone.now() - dt.timedelta(minutes=1))
    assert remind_overdue_takedowns.call_local() == 1
    assert remind_overdue_takedowns.call_local() == 0
    assert Notification.objects.filter(user=cast.head, subject="A take-down is overdue").count() == 1


def test_it_lists_open_takedowns_on_the_dashboard_of_those_who_take_posts_down(client, cast):
    account = make_account(cast, name="Website", network="other", staff=[cast.alice, cast.head])
    post = approved(cast, account, "Choir photo")
    from schoolgate.posts.actions import record_manual_publication

    record_manual_publication(post.deliveries.get(), by=cast.alice, url="https://school.example/news/1")
    request_takedown(post, reason="Consent withdrawn")
    assert client.login(email=cast.dsl.email, password=PASSWORD)
    assert "Posts to take down" in client.get(f"/s/{cast.school.slug}/").content.decode()
    assert client.login(email=cast.alice.email, password=PASSWORD)
    assert "Posts to take down" not in client.get(f"/s/{cast.school.slug}/").content.decode()
