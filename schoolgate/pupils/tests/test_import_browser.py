"""In real Chromium, on a phone and a laptop: upload an export, watch it being checked, read the preview, import."""

from __future__ import annotations

import pytest

from schoolgate.pupils import tasks
from schoolgate.pupils.models import ImportRun, ImportStatus, Pupil
from schoolgate.pupils.tests.exports import SIMS_PUPIL_HEADERS, pupil_rows, to_csv
from schoolgate.testing import browser_log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_NAME = "sims-export-all-pupils-on-roll-with-contacts-and-year-groups-autumn-term-2026-final-v2.csv"


def assert_no_sideways_scrolling(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide"


@pytest.mark.parametrize("width", [390, 1280])
def test_it_checks_previews_and_imports_a_file_through_the_page(page, cast, tmp_path, monkeypatch, width):
    page.set_viewport_size({"width": width, "height": 900})
    rows = pupil_rows(30)
    rows[0][5], rows[1][5] = "Y4", "R"  # written the way some exports write year groups
    export = tmp_path / LONG_NAME
    export.write_bytes(to_csv(SIMS_PUPIL_HEADERS, rows, encoding="cp1252"))
    checks, check_job = [], tasks.check_import_run
    monkeypatch.setattr(tasks, "check_import_run", checks.append)  # held, to see the page while it checks

    browser_log_in(page, cast.head, with_code=True)
    page.goto(f"/s/{cast.school.slug}/pupils/import/")
    assert "up to 5 MB" in page.content()
    assert_no_sideways_scrolling(page)
    page.get_by_label("CSV export").set_input_files(str(export))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_text("Checking every row of the file").wait_for()
    assert_no_sideways_scrolling(page)

    [run_id] = checks
    assert check_job.call_local(run_id) is True  # the job, as a worker would run it
    page.get_by_role("heading", name="Ready to import").wait_for()  # the polled fragment reloads the page
    assert page.get_by_role("heading", name="The first 20 rows as they will be stored").is_visible()
    preview = page.locator("table.import-preview tbody")
    assert "Year 4" in preview.inner_text() and "Reception" in preview.inner_text()
    assert "Y4" not in preview.inner_text()
    assert_no_sideways_scrolling(page)
    page.screenshot(path=str(tmp_path / f"preview-{width}.png"), full_page=True)
    assert not Pupil.objects.exists()

    page.get_by_role("button", name="Confirm and import").click()
    page.get_by_role("heading", name="Imported").wait_for()
    assert_no_sideways_scrolling(page)
    assert ImportRun.objects.get(pk=run_id).status == ImportStatus.APPLIED
    assert Pupil.objects.count() == 30
    page.screenshot(path=str(tmp_path / f"imported-{width}.png"), full_page=True)
