"""Preparing the governors' report: who may, what it holds, and the audit entry that says it was prepared."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.pupils.consent import COVERAGE_PARTS
from schoolgate.reporting import charts
from schoolgate.reporting.figures import Figures, Period, compute
from schoolgate.schools.permissions import require_permission

PERMISSION = "reporting.view"


class Output:
    PAGE = "page"
    PDF = "pdf"


@dataclass(frozen=True)
class Report:
    school: object
    figures: Figures
    charts: dict
    anchor: audit.ChainAnchor
    chain: audit.ChainReport
    prepared_at: dt.datetime
    prepared_by: object


def _charts(figures: Figures) -> dict:
    consent_parts = [label for _key, label in COVERAGE_PARTS]
    return {
        "published": charts.month_chart("published", "Posts published each month", figures.posts.published_by_month),
        "in_time": charts.month_chart(
            "in-time",
            "Share of items answered in time each month",
            [
                (month, round(100 * in_time / items) if items else None)
                for month, items, in_time in figures.responses.by_month
            ],
            unit=" %",
            top=100,
        ),
        "moderation": charts.bar_chart(
            "moderation", "Moderation actions by kind", [row for row in figures.moderation.by_kind if row[1]]
        ),
        "concerns": charts.bar_chart(
            "concerns",
            "Concerns reported by category",
            [(row.label, row.total) for row in figures.concerns.rows if row.total],
        ),
        "consent": charts.stacked_chart(
            "consent",
            f"{figures.consent.use_label}: pupils by year group",
            consent_parts,
            [
                (row.group, [getattr(row, key) for key, _label in COVERAGE_PARTS], f"{row.percent('given')} % given")
                for row in [*figures.consent.by_year, figures.consent.total]
            ],
        ),
        "training": charts.bar_chart(
            "training",
            "Up to date with each duty",
            [(row.name, row.percent or 0) for row in figures.training.duties],
            unit=" %",
            top=100,
        ),
    }


def prepare_report(school, *, by, period: Period, output: str) -> Report:
    """The report of `period` at `school`, for someone who may read it.

    1. Check the permission (governors, leaders and the safeguarding leads).
    2. Work out the figures: aggregate reads only; nothing in the school's records changes.
    3. Audit that the report was prepared (on the page) or downloaded (the PDF), with its period.
    4. Read the audit chain's head after that entry and check the chain up to it from the newest signed checkpoint
       (the whole log grows with every school; each checkpoint was checked when signed), so the copy carries a head
       that a later check of the log can be compared with: an entry changed or removed since would not match it.
    """
    require_permission(by, school, PERMISSION)
    figures = compute(school, period)
    audit.log(
        "reporting.governors_report.downloaded" if output == Output.PDF else "reporting.governors_report.viewed",
        actor=by,
        school=school,
        detail={"from": period.start.isoformat(), "to": period.end.isoformat(), "output": output},
    )
    return Report(
        school=school,
        figures=figures,
        charts=_charts(figures),
        anchor=audit.chain_anchor(),
        chain=audit.verify_since_checkpoint(),
        prepared_at=timezone.now(),
        prepared_by=by,
    )
