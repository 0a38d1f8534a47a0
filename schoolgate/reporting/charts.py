"""Bar charts for the report as SVG geometry, worked out here so the page needs no script and prints in black and
white: grey levels and a hatch pattern tell the parts apart, and every bar carries its number as text."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

WIDTH = 600  # viewBox units; the page scales the chart to its column
BAR_MAX = 480  # the longest horizontal bar, leaving room for its number
ROW = 34  # one horizontal bar: its label on a line above, then the bar
BAR = 14
COLUMN = 40  # one month in a column chart
COLUMN_MAX = 80
# Fills that stay distinct on a black-and-white printer, in the order the parts of a stacked bar use them.
DARK, HATCH, LIGHT, WHITE = "#222222", "hatch", "#bbbbbb", "#ffffff"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    text: str  # the number printed by the bar
    y: int
    width: int

    @property
    def text_x(self) -> int:
        return self.width + 6


@dataclass(frozen=True)
class BarChart:
    key: str  # unique on the page: the id of its hatch pattern
    title: str
    bars: list[Bar]
    height: int
    width: int = WIDTH


def bar_chart(key: str, title: str, rows: list[tuple[str, int]], *, unit: str = "", top: int | None = None) -> BarChart:
    """One horizontal bar per row, scaled to `top` (100 for percentages) or to the largest value."""
    top = top or max((value for _label, value in rows), default=0) or 1
    bars = [
        Bar(label, value, f"{value}{unit}", index * ROW + 16, round(BAR_MAX * min(value, top) / top))
        for index, (label, value) in enumerate(rows)
    ]
    return BarChart(key, title, bars, height=max(ROW, len(rows) * ROW + 4))


@dataclass(frozen=True)
class Column:
    month: str
    year: str  # shown under the first month and every January, so the axis reads without a legend
    text: str
    x: int
    y: int
    height: int

    @property
    def middle(self) -> int:
        return self.x + COLUMN // 2 - 4


@dataclass(frozen=True)
class ColumnChart:
    key: str
    title: str
    columns: list[Column]
    width: int
    height: int = COLUMN_MAX + 50
    baseline: int = COLUMN_MAX + 14


def month_chart(
    key: str, title: str, rows: list[tuple[dt.date, int | None]], *, unit: str = "", top: int | None = None
) -> ColumnChart:
    """One column per month; a month with no figure (None) has no column and a dash."""
    top = top or max((value or 0 for _month, value in rows), default=0) or 1
    columns = []
    for index, (month, value) in enumerate(rows):
        height = round(COLUMN_MAX * min(value or 0, top) / top)
        columns.append(
            Column(
                month=f"{month:%b}",
                year=f"{month:%Y}" if index == 0 or month.month == 1 else "",
                text="—" if value is None else f"{value}{unit}",
                x=index * COLUMN,
                y=COLUMN_MAX + 14 - height,
                height=height,
            )
        )
    return ColumnChart(key, title, columns, width=max(COLUMN, len(rows) * COLUMN))


@dataclass(frozen=True)
class Segment:
    x: int
    width: int
    fill: str


@dataclass(frozen=True)
class StackedRow:
    label: str
    y: int
    segments: list[Segment]
    text: str


@dataclass(frozen=True)
class StackedChart:
    key: str
    title: str
    legend: list[tuple[str, str]]  # (label, fill)
    rows: list[StackedRow]
    height: int
    width: int = WIDTH


def stacked_chart(key: str, title: str, parts: list[str], rows: list[tuple[str, list[int], str]]) -> StackedChart:
    """One full-width bar per row split into its parts (each row's parts add up to its whole)."""
    fills = [DARK, HATCH, LIGHT, WHITE]
    stacked = []
    for index, (label, counts, text) in enumerate(rows):
        total = sum(counts) or 1
        x, segments = 0, []
        for count, fill in zip(counts, fills, strict=False):
            width = round(BAR_MAX * count / total)
            if width:
                segments.append(Segment(x, width, fill))
            x += width
        stacked.append(StackedRow(label, index * ROW + 16 + 24, segments, text))
    legend = list(zip(parts, fills, strict=False))
    return StackedChart(key, title, legend, stacked, height=len(rows) * ROW + 24 + 4)
