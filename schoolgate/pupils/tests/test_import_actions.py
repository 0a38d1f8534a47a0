"""Checking and applying imports: atomic, updating not duplicating, leavers kept, mapping remembered, in bulk."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from schoolgate.audit.models import AuditEntry
from schoolgate.pupils import actions
from schoolgate.pupils.models import Carer, CarerLink, ImportMapping, ImportRun, ImportStatus, Pupil
from schoolgate.pupils.tasks import apply_import_run, discard_stale_imports
from schoolgate.pupils.tests.exports import (
    SIMS_CONTACT_HEADERS,
    SIMS_PUPIL_HEADERS,
    contact_rows,
    pupil_rows,
    to_csv,
)
from schoolgate.screening.school import roster_for_school

PUPILS, CONTACTS = "pupils", "contacts"
HEADERS_WITH_LEAVING = [*SIMS_PUPIL_HEADERS, "Leaving Date"]


def stored_uploads() -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "imports"
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def three_pupils(**changes) -> list[list[str]]:
    rows = {
        "A1": ["A1", "Zoë", "Jones", "", "01/02/2015", "Year 5", "5B"],
        "A2": ["A2", "Siân", "Ó Briain", "Shan", "2015-03-04", "Year 5", "5A"],
        "A3": ["A3", "Oliver", "Smith", "", "5/6/15", "Year 5", "5A"],
    }
    for upn, row in changes.items():
        if row is None:
            rows.pop(upn)
        else:
            rows[upn] = row
    return list(rows.values())


def test_it_imports_windows_1252_names_as_written(cast, run_import):
    data = to_csv(SIMS_PUPIL_HEADERS, three_pupils(), encoding="cp1252")
    run = run_import(PUPILS, data)
    assert run.status == ImportStatus.APPLIED
    assert run.encoding == "Windows-1252"
    assert sorted(Pupil.objects.values_list("legal_forename", flat=True)) == ["Oliver", "Siân", "Zoë"]
    sian = Pupil.objects.get(upn="A2")
    assert (sian.legal_surname, sian.preferred_forename, sian.date_of_birth) == (
        "Ó Briain",
        "Shan",
        dt.date(2015, 3, 4),
    )
    assert Pupil.objects.get(upn="A3").date_of_birth == dt.date(2015, 6, 5)


def test_it_imports_a_semicolon_separated_export(cast, run_import):
    run = run_import(PUPILS, to_csv(SIMS_PUPIL_HEADERS, three_pupils(), delimiter=";"))
    assert run.delimiter == ";"
    assert Pupil.objects.filter(school=cast.school).count() == 3


BAD_FILES = {
    "wrong separator": (b"UPN;Legal Forename;Legal Surname\r\nB1,Ann,Lee\r\n", "not separated consistently"),
    "missing columns": (b"UPN,Legal Forename\r\nB1,Ann\r\n", "No column for legal surname"),
    "duplicate UPNs": (
        to_csv(SIMS_PUPIL_HEADERS, [["B1", "Ann", "Lee", "", "", "", ""], ["B1", "Bo", "Lee", "", "", "", ""]]),
        "line 3, column 'UPN': UPN 'B1' is also on line 2",
    ),
    "bad dates": (
        to_csv(SIMS_PUPIL_HEADERS, [["B1", "Ann", "Lee", "", "31/02/2015", "", ""]], encoding="cp1252"),
        "line 2, column 'DOB': '31/02/2015' is not a date (expected dd/mm/yyyy)",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_it_lists_problems_and_writes_nothing_for_a_bad_file(cast, run_import, case):
    run_import(PUPILS, to_csv(SIMS_PUPIL_HEADERS, three_pupils()))
    before = list(Pupil.objects.order_by("pk").values())
    data, expected = BAD_FILES[case]
    run = actions.validate_import(cast.school, by=cast.head, kind=PUPILS, filename="bad.csv", data=data)
    assert run.status == ImportStatus.INVALID
    assert any(str(problem).startswith(expected) or expected in str(problem) for problem in run.problem_list())
    with pytest.raises(ValidationError):
        actions.confirm_import(run, by=cast.head)
    assert list(Pupil.objects.order_by("pk").values()) == before
    assert not AuditEntry.objects.filter(action="pupils.import.applied", object_id=str(run.pk)).exists()


def test_it_updates_pupils_on_reimport_rather_than_duplicating(cast, run_import):
    run_import(PUPILS, to_csv(SIMS_PUPIL_HEADERS, three_pupils()))
    ids = dict(Pupil.objects.values_list("upn", "pk"))
    changed = three_pupils(A1=["A1", "Zoë", "Jones-Evans", "Zo", "01/02/2015", "Year 6", "6B"])
    run = run_import(PUPILS, to_csv(SIMS_PUPIL_HEADERS, changed))
    assert (run.created_count, run.updated_count, run.unchanged_count) == (0, 1, 2)
    assert dict(Pupil.objects.values_list("upn", "pk")) == ids
    zoe = Pupil.objects.get(upn="A1")
    assert (zoe.legal_surname, zoe.preferred_forename, zoe.year_group) == ("Jones-Evans", "Zo", "Year 6")


def test_it_keeps_leavers_as_former_pupils(cast, run_import):
    run_import(PUPILS, to_csv(SIMS_PUPIL_HEADERS, three_pupils()))
    # The export marks A1 as having left; A3 has gone from the export altogether.
    rows = [[*row, ""] for row in three_pupils(A3=None)]
    rows[0][-1] = "20/07/2025"
    run = run_import(PUPILS, to_csv(HEADERS_WITH_LEAVING, rows))
    assert run.left_count == 1 and run.missing_count == 1
    assert Pupil.objects.get(upn="A1").leaving_date == dt.date(2025, 7, 20)
    # Missing from the file is not proof of leaving unless the person says so.
    assert Pupil.objects.get(upn="A3").leaving_date is None

    run = run_import(PUPILS, to_csv(HEADERS_WITH_LEAVING, rows), mark_missing_as_left=True)
    assert run.left_count == 1
    assert Pupil.objects.get(upn="A3").leaving_date == timezone.localdate()
    assert Pupil.objects.filter(school=cast.school).count() == 3
    # Former pupils stay on the roster the screening engine reads.
    roster_ids = {pk for pk, *_ in Pupil.objects.values_list("pk")}
    assert {name.pupil_id for name in roster_for_school(cast.school).pupils} == roster_ids


def test_it_remembers_the_column_mapping_for_the_next_file(cast, run_import, django_capture_on_commit_callbacks):
    headers = ["Pupil Ref", "Given", "Family", "Birthday"]
    mapping = {"upn": "Pupil Ref", "legal_forename": "Given", "legal_surname": "Family", "date_of_birth": "Birthday"}
    first = actions.validate_import(
        cast.school, by=cast.head, kind=PUPILS, filename="a.csv", data=to_csv(headers, [["C1", "Ann", "Lee", ""]])
    )
    assert first.status == ImportStatus.INVALID  # nothing matches these headers by name
    with django_capture_on_commit_callbacks(execute=True):
        actions.remap_import(first, by=cast.head, mapping=mapping)  # checked again by the job
    first.refresh_from_db()
    assert first.status == ImportStatus.VALIDATED
    run_import(PUPILS, to_csv(headers, [["C1", "Ann", "Lee", ""]]), mapping=mapping)
    assert ImportMapping.objects.get(school=cast.school, kind=PUPILS).mapping == mapping

    second = run_import(PUPILS, to_csv(headers, [["C1", "Ann", "Lee", "02/03/2016"], ["C2", "Bo", "Lee", ""]]))
    assert second.mapping == mapping
    assert Pupil.objects.get(upn="C1").date_of_birth == dt.date(2016, 3, 2)


def test_it_links_contacts_to_pupils_and_updates_them_on_reimport(cast, run_import):
    run_import(PUPILS, to_csv(SIMS_PUPIL_HEADERS, three_pupils()))
    rows = [
        ["Ann Jones", "Mother", "Y", "ann@example.org", "07700 900001", "A1"],
        ["Ann Jones", "Mother", "Yes", "ANN@example.org", "07700 900001", "A2"],  # a sibling: one contact, two links
        ["Tom Smith", "Grandfather", "N", "", "07700 900003", "A3"],
    ]
    run = run_import(CONTACTS, to_csv(SIMS_CONTACT_HEADERS, rows))
    assert (run.created_count, run.links_count) == (2, 3)
    ann = Carer.objects.get(full_name="Ann Jones")
    assert sorted(ann.pupils.values_list("upn", flat=True)) == ["A1", "A2"]
    assert CarerLink.objects.get(carer=ann, pupil__upn="A1").parental_responsibility is True
    tom_link = CarerLink.objects.get(carer__full_name="Tom Smith")
    assert (tom_link.relationship, tom_link.parental_responsibility) == ("Grandfather", False)

    rows[0][4] = rows[1][4] = "07700 900999"
    rows[2][2] = "Y"
    run = run_import(CONTACTS, to_csv(SIMS_CONTACT_HEADERS, rows))
    assert (run.created_count, run.links_count, run.updated_count) == (0, 0, 2)
    assert Carer.objects.count() == 2 and CarerLink.objects.count() == 3
    assert Carer.objects.get(full_name="Ann Jones").phone == "07700 900999"
    assert CarerLink.objects.get(carer__full_name="Tom Smith").parental_responsibility is True


def test_it_refuses_contacts_for_pupils_the_school_does_not_have(cast, run_import):
    run_import(PUPILS, to_csv(SIMS_PUPIL_HEADERS, three_pupils()))
    data = to_csv(
        SIMS_CONTACT_HEADERS, [["Ann Jones", "Mother", "Y", "", "", "A1"], ["Bo", "Father", "Y", "", "", "Z9"]]
    )
    run = actions.validate_import(cast.school, by=cast.head, kind=CONTACTS, filename="c.csv", data=data)
    assert [str(p) for p in run.problem_list()] == [
        "line 3, column 'Pupil UPN': no pupil with UPN 'Z9' at the school; import the pupil file first."
    ]
    assert not Carer.objects.exists()


def test_it_checks_again_when_applying_and_writes_nothing_if_the_school_changed(
    cast, run_import, django_capture_on_commit_callbacks
):
    run_import(PUPILS, to_csv(SIMS_PUPIL_HEADERS, three_pupils()))
    data = to_csv(
        SIMS_CONTACT_HEADERS, [["Ann Jones", "Mother", "Y", "", "", "A1"], ["Tom", "Father", "Y", "", "", "A3"]]
    )
    run = actions.validate_import(cast.school, by=cast.head, kind=CONTACTS, filename="c.csv", data=data)
    assert run.status == ImportStatus.VALIDATED
    Pupil.objects.filter(upn="A3").delete()
    with django_capture_on_commit_callbacks(execute=True):
        actions.confirm_import(run, by=cast.head)
    run.refresh_from_db()
    assert run.status == ImportStatus.INVALID
    assert "no pupil with UPN 'A3'" in str(run.problem_list()[0])
    assert not Carer.objects.exists()


def test_it_writes_nothing_when_applying_fails_part_way(
    cast, run_import, django_capture_on_commit_callbacks, monkeypatch
):
    run_import(PUPILS, to_csv(SIMS_PUPIL_HEADERS, three_pupils()))
    data = to_csv(SIMS_CONTACT_HEADERS, [["Ann Jones", "Mother", "Y", "", "", "A1"]])
    run = actions.validate_import(cast.school, by=cast.head, kind=CONTACTS, filename="c.csv", data=data)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(CarerLink.objects, "bulk_create", broken)
    with django_capture_on_commit_callbacks(execute=True):
        actions.confirm_import(run, by=cast.head)  # the job logs the error; Huey does not re-raise it
    run.refresh_from_db()
    assert run.status == ImportStatus.FAILED
    assert not Carer.objects.exists()  # created before the links failed, then rolled back


def test_it_applies_once_however_often_the_job_runs(cast, run_import):
    run = run_import(PUPILS, to_csv(SIMS_PUPIL_HEADERS, three_pupils()))
    assert apply_import_run.call_local(run.pk) is False
    with pytest.raises(ValidationError):
        actions.apply_import(run, by=cast.head)
    assert Pupil.objects.count() == 3
    assert AuditEntry.objects.filter(action="pupils.import.applied").count() == 1


def test_it_audits_counts_and_filename_but_no_personal_data(cast, run_import):
    run = run_import(PUPILS, to_csv(SIMS_PUPIL_HEADERS, three_pupils()), filename="sims-roll.csv")
    entry = AuditEntry.objects.get(action="pupils.import.applied")
    assert entry.detail["filename"] == "sims-roll.csv"
    assert (entry.detail["rows"], entry.detail["created"]) == (3, 3)
    logged = json.dumps(entry.detail, ensure_ascii=False)
    assert not any(name in logged for name in ["Zoë", "Jones", "A1", "2015"])
    assert entry.actor == cast.head and entry.object_id == str(run.pk)
    assert ImportRun.objects.get(pk=run.pk).upload.name == ""  # the uploaded copy is not kept once applied
    assert not stored_uploads()


@pytest.mark.parametrize("person", ["alice", "volunteer", "governor", "dsl"])
def test_it_refuses_people_without_the_pupil_data_permission(cast, person):
    data = to_csv(SIMS_PUPIL_HEADERS, three_pupils())
    with pytest.raises(PermissionDenied):
        actions.validate_import(cast.school, by=getattr(cast, person), kind=PUPILS, filename="a.csv", data=data)
    assert not ImportRun.objects.exists()


def test_it_discards_files_never_confirmed(cast, django_capture_on_commit_callbacks):
    run = actions.validate_import(
        cast.school, by=cast.head, kind=PUPILS, filename="a.csv", data=to_csv(SIMS_PUPIL_HEADERS, three_pupils())
    )
    assert len(stored_uploads()) == 1
    ImportRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - dt.timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert discard_stale_imports.call_local() == 1
    run.refresh_from_db()
    assert (run.status, run.upload.name) == (ImportStatus.CANCELLED, "")
    assert not stored_uploads()


def test_it_applies_2000_pupils_and_4000_contacts(cast, run_import):
    pupils = run_import(PUPILS, to_csv(SIMS_PUPIL_HEADERS, pupil_rows(2000)))
    assert (pupils.rows, pupils.created_count, pupils.progress_done) == (2000, 2000, pupils.progress_total)
    contacts = run_import(CONTACTS, to_csv(SIMS_CONTACT_HEADERS, contact_rows(2000, per_pupil=2)))
    assert (contacts.rows, contacts.created_count, contacts.links_count) == (4000, 4000, 4000)
    assert Pupil.objects.filter(school=cast.school).count() == 2000
    assert Carer.objects.filter(school=cast.school).count() == 4000
    assert CarerLink.objects.filter(pupil__school=cast.school).count() == 4000

    again = run_import(PUPILS, to_csv(SIMS_PUPIL_HEADERS, pupil_rows(2000)))
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 2000)
    assert Pupil.objects.filter(school=cast.school).count() == 2000
