"""Taking live posts down everywhere by the school's deadline (RS-IMG-5, RS-IMG-4)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection as db_connection
from django.utils import timezone

from conftest import TEST_ENCRYPTION_KEY
from schoolgate.audit.models import AuditEntry
from schoolgate.notifications.models import Notification
from schoolgate.posts.actions import record_manual_removal, request_takedown, send_delivery, take_down
from schoolgate.posts.models import Delivery, DeliveryStatus, Post, Takedown
from schoolgate.posts.tasks import remind_overdue_takedowns
from schoolgate.posts.tests.conftest import make_account
from schoolgate.posts.tests.test_publishing import approved, connect_bluesky, make_due, records_on
from schoolgate.testing import PASSWORD


def published_on_bluesky(cast, bsky_peer, text="Sports day photos"):
    account, remote = connect_bluesky(cast, bsky_peer)
    # Scheduled, then made due: the same whether or not this test's transactions run on-commit jobs.
    post = approved(cast, account, text, scheduled_for=timezone.now() + dt.timedelta(hours=1))
    make_due(post.deliveries.get())
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
    assert left == [
        "Website: Schoolgate cannot delete posts on Website itself: delete it there by hand, then say what you did."
    ]
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


# The crash test: a real process killed while it deletes a post through the Bluesky API, then restarted.
TAKEDOWN_PROCESS = textwrap.dedent(
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
    real_delete = BlueskyConnector.delete_own
    if sys.argv[3] == "die-after-network-call":
        def delete_then_die(self, *args, **kwargs):
            real_delete(self, *args, **kwargs)
            os.kill(os.getpid(), signal.SIGKILL)
        BlueskyConnector.delete_own = delete_then_die
    if sys.argv[3] == "die-before-network-call":
        def die(self, *args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)
        BlueskyConnector.delete_own = die
    if sys.argv[3].startswith("die-"):
        from schoolgate.accounts.models import User
        from schoolgate.posts.actions import take_down
        from schoolgate.posts.models import Post
        take_down(Post.objects.get(pk=int(sys.argv[4])), by=User.objects.get(pk=int(sys.argv[5])))
    else:
        from schoolgate.posts.tasks import resume_interrupted_removals
        print(resume_interrupted_removals.call_local())
    """
)


def run_takedown_process(mode: str, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "schoolgate.settings"}
    return subprocess.run(  # noqa: S603 - our own interpreter running our own script
        [
            sys.executable,
            "-c",
            TAKEDOWN_PROCESS,
            db_connection.settings_dict["NAME"],
            TEST_ENCRYPTION_KEY,
            mode,
            *map(str, args),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.clause("RS-IMG-5")
@pytest.mark.parametrize("moment", ["die-after-network-call", "die-before-network-call"])
def test_it_takes_a_post_down_exactly_once_when_the_process_is_killed_mid_takedown(
    cast, transactional_db, bsky_peer, moment
):
    post, remote = published_on_bluesky(cast, bsky_peer)
    takedown = request_takedown(post, reason="Consent withdrawn for a pupil in the photo.")
    delivery = post.deliveries.get()

    killed = run_takedown_process(moment, post.pk, cast.dsl.pk)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.REMOVING  # claimed before the call: recovery knows to finish it
    assert len(records_on(bsky_peer, remote)) == (0 if moment == "die-after-network-call" else 1)
    takedown.refresh_from_db()
    assert takedown.completed_at is None  # nothing recorded as done that may not be
    assert not Post.objects.public().filter(pk=post.pk).exists()

    assert run_takedown_process("restart").stdout.strip() == "0"  # the lease still holds: nobody else touches it
    Delivery.objects.filter(pk=delivery.pk).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))
    restarted = run_takedown_process("restart")
    assert restarted.returncode == 0, restarted.stderr
    assert restarted.stdout.strip() == "1"
    assert run_takedown_process("restart").stdout.strip() == "0"  # and running the sweep again does nothing

    assert records_on(bsky_peer, remote) == []
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.REMOVED and delivery.removed_by == cast.dsl
    takedown.refresh_from_db()
    assert takedown.completed_at is not None
    entries = AuditEntry.objects.filter(object_id=str(post.pk))
    assert entries.filter(action="posts.delivery.removed").count() == 1
    assert entries.filter(action="posts.takedown.completed").count() == 1
    assert take_down(post, by=cast.dsl) == []  # a person pressing the button again changes nothing
    assert entries.filter(action="posts.delivery.removed").count() == 1


def live_copy_on(cast, network: str):
    """A post live on an account of this network whose connection is gone (the id the API knows is kept)."""
    account = make_account(cast, name=f"{network} news", network=network, staff=[cast.alice, cast.head])
    now = timezone.now()
    post = Post.objects.create(
        school=cast.school, author=cast.alice, text="Sports day", status="published", published_at=now
    )
    post.accounts.set([account])
    Delivery.objects.create(
        post=post,
        account=account,
        status=DeliveryStatus.PUBLISHED,
        created_at=now,
        due_at=now,
        published_at=now,
        text=post.text,
        remote_id="remote-1",
        url="https://example.org/post/1",
    )
    request_takedown(post, reason="Consent withdrawn", by=cast.head)
    return account, post


@pytest.mark.parametrize("network", ["bluesky", "mastodon", "facebook", "instagram", "x"])
def test_it_says_on_the_takedown_card_what_the_connector_says_it_can_do(client, cast, network, monkeypatch):
    from schoolgate.connectors.base import Capability
    from schoolgate.connectors.registry import connector_class

    account, post = live_copy_on(cast, network)
    assert client.login(email=cast.head.email, password=PASSWORD)
    label = account.get_network_display()
    worklist = client.get(f"/s/{cast.school.slug}/posts/takedowns/").content.decode()
    assert f"{label} cannot delete" not in worklist and "does not let Schoolgate delete" not in worklist
    assert f"{account.name} is not connected to Schoolgate: connect it again and take the post down here" in worklist
    account_page = client.get(f"/s/{cast.school.slug}/accounts/{account.pk}/").content.decode()
    assert "✓ Delete our own posts" in account_page

    connector = connector_class(network)
    monkeypatch.setattr(connector, "capabilities", connector.capabilities - {Capability.DELETE_OWN})
    worklist = client.get(f"/s/{cast.school.slug}/posts/takedowns/").content.decode()
    assert f"{label}&#x27;s API does not let Schoolgate delete posts" in worklist
