"""The response-time report (RS-MON-1): per account and month, how many items needed an answer, the median and
90th-percentile time to the first answer, and the share answered in time; a year of months for the chart."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.utils import timezone

from schoolgate.inbox.models import ANSWERED_CATEGORIES, InboxItem, ItemStatus


@dataclass(frozen=True)
class MonthFigures:
    account_id: int
    month: dt.date  # the first of the month
    items: int  # needed an answer (comments, queries, complaints, press)
    answered: int
    in_time: int
    still_open: int
    median: dt.timedelta | None
    p90: dt.timedelta | None

    @property
    def share_in_time(self) -> float | None:
        return self.in_time / self.items if self.items else None

    @property
    def percent_in_time(self) -> int | None:
        share = self.share_in_time
        return None if share is None else round(share * 100)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(month, dt.time.min, tzinfo=tz)
    return start, dt.datetime.combine(next_month(month), dt.time.min, tzinfo=tz)


def percentile(values: list[dt.timedelta], share: float) -> dt.timedelta | None:
    """The nearest-rank percentile (the value at least `share` of the answers were as quick as)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def figures(account_ids: list[int], month: dt.date) -> dict[int, MonthFigures]:
    """One month's figures for each account, from one query over the items received that month."""
    start, end = _bounds(month)
    return figures_between(account_ids, start, end, month=month)


def figures_between(
    account_ids: list[int], start: dt.datetime, end: dt.datetime, *, month: dt.date
) -> dict[int, MonthFigures]:
    """The same figures over any span (the governors' report's whole period), from one query; `month` labels it."""
    rows = InboxItem.objects.filter(
        account_id__in=account_ids,
        received_at__gte=start,
        received_at__lt=end,
        category__in=ANSWERED_CATEGORIES,
        due_at__isnull=False,
    ).values_list("account_id", "received_at", "first_answered_at", "due_at", "status")
    grouped: dict[int, list] = {pk: [] for pk in account_ids}
    for row in rows:
        grouped[row[0]].append(row[1:])
    result = {}
    for account_id, items in grouped.items():
        times = [answered - received for received, answered, _due, _status in items if answered]
        result[account_id] = MonthFigures(
            account_id=account_id,
            month=month,
            items=len(items),
            answered=len(times),
            in_time=sum(1 for _r, answered, due, _s in items if answered and answered <= due),
            still_open=sum(1 for *_rest, status in items if status == ItemStatus.OPEN),
            median=percentile(times, 0.5),
            p90=percentile(times, 0.9),
        )
    return result


def year_of_months(account_ids: list[int], last: dt.date, months: int = 12) -> list[dict[int, MonthFigures]]:
    """The figures for `months` months ending with `last`, oldest first (the chart)."""
    starts = [month_start(last)]
    for _ in range(months - 1):
        previous = month_start(starts[0] - dt.timedelta(days=1))
        starts.insert(0, previous)
    return [figures(account_ids, start) for start in starts]


def describe(duration: dt.timedelta | None) -> str:
    """ "3 h 20 min", "2 days 4 h", "—"."""
    if duration is None:
        return "—"
    minutes = round(duration.total_seconds() / 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} day{'s' if days != 1 else ''} {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"
