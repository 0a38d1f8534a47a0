"""Property-based tests of the CSV import: any file gives a clear result or a clear refusal, never a half-write."""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from schoolgate.pupils import imports
from schoolgate.pupils.models import Carer, CarerLink, ImportRun, ImportStatus, Pupil
from schoolgate.pupils.tests.exports import SIMS_CONTACT_HEADERS, SIMS_PUPIL_HEADERS

TODAY = dt.date(2026, 3, 2)
# Each example reads a file and, for the database properties, runs the check and apply jobs: kept moderate.
FAST = settings(max_examples=150, deadline=None)
WITH_DB = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "utf-16", "latin-1", "utf-32", "shift_jis"]
ALIASES = sorted({alias for spec in (*imports.PUPIL_FIELDS, *imports.CONTACT_FIELDS) for alias in spec.aliases})

cell_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "Y4", "Reception", "01/02/2015", "2015-02-01", "31/02/2015", "Y", "N", "a@b.org", "A1", "A2"]),
    st.text(alphabet='",;\t|\r\n\x00\ufeff ', max_size=10),  # separators, quotes, line breaks, NULs, BOMs
    st.builds(lambda c, n: c * n, st.sampled_from(["x", "é", '"']), st.integers(100, 200_000)),  # huge fields
)


@st.composite
def csv_files(draw) -> bytes:
    """Header rows of real and invented column names, missing or extra columns, in any encoding and separator."""
    headers = draw(
        st.one_of(
            st.just(SIMS_PUPIL_HEADERS),
            st.just(SIMS_CONTACT_HEADERS),
            st.lists(st.one_of(st.sampled_from(ALIASES), st.text(max_size=15)), max_size=10),
        )
    )
    headers = draw(st.permutations(headers)) if draw(st.booleans()) else headers
    rows = draw(
        st.lists(st.lists(cell_text, min_size=0, max_size=len(headers) + 2), max_size=8)
    )  # rows shorter and longer than the header
    out = io.StringIO(newline="")
    delimiter = draw(st.sampled_from([",", ";", "\t", "|", " "]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONE]))
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting, escapechar="\\", lineterminator="\r\n")
    try:
        writer.writerow(headers)
        writer.writerows(rows)
    except csv.Error:
        assume(False)
    text = out.getvalue()
    data = text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")
    if draw(st.booleans()):
        data = draw(st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\x00"])) + data
    if draw(st.booleans()) and data:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=8)) + data[at:]  # a few stray bytes anywhere
    return data


names = st.text(alphabet=st.characters(categories=["L"], include_characters=" '-"), min_size=1, max_size=20)


@st.composite
def good_files(draw) -> bytes:
    """Files that should import: real headers, well-formed rows (names in any script), any accepted encoding."""
    kind = draw(st.sampled_from(["pupils", "contacts"]))
    upns = draw(st.lists(st.sampled_from(["A1", "A2", "B3", "C4", "D5"]), unique=True, min_size=1, max_size=5))
    if kind == "pupils":
        years = st.sampled_from(["Y4", "Year 4", "4", "R", "Reception", "N1", "L6", ""])
        dates = st.dates(dt.date(2005, 1, 1), TODAY).map(lambda d: f"{d:%d/%m/%Y}")
        rows = [[upn, draw(names), draw(names), "", draw(dates), draw(years), "4A"] for upn in upns]
        headers = SIMS_PUPIL_HEADERS
    else:
        rows = [[draw(names), "Parent", draw(st.sampled_from(["Y", "N"])), "", "07700 900123", "A1"]]
        headers = SIMS_CONTACT_HEADERS
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=draw(st.sampled_from([",", ";", "\t"])), lineterminator="\r\n").writerows(
        [headers, *rows]
    )
    return out.getvalue().encode(draw(st.sampled_from(["utf-8", "utf-8-sig"])))


def _check_result(result: imports.ImportResult) -> None:
    assert result.ok or result.problems
    for problem in [*result.problems, *result.warnings]:
        assert isinstance(problem.message, str) and problem.message
        assert "Traceback" not in problem.message and "Error(" not in problem.message
        assert not imports.CONTROL_CHARACTERS.search(problem.message)  # quoted values are shown safely
    if result.ok:
        for row in result.rows:
            for spec in imports.fields_for(result.kind):
                value = row.get(spec.name)
                if isinstance(value, str):
                    assert len(value) <= spec.max_length and not imports.CONTROL_CHARACTERS.search(value)


@FAST
@given(st.binary(max_size=2000), st.sampled_from([imports.PUPILS, imports.CONTACTS]))
def test_it_gives_a_clear_result_or_refusal_for_any_bytes(data, kind):
    _check_result(imports.parse(kind, data, known_upns={"A1", "A2"}, today=TODAY))


@FAST
@given(csv_files(), st.sampled_from([imports.PUPILS, imports.CONTACTS]))
def test_it_gives_a_clear_result_or_refusal_for_any_csv_shaped_file(data, kind):
    _check_result(imports.parse(kind, data, known_upns={"A1", "A2"}, today=TODAY))


def _snapshot() -> tuple:
    return (
        list(Pupil.objects.order_by("pk").values()),
        list(Carer.objects.order_by("pk").values()),
        list(CarerLink.objects.order_by("pk").values()),
    )


@WITH_DB
@given(data=st.one_of(good_files(), csv_files(), st.binary(max_size=500)), kind=st.sampled_from(["pupils", "contacts"]))
def test_it_never_fails_on_the_page_and_writes_all_or_nothing(
    client, cast, django_capture_on_commit_callbacks, data, kind
):
    client.force_login(cast.head)
    slug = cast.school.slug
    if not Pupil.objects.filter(upn="A1").exists():
        Pupil.objects.create(school=cast.school, upn="A1", legal_forename="Ann", legal_surname="Lee")
    before = _snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/s/{slug}/pupils/import/", {"kind": kind, "file": SimpleUploadedFile("x.csv", data, "text/csv")}
        )
    if response.status_code == 200:  # refused by the form (an empty file): said on the page
        assert "errorlist" in response.content.decode()
        assert _snapshot() == before
        return
    assert response.status_code == 302
    run = ImportRun.objects.latest("pk")
    event(f"checked: {run.status}")
    assert run.status in {ImportStatus.VALIDATED, ImportStatus.INVALID}
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert _snapshot() == before  # checking writes nothing
    if run.status == ImportStatus.INVALID:
        assert run.problems and "Confirm and import" not in page.content.decode()
        return
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(f"/s/{slug}/pupils/import/{run.pk}/confirm/")
    assert confirmed.status_code == 302
    run.refresh_from_db()
    assert run.status == ImportStatus.APPLIED, run.problems
    event(f"applied {kind}: {'rows' if run.rows else 'none'}")
    assert client.get(f"/s/{slug}/pupils/import/{run.pk}/").status_code == 200
    after = _snapshot()
    if kind == "pupils":
        assert len(after[0]) == len(before[0]) + run.created_count
    else:
        assert len(after[1]) == len(before[1]) + run.created_count
        assert len(after[2]) == len(before[2]) + run.links_count
