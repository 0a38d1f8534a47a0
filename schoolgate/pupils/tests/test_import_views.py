"""The import pages: upload, problems by line and column, columns, confirmation, progress, and the pupil list."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from schoolgate.pupils import actions
from schoolgate.pupils.models import ImportRun, ImportStatus, Pupil
from schoolgate.pupils.tests.exports import SIMS_PUPIL_HEADERS, to_csv

ROWS = [
    ["A1", "Zoë", "Jones", "", "01/02/2015", "Year 5", "5B"],
    ["A2", "Siân", "Evans", "", "04/03/2015", "Year 5", "5A"],
    ["A3", "Oliver", "Smith", "", "05/06/2016", "Year 4", "4A"],
]


def upload(client, slug, data, *, kind="pupils", name="roll.csv"):
    return client.post(
        f"/s/{slug}/pupils/import/", {"kind": kind, "file": SimpleUploadedFile(name, data, "text/csv")}, follow=True
    )


def test_it_walks_through_upload_confirmation_progress_and_the_list(client, cast, django_capture_on_commit_callbacks):
    client.force_login(cast.head)
    slug = cast.school.slug
    page = upload(client, slug, to_csv(SIMS_PUPIL_HEADERS, ROWS, encoding="cp1252")).content.decode()
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


def test_it_shows_problems_by_line_and_column_and_writes_nothing(client, cast):
    client.force_login(cast.head)
    bad = [*ROWS, ["A1", "Ann", "Lee", "", "31/02/2015", "", ""]]
    page = upload(client, cast.school.slug, to_csv(SIMS_PUPIL_HEADERS, bad)).content.decode()
    assert "2 problems — nothing has been written" in page
    assert "<td>5</td><td>DOB</td><td>&#x27;31/02/2015&#x27; is not a date (expected dd/mm/yyyy).</td>" in page
    assert "UPN &#x27;A1&#x27; is also on line 2" in page
    assert "Confirm and import" not in page
    assert not Pupil.objects.exists()


def test_it_lets_the_person_choose_columns_and_checks_again(client, cast):
    client.force_login(cast.head)
    data = to_csv(["Ref", "Given", "Family"], [["A1", "Ann", "Lee"]])
    page = upload(client, cast.school.slug, data).content.decode()
    assert "No column for UPN or admission number" in page
    run = ImportRun.objects.get()
    response = client.post(
        f"/s/{cast.school.slug}/pupils/import/{run.pk}/",
        {"upn": "Ref", "legal_forename": "Given", "legal_surname": "Family"},
        follow=True,
    )
    assert "Ready to import" in response.content.decode()
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
    assert "Checking rows again (2 of 3)" in fragment
    assert '<progress max="6" value="2"' in fragment


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


def test_it_keeps_pupil_pages_from_people_without_the_permission(client, cast):
    client.force_login(cast.alice)
    assert client.get(f"/s/{cast.school.slug}/pupils/").status_code == 403
    assert upload(client, cast.school.slug, to_csv(SIMS_PUPIL_HEADERS, ROWS)).status_code == 403
    assert not ImportRun.objects.exists()


def test_it_cancels_and_discards_an_unconfirmed_file(client, cast):
    client.force_login(cast.head)
    upload(client, cast.school.slug, to_csv(SIMS_PUPIL_HEADERS, ROWS))
    run = ImportRun.objects.get()
    response = client.post(f"/s/{cast.school.slug}/pupils/import/{run.pk}/cancel/", follow=True)
    assert "Import cancelled" in response.content.decode()
    run.refresh_from_db()
    assert (run.status, run.content) == (ImportStatus.CANCELLED, "")
