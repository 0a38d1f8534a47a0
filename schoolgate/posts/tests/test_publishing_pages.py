"""The pages around publishing: the delivery table, retry and by-hand recording, history, away cover."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

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


def test_it_shows_a_failed_delivery_on_the_dashboard_and_retries_it_from_the_post_page(
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
    assert "Bluesky news is not connected" in page and "Retry now" in page
    client.post(f"/s/{cast.school.slug}/posts/{post.pk}/deliveries/{delivery.pk}/retry/")
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING and delivery.attempts == 0
    log_in(client, cast.leader)  # not authorised on the account, but a leader
    client.post(f"/s/{cast.school.slug}/posts/{post.pk}/deliveries/{delivery.pk}/retry/")
    log_in(client, cast.volunteer)
    refused = client.post(f"/s/{cast.school.slug}/posts/{post.pk}/deliveries/{delivery.pk}/retry/", follow=True)
    assert "authorised staff" in refused.content.decode()


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
