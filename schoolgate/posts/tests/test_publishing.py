"""Publishing approved posts exactly once, against the local Bluesky network and a Mastodon instance."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from django.core.exceptions import ValidationError
from django.db import connection as db_connection
from django.utils import timezone

from conftest import TEST_ENCRYPTION_KEY
from schoolgate.audit.models import AuditEntry
from schoolgate.connectors.base import AccountIdentity, Credentials
from schoolgate.connectors.bluesky.connector import BlueskyConnector
from schoolgate.connectors.mastodon.connector import MastodonConnector
from schoolgate.notifications.models import Notification
from schoolgate.official_accounts.actions import connect_account
from schoolgate.official_accounts.models import Connection, ConnectionStatus
from schoolgate.posts.actions import (
    create_draft,
    edit_post,
    final_approve_post,
    override_findings,
    record_manual_publication,
    resolve_uncertain_delivery,
    retry_delivery,
    review_post,
    send_delivery,
    submit_for_review,
    withdraw_post,
)
from schoolgate.posts.models import Delivery, DeliveryStatus, Post, PostStatus, ReviewDecision
from schoolgate.posts.tasks import publish_due_deliveries
from schoolgate.posts.tests.conftest import make_account

AGREE = ReviewDecision.APPROVED
POST_COLLECTION = "app.bsky.feed.post"


def connect_bluesky(cast, bsky_peer, *, sign_off=""):
    account = make_account(cast, name="Bluesky news", network="bluesky", staff=[cast.alice, cast.bob, cast.head])
    account.sign_off = sign_off
    account.save(update_fields=["sign_off"])
    remote = bsky_peer.create_account("school")
    credentials = BlueskyConnector.connect_with_password(
        handle=remote.handle, password=remote.app_password, service_url=bsky_peer.pds_url
    )
    identity = AccountIdentity(remote_id=remote.did, handle=remote.handle)  # the AppView may not know it yet
    connect_account(account, by=cast.head, credentials=credentials, identity=identity, service_url=bsky_peer.pds_url)
    return account, remote


def records_on(bsky_peer, remote) -> list:
    client = bsky_peer.client(remote.session)
    return client.com.atproto.repo.list_records({"repo": remote.did, "collection": POST_COLLECTION}).records


def approved(cast, account, text="Year 4 visited the museum today.", *, scheduled_for=None) -> Post:
    post = create_draft(cast.school, by=cast.alice, text=text, accounts=[account], scheduled_for=scheduled_for)
    submit_for_review(post, by=cast.alice)
    review_post(post, by=cast.bob, decision=AGREE)
    post.refresh_from_db()
    if post.status == PostStatus.AWAITING_APPROVAL:
        final_approve_post(post, by=cast.head)
        post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    return post


def make_due(delivery: Delivery) -> None:
    """Stand in for the clock reaching the delivery's time (or the wait before a retry ending)."""
    past = timezone.now() - dt.timedelta(seconds=1)
    Delivery.objects.filter(pk=delivery.pk).update(due_at=past, next_attempt_at=past)


@pytest.fixture
def bluesky(cast, bsky_peer):
    return connect_bluesky(cast, bsky_peer)


@pytest.mark.clause("RS-ROLE-2")
def test_it_publishes_an_approved_post_once_and_stores_the_networks_id_and_url(
    cast, bluesky, bsky_peer, django_capture_on_commit_callbacks
):
    account, remote = bluesky
    account.sign_off = "— Mrs Moore"
    account.save(update_fields=["sign_off"])
    with django_capture_on_commit_callbacks(execute=True):
        post = approved(cast, account)  # due now: the approval enqueues the job, which runs inline in tests
    delivery = post.deliveries.get()
    assert delivery.status == DeliveryStatus.PUBLISHED
    [record] = records_on(bsky_peer, remote)
    assert record.value.text == "Year 4 visited the museum today.\n\n— Mrs Moore"
    assert delivery.remote_id == record.uri
    assert delivery.url.startswith("https://bsky.app/profile/") and delivery.url.endswith(record.uri.split("/")[-1])
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED and post.published_at
    # Running the job again (a duplicate in the queue, the sweep) does nothing.
    assert send_delivery(delivery.pk) == ""
    assert publish_due_deliveries.call_local() == 0
    assert len(records_on(bsky_peer, remote)) == 1


@pytest.mark.clause("RS-ROLE-2")
def test_it_never_publishes_a_post_without_its_approvals(cast, bluesky, bsky_peer):
    account, remote = bluesky
    post = create_draft(cast.school, by=cast.alice, text="Not yet agreed", accounts=[account])
    submit_for_review(post, by=cast.alice)
    assert not post.deliveries.exists()  # nothing to send before final approval
    # Even a delivery that somehow exists for an unapproved post is cancelled at publishing time.
    delivery = Delivery.objects.create(
        post=post, account=account, created_at=timezone.now(), due_at=timezone.now(), text=post.text
    )
    assert send_delivery(delivery.pk) == DeliveryStatus.CANCELLED
    assert records_on(bsky_peer, remote) == []


def test_it_waits_for_the_scheduled_time(cast, bluesky, bsky_peer):
    account, remote = bluesky
    post = approved(cast, account, scheduled_for=timezone.now() + dt.timedelta(hours=2))
    delivery = post.deliveries.get()
    assert delivery.status == DeliveryStatus.SCHEDULED
    assert publish_due_deliveries.call_local() == 0
    assert records_on(bsky_peer, remote) == []
    make_due(delivery)
    assert publish_due_deliveries.call_local() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PUBLISHED
    assert len(records_on(bsky_peer, remote)) == 1


def test_it_never_sends_a_post_withdrawn_or_deleted_before_its_time(cast, bluesky, bsky_peer):
    account, remote = bluesky
    withdrawn = approved(cast, account, "Trip letter", scheduled_for=timezone.now() + dt.timedelta(hours=1))
    deleted = approved(cast, account, "Cake sale", scheduled_for=timezone.now() + dt.timedelta(hours=1))
    withdraw_post(withdrawn, by=cast.alice, reason="Date changed")
    delivery = withdrawn.deliveries.get()
    assert delivery.status == DeliveryStatus.CANCELLED
    deleted.delete()
    make_due(delivery)
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SCHEDULED)  # even if it were still due
    assert publish_due_deliveries.call_local() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.CANCELLED
    assert records_on(bsky_peer, remote) == []


def test_it_shows_notifies_and_retries_a_failed_publish(cast, bluesky, bsky_peer, closed_port_url):
    account, remote = bluesky
    Connection.objects.filter(account=account).update(service_url=closed_port_url)
    post = approved(cast, account)
    delivery = post.deliveries.get()
    assert send_delivery(delivery.pk) == DeliveryStatus.RETRYING
    delivery.refresh_from_db()
    assert delivery.last_error and delivery.next_attempt_at > timezone.now()
    for _ in range(4):
        make_due(delivery)
        send_delivery(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert Notification.objects.filter(user=cast.alice, subject__contains="failed to publish").exists()
    assert Notification.objects.filter(user=cast.head, subject__contains="failed to publish").exists()
    assert records_on(bsky_peer, remote) == []

    Connection.objects.filter(account=account).update(service_url=bsky_peer.pds_url)
    retry_delivery(delivery, by=cast.alice)
    assert send_delivery(delivery.pk) == DeliveryStatus.PUBLISHED
    assert len(records_on(bsky_peer, remote)) == 1
    assert AuditEntry.objects.filter(action="posts.delivery.retry", actor=cast.alice).exists()


def test_it_stops_at_publishing_time_when_the_account_is_disconnected(cast, bluesky, bsky_peer):
    account, remote = bluesky
    post = approved(cast, account, scheduled_for=timezone.now() + dt.timedelta(hours=1))
    Connection.objects.filter(account=account).update(status=ConnectionStatus.BROKEN, broken_reason="token revoked")
    delivery = post.deliveries.get()
    make_due(delivery)
    assert send_delivery(delivery.pk) == DeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert "token revoked" in delivery.last_error
    assert Notification.objects.filter(user=cast.alice, subject__contains="did not go out").exists()
    Connection.objects.filter(account=account).update(status=ConnectionStatus.CONNECTED, broken_reason="")
    retry_delivery(delivery, by=cast.head)
    assert send_delivery(delivery.pk) == DeliveryStatus.PUBLISHED
    assert len(records_on(bsky_peer, remote)) == 1


@pytest.mark.clause("AW-PUB-2")
def test_it_screens_again_at_publishing_time(cast, bluesky, bsky_peer):
    from schoolgate.pupils.models import Pupil

    account, remote = bluesky
    post = approved(cast, account, "Well done Rosie Tate!", scheduled_for=timezone.now() + dt.timedelta(hours=1))
    Pupil.objects.create(school=cast.school, upn="N1", legal_forename="Rosie", legal_surname="Tate")  # joined since
    delivery = post.deliveries.get()
    make_due(delivery)
    assert send_delivery(delivery.pk) == DeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert "Rosie Tate" in delivery.last_error
    assert records_on(bsky_peer, remote) == []


def test_it_lets_an_approved_post_be_edited_only_until_it_goes_out(cast, bluesky, bsky_peer):
    account, remote = bluesky
    post = approved(cast, account, "Sports day Friday", scheduled_for=timezone.now() + dt.timedelta(hours=1))
    edit_post(post, by=cast.alice, text="Sports day Thursday", accounts=[account], scheduled_for=post.scheduled_for)
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW and not post.deliveries.exists()
    post = approved(cast, account, "Library open late", scheduled_for=timezone.now() + dt.timedelta(hours=1))
    delivery = post.deliveries.get()
    make_due(delivery)
    send_delivery(delivery.pk)
    with pytest.raises(ValidationError):
        withdraw_post(post, by=cast.alice)
    with pytest.raises(ValidationError):
        edit_post(post, by=cast.alice, text="Library open later", accounts=[account])


def test_it_records_a_post_made_by_hand_on_a_network_without_a_connector(cast):
    account = make_account(cast, name="Newsletter page", network="other", staff=[cast.alice, cast.head])
    post = approved(cast, account)
    delivery = post.deliveries.get()
    assert delivery.status == DeliveryStatus.MANUAL
    assert publish_due_deliveries.call_local() == 0
    with pytest.raises(ValidationError):
        record_manual_publication(delivery, by=cast.alice, url="not a link")
    record_manual_publication(delivery, by=cast.alice, url="https://example.org/news/1")
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED and post.deliveries.get().url == "https://example.org/news/1"
    assert post.deliveries.get().recorded_by == cast.alice


@pytest.mark.clause("AW-PUB-3")
@pytest.mark.clause("RS-SCOPE-1")
def test_it_archives_the_published_revision_with_its_approvals_and_findings(cast, bluesky):
    account, _ = bluesky
    post = create_draft(cast.school, by=cast.alice, text="Call 01483 555 123 for tickets", accounts=[account])
    submit_for_review(post, by=cast.alice, send_for_decision=True)  # the author sends it on for the head to decide
    override_findings(post, by=cast.head, reason="The school office's public number")
    review_post(post, by=cast.bob, decision=AGREE)
    post.refresh_from_db()
    if post.status == PostStatus.AWAITING_APPROVAL:
        final_approve_post(post, by=cast.head)
    send_delivery(post.deliveries.get().pk)
    post.refresh_from_db()
    entry = AuditEntry.objects.get(action="posts.published", object_id=str(post.pk))
    assert entry.detail == post.archive
    assert post.archive["text"] == "Call 01483 555 123 for tickets"
    assert {r["reviewer"] for r in post.archive["reviews"]} >= {str(cast.bob)}
    assert [f["text"] for f in post.archive["findings"]] == ["01483 555 123"]
    assert post.archive["overrides"][0]["reason"] == "The school office's public number"
    assert AuditEntry.objects.filter(action="posts.delivery.published", object_id=str(post.pk)).count() == 1


@pytest.fixture
def mastodon_account(cast, mastodon_instance):
    account = make_account(cast, name="Mastodon news", network="mastodon", staff=[cast.alice, cast.head])
    credentials = Credentials(data={"access_token": mastodon_instance.token("hillside")})
    identity = AccountIdentity(remote_id="1", handle="@hillside@social.example")
    connect_account(
        account, by=cast.head, credentials=credentials, identity=identity, service_url=mastodon_instance.base_url
    )
    return account


def test_it_asks_a_person_when_a_network_may_have_forgotten_the_key(cast, mastodon_account, mastodon_instance):
    post = approved(cast, mastodon_account, scheduled_for=timezone.now() + dt.timedelta(hours=1))
    delivery = post.deliveries.get()
    # A worker claimed it two hours ago and died: Mastodon kept the key for an hour and cannot be asked.
    two_hours_ago = timezone.now() - dt.timedelta(hours=2)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, sending_started_at=two_hours_ago, lease_expires_at=two_hours_ago
    )
    assert send_delivery(delivery.pk) == DeliveryStatus.UNCERTAIN
    timeline = mastodon_instance.client("hillside")
    me = timeline.account_verify_credentials()
    assert timeline.account_statuses(me["id"]) == []
    assert Notification.objects.filter(user=cast.alice, subject__contains="did the post go out").exists()
    resolve_uncertain_delivery(delivery, by=cast.alice)  # looked: not there
    assert send_delivery(delivery.pk) == DeliveryStatus.PUBLISHED
    assert len(timeline.account_statuses(me["id"])) == 1
    assert MastodonConnector.key_remembered_for == dt.timedelta(hours=1)


def test_it_reuses_the_key_within_the_hour_so_mastodon_posts_once(cast, mastodon_account, mastodon_instance):
    post = approved(cast, mastodon_account, scheduled_for=timezone.now() + dt.timedelta(hours=1))
    delivery = post.deliveries.get()
    connector = mastodon_account.connection.connector()
    connector.publish(delivery.text, key=delivery.key)  # the attempt that reached Mastodon before the crash
    moments_ago = timezone.now() - dt.timedelta(minutes=11)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, sending_started_at=moments_ago, lease_expires_at=moments_ago
    )
    assert send_delivery(delivery.pk) == DeliveryStatus.PUBLISHED
    timeline = mastodon_instance.client("hillside")
    assert len(timeline.account_statuses(timeline.account_verify_credentials()["id"])) == 1


# The crash test: a real worker process killed between the network call and the database write.
WORKER = textwrap.dedent(
    """
    import os, signal, sys
    import django
    from django.conf import settings
    settings.DATABASES["default"]["NAME"] = sys.argv[1]
    settings.ENCRYPTION_KEYS = [sys.argv[2]]
    django.setup()
    from huey.contrib.djhuey import HUEY
    HUEY.immediate = True
    from schoolgate.connectors.bluesky.connector import BlueskyConnector
    if sys.argv[3] == "die-after-network-call":
        real_publish = BlueskyConnector.publish
        def publish_then_die(self, *args, **kwargs):
            real_publish(self, *args, **kwargs)
            os.kill(os.getpid(), signal.SIGKILL)
        BlueskyConnector.publish = publish_then_die
    if sys.argv[3] == "die-before-network-call":
        def die(self, *args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)
        BlueskyConnector.publish = die
    from schoolgate.posts.tasks import publish_due_deliveries
    print(publish_due_deliveries.call_local())
    """
)


def run_worker(mode: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "schoolgate.settings"}
    return subprocess.run(  # noqa: S603 - our own interpreter running our own script
        [sys.executable, "-c", WORKER, db_connection.settings_dict["NAME"], TEST_ENCRYPTION_KEY, mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def expire_lease(delivery: Delivery) -> None:
    """Stand in for the lease running out: the dead worker never finishes."""
    Delivery.objects.filter(pk=delivery.pk).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))


@pytest.mark.parametrize("moment", ["die-after-network-call", "die-before-network-call"])
def test_it_posts_exactly_once_when_the_worker_is_killed_mid_publish(cast, transactional_db, bsky_peer, moment):
    account, remote = connect_bluesky(cast, bsky_peer)
    post = approved(cast, account, scheduled_for=timezone.now() + dt.timedelta(hours=1))
    delivery = post.deliveries.get()
    make_due(delivery)

    killed = run_worker(moment)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENDING and not delivery.remote_id
    assert len(records_on(bsky_peer, remote)) == (1 if moment == "die-after-network-call" else 0)

    assert run_worker("restart").stdout.strip() == "0"  # the lease still holds: no one else touches it
    expire_lease(delivery)
    restarted = run_worker("restart")
    assert restarted.returncode == 0, restarted.stderr
    assert restarted.stdout.strip() == "1"
    delivery.refresh_from_db()
    [record] = records_on(bsky_peer, remote)
    assert delivery.status == DeliveryStatus.PUBLISHED
    assert delivery.remote_id == record.uri
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
