"""Audit log exports (CSV and JSON) for a date range, with restricted entries redacted unless allowed."""

from __future__ import annotations

import csv
import io
import json

from django.core.serializers.json import DjangoJSONEncoder

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


def entries_between(start, end, *, school=None):
    entries = AuditEntry.objects.filter(at__gte=start, at__lt=end)
    if school is not None:
        entries = entries.filter(school=school)
    return entries.order_by("seq")


def entry_row(entry: AuditEntry, *, show_restricted: bool) -> dict:
    row = {column: getattr(entry, column) for column in COLUMNS}
    row["at"] = entry.at.isoformat()
    if entry.restricted and not show_restricted:
        # The hashes stay, so a redacted export can still be checked against the chain.
        row.update(object_repr=REDACTED, changes=REDACTED, detail=REDACTED)
    return row


def export_csv(entries, *, show_restricted: bool) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for entry in entries.iterator(chunk_size=2000):
        row = entry_row(entry, show_restricted=show_restricted)
        for key in ("changes", "detail"):
            if not isinstance(row[key], str):
                row[key] = json.dumps(row[key], sort_keys=True, cls=DjangoJSONEncoder)
        writer.writerow(row)
    return buffer.getvalue()


def export_json(entries, *, show_restricted: bool) -> str:
    rows = [entry_row(entry, show_restricted=show_restricted) for entry in entries.iterator(chunk_size=2000)]
    return json.dumps(rows, indent=2, cls=DjangoJSONEncoder, ensure_ascii=False)
