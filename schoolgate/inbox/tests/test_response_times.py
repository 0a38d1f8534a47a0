"""The response-time report (RS-MON-1): per account and month, items, median and 90th-percentile time to the first
answer, and the share answered in time; shown to leaders and governors with a year's chart, without content."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from schoolgate.inbox import reports
from schoolgate.inbox.models import Category, InboxItem, ItemStatus
from schoolgate.posts.tests.conftest import make_account

pytestmark = pytest.mark.django_db


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=timezone.get_current_timezone())


def stored(account, n: int, received: dt.datetime, *, answered_after=None, category=Category.QUERY, due_hours=24):
    return InboxItem.objects.create(
        school=account.school,
        account=account,
        remote_id=f"at://x/{n}",
        kind="reply",
        author_remote_id="did:plc:p",
        text=f"Question {n} about the trip?",
        received_at=received,
        ingested_at=received,
        suggested_category=category,
        category=category,
        status=ItemStatus.ANSWERED if answered_after else ItemStatus.OPEN,
        due_at=received + dt.timedelta(hours=due_hours),
        first_answered_at=received + answered_after if answered_after else None,
    )


@pytest.fixture
def account(cast):
    return make_account(cast, network="bluesky")


@pytest.mark.clause("RS-MON-1")
def test_it_gives_each_account_its_median_90th_percentile_and_share_answered_in_time(account, cast):
    # Ten items in May 2026 answered after 1..10 hours, one after 30 hours (late), one never.
    for n in range(1, 11):
        stored(account, n, at(2026, 5, 4, 9, 0), answered_after=dt.timedelta(hours=n))
    stored(account, 11, at(2026, 5, 5, 9, 0), answered_after=dt.timedelta(hours=30))
    stored(account, 12, at(2026, 5, 6, 9, 0))
    stored(account, 13, at(2026, 5, 6, 9, 0), category=Category.SPAM)  # needs no answer: not counted
    stored(account, 14, at(2026, 6, 1, 9, 0), answered_after=dt.timedelta(hours=1))  # another month
    other = make_account(cast, name="Other", network="bluesky")

    month = reports.figures([account.pk, other.pk], dt.date(2026, 5, 1))
    mine = month[account.pk]
    assert (mine.items, mine.answered, mine.in_time, mine.still_open) == (12, 11, 10, 1)
    assert mine.median == dt.timedelta(hours=6)
    assert mine.p90 == dt.timedelta(hours=10)
    assert mine.percent_in_time == 83
    assert month[other.pk].items == 0 and month[other.pk].percent_in_time is None


def test_it_describes_durations_for_people():
    assert reports.describe(dt.timedelta(minutes=45)) == "45 min"
    assert reports.describe(dt.timedelta(hours=3, minutes=20)) == "3 h 20 min"
    assert reports.describe(dt.timedelta(days=2, hours=4)) == "2 days 4 h"
    assert reports.describe(None) == "—"


def test_it_lays_out_twelve_months_ending_with_the_one_chosen(account):
    stored(account, 1, at(2026, 1, 15, 9, 0), answered_after=dt.timedelta(hours=2))
    year = reports.year_of_months([account.pk], dt.date(2026, 5, 1))
    assert [f[account.pk].month for f in year][0] == dt.date(2025, 6, 1)
    assert [f[account.pk].month for f in year][-1] == dt.date(2026, 5, 1)
    assert year[7][account.pk].items == 1  # January 2026
