"""Published posts made directly with the ORM, on an approved account, for the news page, feeds and digest."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from schoolgate.posts.models import Delivery, DeliveryStatus, Post, PostStatus
from schoolgate.posts.tests.conftest import make_account


def publish(cast, text: str, *, at: dt.datetime | None = None, account=None, url: str = "", **fields) -> Post:
    """A post live on the network since `at` (default: an hour ago), with a live delivery when given an account."""
    at = at or timezone.now() - dt.timedelta(hours=1)
    fields = {"status": PostStatus.PUBLISHED, "published_at": at, **fields}
    post = Post.objects.create(school=cast.school, author=cast.alice, text=text, **fields)
    if account is not None:
        Delivery.objects.create(
            post=post,
            account=account,
            status=DeliveryStatus.PUBLISHED,
            created_at=at,
            due_at=at,
            published_at=at,
            text=text,
            url=url,
            remote_id=f"remote-{post.pk}",
        )
    return post


@pytest.fixture
def account(cast):
    return make_account(cast, staff=[cast.alice])


@pytest.fixture
def posts(cast, account):
    """One public post, and one of each kind that must never reach families."""
    now = timezone.now()
    return {
        "public": publish(
            cast,
            "Sports day is on Friday.\nBring a water bottle & a hat <b>please</b>.",
            account=account,
            url="https://social.example/@school/111",
        ),
        "draft": Post.objects.create(school=cast.school, author=cast.alice, text="DRAFT about the trip"),
        "approved": Post.objects.create(
            school=cast.school, author=cast.alice, text="APPROVED but not yet live", status=PostStatus.APPROVED
        ),
        "withdrawn": publish(cast, "WITHDRAWN notice", status=PostStatus.WITHDRAWN),
        "removed": publish(cast, "REMOVED photo post", removed_at=now, removed_reason="Consent withdrawn"),
    }


HIDDEN = ["DRAFT about the trip", "APPROVED but not yet live", "WITHDRAWN notice", "REMOVED photo post"]
