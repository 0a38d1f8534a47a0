"""The response-time report page (RS-MON-1): per account and month, with a year's chart of answers in time."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from schoolgate.inbox import reports
from schoolgate.official_accounts.models import OfficialAccount
from schoolgate.schools.views import school_for

REPORT_PERMISSION = "inbox.report"
CHART_HEIGHT = 120  # units of the tallest bar (100 %)
BAR_STEP = 10  # units per month; each bar is 8 wide


def _bar_height(figures: reports.MonthFigures) -> int:
    return round((figures.percent_in_time or 0) * CHART_HEIGHT / 100)


def _month_from(value: str, today: dt.date) -> dt.date:
    try:
        # The form sends the month's first day (ISO); "2026-11" is accepted too.
        year, month = (int(part) for part in value.split("-")[:2])
        chosen = dt.date(year, month, 1)
    except (TypeError, ValueError):
        return reports.month_start(today)
    return min(chosen, reports.month_start(today))


@login_required
@require_GET
def response_times(request, slug):
    school = school_for(request, slug, REPORT_PERMISSION)
    today = timezone.localdate()
    month = _month_from(request.GET.get("month", ""), today)
    accounts = list(OfficialAccount.objects.approved().filter(school=school).order_by("name"))
    ids = [a.pk for a in accounts]
    this_month = reports.figures(ids, month)
    year = reports.year_of_months(ids, month)
    rows = [
        {
            "account": account,
            "figures": this_month[account.pk],
            "median": reports.describe(this_month[account.pk].median),
            "p90": reports.describe(this_month[account.pk].p90),
        }
        for account in accounts
    ]
    chart = [
        {
            "account": account,
            "bars": [
                {
                    "month": figures[account.pk].month,
                    "percent": figures[account.pk].percent_in_time,
                    "items": figures[account.pk].items,
                    "x": index * BAR_STEP + 1,
                    "y": CHART_HEIGHT - _bar_height(figures[account.pk]),
                    "height": _bar_height(figures[account.pk]),
                }
                for index, figures in enumerate(year)
            ],
        }
        for account in accounts
    ]
    months = [reports.month_start(today)]
    for _ in range(23):
        months.append(reports.month_start(months[-1] - dt.timedelta(days=1)))
    return render(
        request,
        "inbox/response_times.html",
        {
            "school": school,
            "month": month,
            "months": months,
            "rows": rows,
            "chart": chart,
            "chart_height": CHART_HEIGHT,
            "chart_width": BAR_STEP * len(year),
        },
    )
