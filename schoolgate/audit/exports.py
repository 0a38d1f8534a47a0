"""Audit log exports (CSV and JSON) for a date range, with restricted and pupil entries redacted unless allowed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from schoolgate.audit.models import AuditEntry

COLUMNS = [
    "seq",
    "at",
    "actor_label",
    "school_id",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "detail",
    "restricted",
    "prev_hash",
    "entry_hash",
]
REDACTED = "[restricted]"
PUPIL_DATA_HIDDEN = "[pupil details hidden]"

# Which entries are about pupils and their families, decided here at read time so that every caller of
# audit.log() is covered, entries written before this rule included: anything done to a pupils-app object or
# named pupils.*, and any entry whose details point at a pupil or carer (a face tagged in a photo, a take-down
# a family asked for).
PUPIL_OBJECT_APP = "pupils."
PUPIL_ACTION_PREFIX = "pupils."
PUPIL_DETAIL_KEYS = frozenset({"pupil", "pupils", "carer", "carers"})
# A spreadsheet runs a cell starting with one of these as a formula (tab and CR too: some strip them first).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# The days a range may name: wide enough for any school's log, narrow enough that "31/12/9999" plus a day,
# or year 1 in a time zone ahead of UTC, never overflows a datetime.
EARLIEST_DAY, LATEST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)


def day_range(since: dt.date, until: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants from the start of `since` to the end of `until` in the current time zone (both days included)."""
    if not (EARLIEST_DAY <= since <= LATEST_DAY and EARLIEST_DAY <= until <= LATEST_DAY):
        raise ValueError(f"Choose dates between {EARLIEST_DAY:%d/%m/%Y} and {LATEST_DAY:%d/%m/%Y}.")
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(since, dt.time.min, tzinfo=tz)
    return start, dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=tz)


def entries_between(start, end, *, school=None):
    entries = AuditEntry.objects.filter(at__gte=start, at__lt=end)
    if school is not None:
        entries = entries.filter(school=school)
    return entries.order_by("seq")


def is_about_pupils(entry: AuditEntry) -> bool:
    def points_at_pupils(data) -> bool:
        return isinstance(data, dict) and any(data.get(key) not in (None, "", [], {}) for key in PUPIL_DETAIL_KEYS)

    return (
        entry.object_type.startswith(PUPIL_OBJECT_APP)
        or entry.action.startswith(PUPIL_ACTION_PREFIX)
        or points_at_pupils(entry.changes)
        or points_at_pupils(entry.detail)
    )


def entry_row(entry: AuditEntry, *, show_restricted: bool, show_pupils: bool = True) -> dict:
    """One entry as a reader may see it. The hashes always stay, so a redacted export can be checked too."""
    row = {column: getattr(entry, column) for column in COLUMNS}
    row["at"] = entry.at.isoformat()
    if entry.restricted and not show_restricted:
        row.update(object_repr=REDACTED, changes=REDACTED, detail=REDACTED)
    elif not show_pupils and is_about_pupils(entry):
        row.update(object_repr=PUPIL_DATA_HIDDEN, changes=PUPIL_DATA_HIDDEN, detail=PUPIL_DATA_HIDDEN)
        if entry.actor_id is None and entry.actor_label != "system":
            row["actor_label"] = PUPIL_DATA_HIDDEN  # a family answering through its link, not a member
    return row


def neutralise_formula(value):
    """A cell a spreadsheet would run as a formula, made plain text by a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def export_csv(entries, *, show_restricted: bool, show_pupils: bool = True) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for entry in entries.iterator(chunk_size=2000):
        row = entry_row(entry, show_restricted=show_restricted, show_pupils=show_pupils)
        for key in ("changes", "detail"):
            if not isinstance(row[key], str):
                row[key] = json.dumps(row[key], sort_keys=True, cls=DjangoJSONEncoder)
        writer.writerow({key: neutralise_formula(value) for key, value in row.items()})
    return buffer.getvalue()


def export_json(entries, *, show_restricted: bool, show_pupils: bool = True) -> str:
    rows = [
        entry_row(entry, show_restricted=show_restricted, show_pupils=show_pupils)
        for entry in entries.iterator(chunk_size=2000)
    ]
    return json.dumps(rows, indent=2, cls=DjangoJSONEncoder, ensure_ascii=False)
