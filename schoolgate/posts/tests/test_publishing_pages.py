"""The pages around publishing: the delivery table, retry and by-hand recording, history, away cover."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from schoolgate.audit.models import AuditEntry
from schoolgate.posts.actions import final_approve_post
from schoolgate.posts.models import Delivery, DeliveryStatus, PostStatus
from schoolgate.posts.tests.conftest import make_account
from schoolgate.posts.tests.test_publishing import approved
from schoolgate.schools.models import Membership
from schoolgate.schools.roles import Role
from schoolgate.testing import PASSWORD


def log_in(client, user):
    assert client.login(email=user.email, password=PASSWORD)


@pytest.mark.clause("RS-ROLE-2")
def test_it_lets_the_headteacher_mark_themselves_away_so_the_deputy_approves(client, cast, account):
    policy = cast.policy.settings
    policy.final_post_approver_role, policy.final_approver_deputy_role = Role.HEADTEACHER, Role.LEADERSHIP
    policy.save()
    log_in(client, cast.head)
    dashboard = client.get(f"/s/{cast.school.slug}/").content.decode()
    assert "You give final approval as headteacher" in dashboard
    back_on = timezone.localdate() + dt.timedelta(days=3)
    client.post(f"/s/{cast.school.slug}/posts/away/", {"role": Role.HEADTEACHER, "until": back_on.isoformat()})
    assert Membership.objects.get(user=cast.head, role=Role.HEADTEACHER).away_until == back_on

    from schoolgate.posts.actions import create_draft, review_post, submit_for_review

    post = create_draft(cast.school, by=cast.alice, text="Choir tonight", accounts=[account])
    submit_for_review(post, by=cast.alice)
    review_post(post, by=cast.bob, decision="approved")
    final_approve_post(post, by=cast.leader)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED

    client.post(f"/s/{cast.school.slug}/posts/away/", {"role": Role.HEADTEACHER, "until": ""})
    assert Membership.objects.get(user=cast.head, role=Role.HEADTEACHER).away_until is None
    staff_refused = client.post(f"/s/{cast.school.slug}/posts/away/", {"role": Role.STAFF, "until": ""}, follow=True)
    assert "You do not hold that role here." in staff_refused.content.decode()


def connect_without_network(cast, account):
    """Store a connection as connecting would (the tokens are not used by these page tests)."""
    from schoolgate.connectors.base import AccountIdentity, Credentials
    from schoolgate.official_accounts.actions import connect_account

    connect_account(
        account,
        by=cast.head,
        credentials=Credentials(data={"accessJwt": "a", "refreshJwt": "r", "did": "did:plc:test"}),
        identity=AccountIdentity(remote_id="did:plc:test", handle="news.test"),
        service_url="https://bsky.social",
    )


def test_it_shows_a_failed_delivery_on_the_dashboard_and_asks_to_connect_before_retrying(
    client, cast, django_capture_on_commit_callbacks
):
    account = make_account(cast, name="Bluesky news", network="bluesky", staff=[cast.alice, cast.bob, cast.head])
    with django_capture_on_commit_callbacks(execute=True):
        post = approved(cast, account)  # not connected: it fails at publishing time
    delivery = post.deliveries.get()
    assert delivery.status == DeliveryStatus.FAILED
    log_in(client, cast.alice)
    assert "Posts that did not go out" in client.get(f"/s/{cast.school.slug}/").content.decode()
    page = client.get(f"/s/{cast.school.slug}/posts/{post.pk}/").content.decode()
    assert "Approved — failed to publish on Bluesky news" in page
    assert "Bluesky news is not connected" in page and "Connect Bluesky news" in page and "Retry now" not in page
    refused = client.post(f"/s/{cast.school.slug}/posts/{post.pk}/deliveries/{delivery.pk}/retry/", follow=True)
    assert "connect it on the account&#x27;s page, then retry" in refused.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED  # another attempt would only fail the same way

    connect_without_network(cast, account)
    assert "Retry now" in client.get(f"/s/{cast.school.slug}/posts/{post.pk}/").content.decode()
    client.post(f"/s/{cast.school.slug}/posts/{post.pk}/deliveries/{delivery.pk}/retry/")
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING and delivery.attempts == 0


def failed_delivery(cast, account):
    post = approved(cast, account, scheduled_for=timezone.now() + dt.timedelta(hours=1))
    delivery = post.deliveries.get()
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, last_error="Bluesky was down")
    return post, delivery


@pytest.mark.clause("AW-PUB-6")
@pytest.mark.parametrize("person", ["volunteer", "governor", "bob"])
def test_it_lets_only_the_accounts_authorised_staff_and_leaders_retry_a_delivery(client, cast, person):
    account = make_account(cast, name="Bluesky news", network="bluesky", staff=[cast.alice, cast.head])
    connect_without_network(cast, account)
    post, delivery = failed_delivery(cast, account)
    retry_url = f"/s/{cast.school.slug}/posts/{post.pk}/deliveries/{delivery.pk}/retry/"
    log_in(client, getattr(cast, person))  # bob is staff, but not authorised on this account
    refused = client.post(retry_url, follow=True)
    assert "authorised staff" in refused.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert not AuditEntry.objects.filter(action="posts.delivery.retry").exists()
    for allowed in (cast.alice, cast.leader):  # authorised on it; a leader
        Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED)
        log_in(client, allowed)
        client.post(retry_url)
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.RETRYING
        assert AuditEntry.objects.filter(action="posts.delivery.retry", actor=allowed).exists()


@pytest.mark.clause("AW-PUB-6")
@pytest.mark.parametrize("person", ["volunteer", "governor", "bob"])
def test_it_lets_only_the_accounts_authorised_staff_and_leaders_record_a_delivery_by_hand(client, cast, person):
    account = make_account(cast, name="Website", network="other", staff=[cast.alice, cast.head])
    post = approved(cast, account)
    delivery = post.deliveries.get()
    assert delivery.status == DeliveryStatus.MANUAL
    record_url = f"/s/{cast.school.slug}/posts/{post.pk}/deliveries/{delivery.pk}/record/"
    log_in(client, getattr(cast, person))
    page = client.get(f"/s/{cast.school.slug}/posts/{post.pk}/").content.decode()
    assert "Record the link" not in page
    refused = client.post(record_url, {"url": "https://school.example/news/1"}, follow=True)
    assert "authorised staff" in refused.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.MANUAL and not delivery.url
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED and post.published_at is None
    log_in(client, cast.alice)
    client.post(record_url, {"url": "https://school.example/news/1"})
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PUBLISHED and delivery.recorded_by == cast.alice


@pytest.mark.clause("AW-PUB-6")
def test_it_lets_only_the_accounts_authorised_staff_and_leaders_answer_an_uncertain_delivery(client, cast):
    account = make_account(cast, name="Bluesky news", network="bluesky", staff=[cast.alice, cast.head])
    connect_without_network(cast, account)
    post, delivery = failed_delivery(cast, account)
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.UNCERTAIN)
    record_url = f"/s/{cast.school.slug}/posts/{post.pk}/deliveries/{delivery.pk}/record/"
    for person in (cast.volunteer, cast.bob):
        log_in(client, person)
        client.post(record_url, {"url": ""})  # "I checked: it is not there — send it"
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.UNCERTAIN
    log_in(client, cast.alice)
    client.post(record_url, {"url": ""})
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING


def test_it_records_a_hand_made_post_and_shows_the_whole_history(client, cast):
    account = make_account(cast, name="Website", network="other", staff=[cast.alice, cast.head])
    post = approved(cast, account, "Nativity tickets on sale Monday")
    delivery = post.deliveries.get()
    log_in(client, cast.alice)
    page = client.get(f"/s/{cast.school.slug}/posts/{post.pk}/").content.decode()
    assert "Post it on Website by hand" in page
    bad = client.post(
        f"/s/{cast.school.slug}/posts/{post.pk}/deliveries/{delivery.pk}/record/", {"url": "nope"}, follow=True
    )
    assert "Paste the link" in bad.content.decode()
    client.post(
        f"/s/{cast.school.slug}/posts/{post.pk}/deliveries/{delivery.pk}/record/",
        {"url": "https://school.example/news/nativity"},
    )
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.PUBLISHED
    page = client.get(f"/s/{cast.school.slug}/posts/{post.pk}/").content.decode()
    for step in ["Drafted by Alice", "Sent for review by Alice", "Colleague review (approved) by Bob", "Scheduled"]:
        assert step in page
    assert "Published on Website by Alice" in page
    assert "As published (version 1)" in page


def test_it_shows_the_posts_real_state_in_its_heading(client, cast):
    accounts = [
        make_account(cast, name=name, network="bluesky", staff=[cast.alice, cast.head])
        for name in ("Bluesky news", "Sports news", "Parents news")
    ]
    post = approved(cast, accounts[0], scheduled_for=timezone.now() + dt.timedelta(hours=1))
    post.accounts.set(accounts)
    from schoolgate.posts.actions.publishing import schedule_deliveries

    schedule_deliveries(post)
    assert post.state() == ("Approved", "ok")
    Delivery.objects.filter(post=post, account=accounts[2]).update(status=DeliveryStatus.FAILED)
    assert post.state() == ("Approved — failed to publish on Parents news", "bad")
    Delivery.objects.filter(post=post, account__in=accounts[:2]).update(status=DeliveryStatus.PUBLISHED)
    post.status = PostStatus.PUBLISHED
    post.save(update_fields=["status"])
    assert post.state() == ("Published on 2 of 3 accounts — failed to publish on Parents news", "bad")
    log_in(client, cast.alice)
    page = client.get(f"/s/{cast.school.slug}/posts/{post.pk}/").content.decode()
    assert "Published on 2 of 3 accounts — failed to publish on Parents news</span></h1>" in page
    Delivery.objects.filter(post=post).update(status=DeliveryStatus.PUBLISHED)
    assert post.state() == ("Published", "ok")
