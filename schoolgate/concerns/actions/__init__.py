"""Concern actions: reporting and reading (reporting.py), clocks (deadlines.py), handling (handling.py), one
person's record (records.py) and the school's concern settings (configure.py).

Each checks who may do it, writes, audits and notifies. Audit entries and notifications carry a reference and a
link, never what a concern says. The audit entries are kept out of the school's audit log (school=None): that log
is read by headteachers and DSLs, who may be the subject of a concern, and even "Alice reported concern 12, the
chair opened it" would tell them. They stay in the one hash-chained log, and each concern's page lists its reads.
"""

from django.core.exceptions import ValidationError

from schoolgate.concerns import access
from schoolgate.concerns.actions.base import NO_REASON, audit_concern
from schoolgate.concerns.actions.configure import (
    MANAGE_SETTINGS_PERMISSION,
    check_procedures,
    update_concern_settings,
)
from schoolgate.concerns.actions.deadlines import start_clock, sweep_clocks
from schoolgate.concerns.actions.handling import (
    add_entry,
    needs_parent_contact,
    parents_told,
    record_staff_dates,
)
from schoolgate.concerns.actions.records import Person, chronology, concerns_about, open_chronology
from schoolgate.concerns.actions.reporting import (
    EVIDENCE_TYPES,
    MAX_EVIDENCE_BYTES,
    MAX_EVIDENCE_FILES,
    REPORT_PERMISSION,
    open_concern,
    open_evidence,
    record_found_concern,
    report_concern,
    too_big_message,
)

__all__ = [
    "EVIDENCE_TYPES",
    "MANAGE_SETTINGS_PERMISSION",
    "MAX_EVIDENCE_BYTES",
    "MAX_EVIDENCE_FILES",
    "NO_REASON",
    "REPORT_PERMISSION",
    "Person",
    "ValidationError",
    "access",
    "add_entry",
    "audit_concern",
    "check_procedures",
    "chronology",
    "concerns_about",
    "needs_parent_contact",
    "open_chronology",
    "open_concern",
    "open_evidence",
    "parents_told",
    "record_found_concern",
    "record_staff_dates",
    "report_concern",
    "start_clock",
    "sweep_clocks",
    "too_big_message",
    "update_concern_settings",
]
