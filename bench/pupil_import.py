"""Pupil import benchmark: 2,000 pupils and 4,000 contacts, checked and applied on a fresh SQLite database.

Run: `.venv/bin/python bench/pupil_import.py`. Uses a temporary data directory (nothing of yours is touched);
the job runs inline, through the same confirm → job → apply path as the web page. Target: a few seconds (≤ 5 s).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
DATA_DIR = tempfile.mkdtemp(prefix="schoolgate-bench-")
os.environ["SCHOOLGATE_DATA_DIR"] = DATA_DIR
os.environ["HUEY_IMMEDIATE"] = "1"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "schoolgate.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from schoolgate.pupils import actions  # noqa: E402
from schoolgate.pupils.models import Carer, CarerLink, ImportStatus, Pupil  # noqa: E402
from schoolgate.pupils.tests.exports import (  # noqa: E402
    SIMS_CONTACT_HEADERS,
    SIMS_PUPIL_HEADERS,
    contact_rows,
    pupil_rows,
    to_csv,
)
from schoolgate.testing import make_school  # noqa: E402

PUPILS = 2_000
CONTACTS_PER_PUPIL = 2
TARGET_SECONDS = 5.0


def timed_import(school, by, kind: str, data: bytes) -> tuple[float, float]:
    start = time.perf_counter()
    run = actions.validate_import(school, by=by, kind=kind, filename=f"{kind}.csv", data=data)
    checked = time.perf_counter()
    assert run.status == ImportStatus.VALIDATED, run.problems[:3]
    actions.confirm_import(run, by=by)  # autocommit: the inline job runs on commit, i.e. now
    run.refresh_from_db()
    assert run.status == ImportStatus.APPLIED, run.status
    return checked - start, time.perf_counter() - checked


def main() -> None:
    call_command("migrate", verbosity=0)
    cast = make_school("Bench School")
    pupils_csv = to_csv(SIMS_PUPIL_HEADERS, pupil_rows(PUPILS), encoding="cp1252")
    contacts_csv = to_csv(SIMS_CONTACT_HEADERS, contact_rows(PUPILS, per_pupil=CONTACTS_PER_PUPIL))

    figures = []
    for label, kind, data in [("pupils", "pupils", pupils_csv), ("contacts", "contacts", contacts_csv)]:
        check, apply = timed_import(cast.school, cast.head, kind, data)
        figures.append((f"first import, {label}", check, apply))
    assert Pupil.objects.count() == PUPILS
    assert Carer.objects.count() == CarerLink.objects.count() == PUPILS * CONTACTS_PER_PUPIL
    first_total = sum(c + a for _, c, a in figures)

    # Re-import with every pupil's year and group changed: the update path (bulk_update of 2,000 rows).
    moved = [[*row[:5], "Year 12", "12X"] for row in pupil_rows(PUPILS)]
    check, apply = timed_import(cast.school, cast.head, "pupils", to_csv(SIMS_PUPIL_HEADERS, moved))
    figures.append(("re-import, every pupil changed", check, apply))

    print(f"{PUPILS:,} pupils + {PUPILS * CONTACTS_PER_PUPIL:,} contacts on a fresh SQLite database")
    print(f"{'step':<34}{'check (s)':>10}{'apply (s)':>10}{'total (s)':>10}")
    for label, check, apply in figures:
        print(f"{label:<34}{check:>10.2f}{apply:>10.2f}{check + apply:>10.2f}")
    verdict = "meets" if first_total <= TARGET_SECONDS else "MISSES"
    print(f"first import, both files: {first_total:.2f} s (target ≤ {TARGET_SECONDS:.0f} s): {verdict}")


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(DATA_DIR, ignore_errors=True)
