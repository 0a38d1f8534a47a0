"""The import pages: upload, the check job's progress, preview, problems, columns, confirmation, the pupil list."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from schoolgate.pupils import actions
from schoolgate.pupils.models import ImportRun, ImportStatus, Pupil
from schoolgate.pupils.tasks import check_import_run
from schoolgate.pupils.tests.exports import SIMS_PUPIL_HEADERS, to_csv

ROWS = [
    ["A1", "Zoë", "Jones", "", "01/02/2015", "Year 5", "5B"],
    ["A2", "Siân", "Evans", "", "04/03/2015", "Year 5", "5A"],
    ["A3", "Oliver", "Smith", "", "05/06/2016", "Year 4", "4A"],
]


@pytest.fixture
def upload(client, django_capture_on_commit_callbacks):
    """Post a file to the import page; the check job runs (inline) unless `checked=False`."""

    def post(slug, data, *, kind="pupils", name="roll.csv", checked=True):
        with django_capture_on_commit_callbacks(execute=checked):
            response = client.post(
                f"/s/{slug}/pupils/import/", {"kind": kind, "file": SimpleUploadedFile(name, data, "text/csv")}
            )
        return client.get(response["Location"]) if response.status_code == 302 else response

    return post


def test_it_walks_through_upload_preview_confirmation_progress_and_the_list(
    client, cast, upload, django_capture_on_commit_callbacks
):
    client.force_login(cast.head)
    slug = cast.school.slug
    page = upload(slug, to_csv(SIMS_PUPIL_HEADERS, ROWS, encoding="cp1252")).content.decode()
    assert "Ready to import" in page and "Windows-1252" in page
    assert "<strong>3</strong> new pupils" in page
    assert not Pupil.objects.exists()

    run = ImportRun.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/s/{slug}/pupils/import/{run.pk}/confirm/")
    assert "Imported" in client.get(f"/s/{slug}/pupils/import/{run.pk}/").content.decode()
    status = client.get(f"/s/{slug}/pupils/import/{run.pk}/status/").content.decode()
    assert "Imported" in status and "every 1s" not in status

    listing = client.get(f"/s/{slug}/pupils/?year=Year+5").content.decode()
    assert "Zoë" in listing and "Siân" in listing and "Oliver" not in listing


def test_it_checks_the_file_in_a_job_and_shows_its_progress(client, cast, upload):
    client.force_login(cast.head)
    slug = cast.school.slug
    page = upload(slug, to_csv(SIMS_PUPIL_HEADERS, ROWS), checked=False).content.decode()
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.CHECKING
    assert "Checking every row of the file" in page and "?was=checking" in page
    assert "Confirm and import" not in page

    fragment = client.get(f"/s/{slug}/pupils/import/{run.pk}/status/?was=checking")
    assert 'hx-trigger="every 1s"' in fragment.content.decode() and "HX-Refresh" not in fragment
    assert check_import_run.call_local(run.pk) is True
    assert check_import_run.call_local(run.pk) is False  # checked once; a second run does nothing
    fragment = client.get(f"/s/{slug}/pupils/import/{run.pk}/status/?was=checking")
    assert fragment["HX-Refresh"] == "true"  # the whole page reloads to show the preview
    assert "Ready to import" in client.get(f"/s/{slug}/pupils/import/{run.pk}/").content.decode()


def test_it_previews_the_first_rows_as_they_will_be_stored(client, cast, upload, run_import):
    run_import("pupils", to_csv(SIMS_PUPIL_HEADERS, ROWS[:2]))
    client.force_login(cast.head)
    rows = [
        ROWS[0],  # unchanged
        [*ROWS[1][:5], "Y6", "6A"],  # moved up a year, written the way some exports write it
        ["A4", "Ava", "Khan", "", "02/02/2019", "R", "RA"],
    ]
    page = upload(cast.school.slug, to_csv(SIMS_PUPIL_HEADERS, rows)).content.decode()
    assert "The first 3 rows as they will be stored" in page
    assert "<strong>1</strong> new pupil<" in page and "<strong>1</strong> updated, 1 unchanged" in page
    assert "<td>Year 6</td>" in page and "<td>Reception</td>" in page and "<td>Y6</td>" not in page
    assert 'Updated<span class="note">Year group, Registration group</span>' in page
    assert "Unchanged" in page and "New" in page
    assert Pupil.objects.get(upn="A2").year_group == "Year 5"  # nothing written before confirming


def test_it_warns_about_a_probable_duplicate_pupil_without_stopping_the_import(client, cast, upload, run_import):
    run_import("pupils", to_csv(SIMS_PUPIL_HEADERS, ROWS))
    client.force_login(cast.head)
    twice = [
        ["B7", "ZOE", "Jones", "", "01/02/2015", "Year 5", "5B"],
        ["B8", "Oliver", "Smith", "", "05/06/2016", "4", ""],
    ]
    page = upload(cast.school.slug, to_csv(SIMS_PUPIL_HEADERS, twice)).content.decode()
    assert "2 things to check" in page
    assert "ZOE Jones, born 1 February 2015, may already be here as Zoë Jones (UPN &#x27;A1&#x27;)" in page
    assert "Ready to import" in page and "Confirm and import" in page


def test_it_shows_problems_by_line_and_column_and_writes_nothing(client, cast, upload):
    client.force_login(cast.head)
    bad = [*ROWS, ["A1", "Ann", "Lee", "", "31/02/2015", "Year 41", ""]]
    page = upload(cast.school.slug, to_csv(SIMS_PUPIL_HEADERS, bad)).content.decode()
    assert "3 problems — nothing has been written" in page
    assert "<td>5</td><td>DOB</td><td>&#x27;31/02/2015&#x27; is not a date (expected dd/mm/yyyy).</td>" in page
    assert "&#x27;Year 41&#x27; is not a year group Schoolgate recognises" in page
    assert "UPN &#x27;A1&#x27; is also on line 2" in page
    assert "as they would be stored" in page
    assert "Confirm and import" not in page
    assert not Pupil.objects.exists()


def test_it_lets_the_person_choose_columns_and_checks_again(client, cast, upload, django_capture_on_commit_callbacks):
    client.force_login(cast.head)
    data = to_csv(["Ref", "Given", "Family"], [["A1", "Ann", "Lee"]])
    page = upload(cast.school.slug, data).content.decode()
    assert "No column for UPN or admission number" in page
    run = ImportRun.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/s/{cast.school.slug}/pupils/import/{run.pk}/",
            {"upn": "Ref", "legal_forename": "Given", "legal_surname": "Family"},
        )
    assert "Ready to import" in client.get(f"/s/{cast.school.slug}/pupils/import/{run.pk}/").content.decode()
    run.refresh_from_db()
    assert run.status == ImportStatus.VALIDATED and run.mapping["upn"] == "Ref"


def test_it_polls_a_status_fragment_while_the_import_runs(client, cast):
    client.force_login(cast.head)
    run = actions.validate_import(
        cast.school, by=cast.head, kind="pupils", filename="roll.csv", data=to_csv(SIMS_PUPIL_HEADERS, ROWS)
    )
    actions.confirm_import(run, by=cast.head)  # the job is not run: on_commit callbacks are not executed here
    ImportRun.objects.filter(pk=run.pk).update(status=ImportStatus.APPLYING, progress_done=2)
    fragment = client.get(f"/s/{cast.school.slug}/pupils/import/{run.pk}/status/").content.decode()
    assert 'hx-trigger="every 1s"' in fragment
    assert "every row is checked once more and written, all at once" in fragment


def test_it_refuses_a_file_over_the_limit_and_says_what_the_limit_is(client, cast, upload, settings):
    client.force_login(cast.head)
    big = b"UPN,Forename,Surname\r\n" + b"A1,Ann,Lee\r\n" * (actions.MAX_UPLOAD_BYTES // 12 + 1)
    page = upload(cast.school.slug, big).content.decode()
    assert "MB can be imported" in page and "up to 5 MB" in page
    assert not ImportRun.objects.exists()


def test_it_shows_former_pupils_apart_from_those_on_roll(client, cast, run_import):
    run_import(
        "pupils",
        to_csv([*SIMS_PUPIL_HEADERS, "Leaving Date"], [[*row, ""] for row in ROWS[:2]] + [[*ROWS[2], "20/07/2025"]]),
    )
    client.force_login(cast.leader)
    on_roll = client.get(f"/s/{cast.school.slug}/pupils/").content.decode()
    assert "Zoë" in on_roll and "Oliver" not in on_roll
    former = client.get(f"/s/{cast.school.slug}/pupils/?status=former").content.decode()
    assert "Oliver" in former and "Former pupil" in former and "Zoë" not in former


def test_it_keeps_pupil_pages_from_people_without_the_permission(client, cast, upload):
    client.force_login(cast.alice)
    assert client.get(f"/s/{cast.school.slug}/pupils/").status_code == 403
    assert upload(cast.school.slug, to_csv(SIMS_PUPIL_HEADERS, ROWS)).status_code == 403
    assert not ImportRun.objects.exists()


def test_it_cancels_and_discards_an_unconfirmed_file(client, cast, upload, django_capture_on_commit_callbacks):
    client.force_login(cast.head)
    upload(cast.school.slug, to_csv(SIMS_PUPIL_HEADERS, ROWS))
    run = ImportRun.objects.get()
    stored = Path(settings.MEDIA_ROOT) / run.upload.name
    assert stored.is_file() and run.upload.name.startswith(f"imports/{cast.school.pk}/")
    assert "roll" not in run.upload.name  # stored under a random name, not the person's file name
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/s/{cast.school.slug}/pupils/import/{run.pk}/cancel/", follow=True)
    assert "Import cancelled" in response.content.decode()
    run.refresh_from_db()
    assert (run.status, run.upload.name, run.preview) == (ImportStatus.CANCELLED, "", [])
    assert not stored.exists()


def test_it_cancels_a_file_still_being_checked_and_the_check_then_writes_nothing(client, cast, upload):
    client.force_login(cast.head)
    upload(cast.school.slug, to_csv(SIMS_PUPIL_HEADERS, ROWS), checked=False)
    run = ImportRun.objects.get()
    client.post(f"/s/{cast.school.slug}/pupils/import/{run.pk}/cancel/")
    assert check_import_run.call_local(run.pk) is False
    run.refresh_from_db()
    assert run.status == ImportStatus.CANCELLED and run.preview == []
