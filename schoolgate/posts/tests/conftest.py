"""A school with an approved account on which Alice (and Bob) may post."""

import pytest
from django.utils import timezone

from schoolgate.official_accounts.models import AccountStatus, OfficialAccount
from schoolgate.testing import make_school


def make_account(cast, *, name="School news", network="mastodon", staff=()):
    account = OfficialAccount.objects.create(
        school=cast.school,
        name=name,
        network=network,
        registration_email="news@example.org",
        aim="News",
        intended_audience="Families",
        promotion="Newsletter",
        visibility="open",
        objectives="Engagement",
        intended_outcomes="Informed families",
        risks="Replies",
        likelihood="low",
        mitigations="Monitoring",
        proposed_by=cast.head,
        proposed_at=timezone.now(),
        status=AccountStatus.APPROVED,
    )
    account.authorised_staff.set(staff)
    return account


@pytest.fixture
def cast(db):
    return make_school()


@pytest.fixture
def account(cast):
    return make_account(cast, staff=[cast.alice, cast.bob, cast.head])
