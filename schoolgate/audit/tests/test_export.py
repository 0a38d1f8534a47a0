"""Exporting the audit log: the export_audit command and the school's audit page /s/<slug>/audit/."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from schoolgate.audit.actions import log, verify_chain
from schoolgate.audit.exports import COLUMNS, PUPIL_DATA_HIDDEN, REDACTED
from schoolgate.audit.models import AuditEntry
from schoolgate.pupils.models import Pupil
from schoolgate.schools.models import Trust
from schoolgate.testing import make_school, make_user

LONDON = ZoneInfo("Europe/London")


def london(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON)


@pytest.fixture
def log_at(monkeypatch):
    """Write an entry as if log() ran at `when` (log() stamps entries with the current time)."""

    def _log_at(when: dt.datetime, action: str, **kwargs) -> AuditEntry:
        with monkeypatch.context() as patch:
            patch.setattr(timezone, "now", lambda: when)
            return log(action, **kwargs)

    return _log_at


@pytest.fixture
def pupil(cast):
    return Pupil.objects.create(
        school=cast.school, upn="A123456789012", legal_forename="Zebedee", legal_surname="Quokka"
    )


@pytest.fixture
def june(cast, log_at, pupil):
    """Entries around 10-12 June 2025 (British Summer Time, so London days start at 23:00 UTC)."""
    return {
        "before": log_at(london(2025, 6, 9, 23, 30), "test.before", actor=cast.head, school=cast.school),
        "first": log_at(
            london(2025, 6, 10, 0, 30),
            "test.first",
            actor=cast.head,
            school=cast.school,
            changes={"label": ["INSET", "Snow day"]},
        ),
        "restricted": log_at(
            london(2025, 6, 11, 12, 0),
            "concern.reported",
            actor=cast.dsl,
            target=pupil,
            detail={"concern": "bruising noticed"},
            restricted=True,
        ),
        "last": log_at(
            london(2025, 6, 12, 23, 30),
            "test.last",
            actor=cast.governor,
            school=cast.school,
            detail={"note": "end of the range"},
        ),
        "after": log_at(london(2025, 6, 13, 0, 30), "test.after", actor=cast.head, school=cast.school),
    }


def export(tmp_path, **options) -> str:
    target = tmp_path / "export.out"
    call_command("export_audit", output=str(target), **options)
    return target.read_bytes().decode("utf-8")  # as written: a CR inside a cell stays a CR


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


# The export_audit command


@pytest.mark.clause("AW-PUB-3")
def test_it_exports_csv_with_every_column(june, tmp_path):
    text = export(tmp_path, since="2025-06-10", until="2025-06-12", format="csv")

    assert next(csv.reader(io.StringIO(text))) == COLUMNS
    rows = csv_rows(text)
    assert [row["action"] for row in rows] == ["test.first", "concern.reported", "test.last"]
    first = rows[0]
    entry = june["first"]
    assert first["seq"] == str(entry.seq)
    assert first["at"] == entry.at.isoformat()
    assert first["actor_label"] == entry.actor_label
    assert first["school_id"] == str(entry.school_id)
    assert json.loads(first["changes"]) == {"label": ["INSET", "Snow day"]}
    assert json.loads(first["detail"]) == {}
    assert (first["prev_hash"], first["entry_hash"]) == (entry.prev_hash, entry.entry_hash)


@pytest.mark.clause("AW-PUB-3")
def test_it_exports_json_that_recomputes_to_the_chain(june, tmp_path):
    rows = json.loads(export(tmp_path, since="2025-06-10", until="2025-06-12", format="json"))

    assert [row["action"] for row in rows] == ["test.first", "concern.reported", "test.last"]
    assert rows[1]["detail"] == {"concern": "bruising noticed"}
    assert rows[1]["object_repr"] == "Zebedee Quokka"
    assert rows[1]["restricted"] is True
    # Everything needed to check the chain is in the file: each row links to the one before it.
    assert rows[1]["prev_hash"] == rows[0]["entry_hash"]
    assert rows[2]["prev_hash"] == rows[1]["entry_hash"]
    for row in rows:
        stored = AuditEntry.objects.get(seq=row["seq"])
        assert row["entry_hash"] == stored.entry_hash == stored.compute_hash()


def test_it_writes_to_standard_output_without_output(june, capsys):
    call_command("export_audit", since="2025-06-11", until="2025-06-11", format="json")

    rows = json.loads(capsys.readouterr().out)
    assert [row["action"] for row in rows] == ["concern.reported"]


def test_it_exports_csv_by_default(june, tmp_path):
    rows = csv_rows(export(tmp_path, since="2025-06-12", until="2025-06-12"))

    assert [row["action"] for row in rows] == ["test.last"]


def test_it_includes_both_end_days_in_the_schools_time_zone(june, tmp_path):
    # 00:30 on 10 June in London is 23:30 UTC on 9 June; 23:30 on 12 June is 22:30 UTC on the 12th.
    assert june["first"].at.astimezone(dt.UTC).day == 9

    rows = csv_rows(export(tmp_path, since="2025-06-10", until="2025-06-12"))

    actions = [row["action"] for row in rows]
    assert actions[0] == "test.first" and actions[-1] == "test.last"
    assert "test.before" not in actions and "test.after" not in actions


def test_it_exports_a_single_day(june, tmp_path):
    rows = csv_rows(export(tmp_path, since="2025-06-13", until="2025-06-13"))

    assert [row["action"] for row in rows] == ["test.after"]


def test_it_exports_an_empty_range_as_just_the_header(june, tmp_path):
    text = export(tmp_path, since="2024-01-01", until="2024-01-31")

    assert csv_rows(text) == []
    assert text.splitlines() == [",".join(COLUMNS)]


def test_it_filters_by_school(cast, log_at, tmp_path):
    other = make_school("Other School", slug="other-school")
    when = london(2025, 6, 10, 12, 0)
    ours = log_at(when, "test.ours", actor=cast.head, school=cast.school)
    log_at(when, "test.theirs", actor=other.head, school=other.school)
    log_at(when, "test.no_school", actor=None)

    rows = csv_rows(export(tmp_path, since="2025-06-10", until="2025-06-10", school=cast.school.slug))
    everything = csv_rows(export(tmp_path, since="2025-06-10", until="2025-06-10"))

    assert [(row["action"], row["school_id"]) for row in rows] == [("test.ours", str(ours.school_id))]
    assert [row["action"] for row in everything] == ["test.ours", "test.theirs", "test.no_school"]


@pytest.mark.clause("AW-PUB-3")
def test_it_redacts_restricted_entries_on_request(june, tmp_path):
    rows = json.loads(export(tmp_path, since="2025-06-10", until="2025-06-12", format="json", redact_restricted=True))

    restricted = rows[1]
    assert restricted["action"] == "concern.reported"
    assert (restricted["object_repr"], restricted["changes"], restricted["detail"]) == (REDACTED,) * 3
    # The hashes stay, so the redacted export can still be matched against the chain.
    assert restricted["entry_hash"] == june["restricted"].entry_hash
    assert rows[0]["changes"] == {"label": ["INSET", "Snow day"]}
    assert rows[2]["detail"] == {"note": "end of the range"}


def test_it_redacts_restricted_entries_in_csv(june, tmp_path):
    text = export(tmp_path, since="2025-06-10", until="2025-06-12", redact_restricted=True)

    assert "bruising" not in text and "Quokka" not in text
    restricted = csv_rows(text)[1]
    assert (restricted["object_repr"], restricted["changes"], restricted["detail"]) == (REDACTED,) * 3


@pytest.mark.parametrize("bad", ["2025-13-01", "10/06/2025", "yesterday", ""])
def test_it_rejects_a_bad_date_clearly(db, tmp_path, bad):
    with pytest.raises(CommandError, match="is not a date in the form YYYY-MM-DD"):
        export(tmp_path, since=bad, until="2025-06-12")
    with pytest.raises(CommandError, match="is not a date in the form YYYY-MM-DD"):
        export(tmp_path, since="2025-06-10", until=bad)
    assert not (tmp_path / "export.out").exists()


def test_it_rejects_a_range_that_ends_before_it_starts(db, tmp_path):
    with pytest.raises(CommandError, match="--until is before --since"):
        export(tmp_path, since="2025-06-12", until="2025-06-10")


def test_it_rejects_an_unknown_school(db, tmp_path):
    with pytest.raises(CommandError, match="No school with slug 'nowhere'"):
        export(tmp_path, since="2025-06-10", until="2025-06-12", school="nowhere")


def test_it_requires_both_dates(db):
    with pytest.raises(CommandError, match="--until"):
        call_command("export_audit", since="2025-06-10")


def test_it_rejects_an_unknown_format(db):
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("export_audit", "--since=2025-06-10", "--until=2025-06-12", "--format=xml")


# The audit page of a school


@pytest.fixture
def trust_admin(cast):
    trust = Trust.objects.create(name="Test Trust")
    cast.school.trust = trust
    cast.school.save(update_fields=["trust"])
    admin = make_user("Tess Trust", totp=True)
    trust.admins.add(admin)
    return admin


def audit_url(cast, **params) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"/s/{cast.school.slug}/audit/" + (f"?{query}" if query else "")


@pytest.mark.clause("AW-PUB-3")
@pytest.mark.parametrize("who", ["head", "chair", "governor"])
def test_it_shows_the_log_to_heads_and_governors(client, cast, who):
    log("test.visible", actor=cast.head, school=cast.school, detail={"note": "on the page"})
    client.force_login(getattr(cast, who))

    response = client.get(audit_url(cast))

    assert response.status_code == 200
    assert "test.visible" in response.content.decode()


def test_it_shows_the_log_to_a_trust_admin(client, cast, trust_admin):
    log("test.visible", actor=cast.head, school=cast.school)
    client.force_login(trust_admin)

    response = client.get(audit_url(cast))

    assert response.status_code == 200
    assert "test.visible" in response.content.decode()


@pytest.mark.parametrize("who", ["dsl", "deputy_dsl"])
def test_it_shows_restricted_entries_to_the_safeguarding_leads(client, cast, june, who):
    client.force_login(getattr(cast, who))

    page = client.get(audit_url(cast, since="2025-06-10", until="2025-06-12")).content.decode()

    assert "concern.reported" in page
    assert REDACTED not in page
    assert "Quokka" in page


@pytest.mark.parametrize("who", ["alice", "bob", "volunteer", "leader"])
def test_it_forbids_everyone_else(client, cast, who):
    client.force_login(getattr(cast, who))

    assert client.get(audit_url(cast)).status_code == 403


def test_it_forbids_staff_an_export_and_audits_nothing(client, cast):
    today = timezone.localdate()
    client.force_login(cast.alice)

    response = client.get(audit_url(cast, since=today, until=today, format="csv"))

    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="audit.exported").exists()


def test_it_forbids_the_head_of_another_school(client, cast):
    other = make_school("Other School")
    client.force_login(other.head)

    assert client.get(audit_url(cast)).status_code == 403


def test_it_sends_anonymous_visitors_to_log_in(client, cast):
    response = client.get(audit_url(cast))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_shows_only_this_schools_entries(client, cast):
    other = make_school("Other School")
    log("test.ours", actor=cast.head, school=cast.school)
    log("test.theirs", actor=other.head, school=other.school)
    client.force_login(cast.head)

    page = client.get(audit_url(cast)).content.decode()

    assert "test.ours" in page
    assert "test.theirs" not in page


def test_it_shows_the_chosen_date_range(client, cast, june):
    client.force_login(cast.head)

    page = client.get(audit_url(cast, since="2025-06-10", until="2025-06-12")).content.decode()

    assert "test.first" in page and "test.last" in page
    assert "test.before" not in page and "test.after" not in page


@pytest.mark.clause("AW-PUB-3")
def test_it_downloads_a_csv_export(client, cast, june):
    other = make_school("Other School")
    log("test.theirs", actor=other.head, school=other.school)
    client.force_login(cast.chair)

    response = client.get(audit_url(cast, since="2025-06-10", until="2025-06-12", format="csv"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == (
        f'attachment; filename="{cast.school.slug}-audit-2025-06-10-2025-06-12.csv"'
    )
    rows = csv_rows(response.content.decode())
    assert [row["action"] for row in rows] == ["test.first", "concern.reported", "test.last"]
    assert rows[0]["entry_hash"] == june["first"].entry_hash


@pytest.mark.clause("AW-PUB-3")
def test_it_downloads_a_json_export(client, cast, june):
    client.force_login(cast.head)

    response = client.get(audit_url(cast, since="2025-06-10", until="2025-06-12", format="json"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{cast.school.slug}-audit-2025-06-10-2025-06-12.json"'
    )
    rows = json.loads(response.content)
    assert [row["action"] for row in rows] == ["test.first", "concern.reported", "test.last"]
    assert rows[0]["changes"] == {"label": ["INSET", "Snow day"]}


def test_it_redacts_restricted_entries_on_the_page_for_a_governor(client, cast, june):
    client.force_login(cast.governor)

    page = client.get(audit_url(cast, since="2025-06-10", until="2025-06-12")).content.decode()

    assert "concern.reported" in page
    assert REDACTED in page
    assert "Quokka" not in page and "bruising" not in page


def test_it_shows_restricted_entries_on_the_page_to_the_head(client, cast, june):
    client.force_login(cast.head)

    page = client.get(audit_url(cast, since="2025-06-10", until="2025-06-12")).content.decode()

    assert "Zebedee Quokka" in page and "bruising noticed" in page
    assert REDACTED not in page


@pytest.mark.clause("AW-PUB-3")
def test_it_redacts_restricted_entries_in_a_governors_export(client, cast, june):
    client.force_login(cast.governor)

    response = client.get(audit_url(cast, since="2025-06-10", until="2025-06-12", format="json"))

    text = response.content.decode()
    assert "Quokka" not in text and "bruising" not in text
    restricted = next(row for row in json.loads(text) if row["action"] == "concern.reported")
    assert (restricted["object_repr"], restricted["changes"], restricted["detail"]) == (REDACTED,) * 3
    assert restricted["entry_hash"] == june["restricted"].entry_hash


@pytest.mark.clause("AW-PUB-3")
def test_it_shows_restricted_entries_in_the_heads_export(client, cast, june):
    client.force_login(cast.head)

    response = client.get(audit_url(cast, since="2025-06-10", until="2025-06-12", format="csv"))

    restricted = next(row for row in csv_rows(response.content.decode()) if row["action"] == "concern.reported")
    assert restricted["object_repr"] == "Zebedee Quokka"
    assert json.loads(restricted["detail"]) == {"concern": "bruising noticed"}


@pytest.mark.clause("AW-PUB-3")
@pytest.mark.parametrize(("who", "fmt", "restricted_shown"), [("governor", "csv", False), ("head", "json", True)])
def test_it_audits_every_export(client, cast, june, who, fmt, restricted_shown):
    person = getattr(cast, who)
    client.force_login(person)

    client.get(audit_url(cast, since="2025-06-10", until="2025-06-12", format=fmt))

    exported = AuditEntry.objects.get(action="audit.exported")
    assert exported.actor_id == person.pk
    assert exported.school_id == cast.school.pk
    assert exported.detail == {
        "format": fmt,
        "since": "2025-06-10",
        "until": "2025-06-12",
        "restricted_shown": restricted_shown,
        "pupils_shown": who == "head",
    }
    assert verify_chain().ok


def test_it_does_not_audit_browsing(client, cast, june):
    client.force_login(cast.head)

    client.get(audit_url(cast, since="2025-06-10", until="2025-06-12"))

    assert not AuditEntry.objects.filter(action="audit.exported").exists()


def test_it_refuses_a_backwards_range_without_exporting(client, cast, june):
    client.force_login(cast.head)

    response = client.get(audit_url(cast, since="2025-06-12", until="2025-06-10", format="csv"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "The end date is before the start date." in response.content.decode()
    assert not AuditEntry.objects.filter(action="audit.exported").exists()


# Cells a spreadsheet would run as formulas


FORMULAS = ['=HYPERLINK("http://evil.example/","Click")', "+SUM(1,2)", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"]


@pytest.fixture
def formulas(cast, log_at):
    when = london(2025, 6, 10, 12, 0)
    return [
        log_at(when, "test.formula", actor=formula, school=cast.school, detail={"note": formula})
        for formula in FORMULAS
    ]


def test_it_neutralises_formulas_in_every_csv_cell_of_the_command(formulas, tmp_path):
    rows = csv_rows(export(tmp_path, since="2025-06-10", until="2025-06-10"))

    assert [row["actor_label"] for row in rows] == ["'" + formula for formula in FORMULAS]
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values())


def test_it_neutralises_formulas_in_the_pages_csv_export(client, cast, formulas):
    client.force_login(cast.head)

    response = client.get(audit_url(cast, since="2025-06-10", until="2025-06-10", format="csv"))

    rows = csv_rows(response.content.decode())
    assert [row["actor_label"] for row in rows] == ["'" + formula for formula in FORMULAS]


def test_it_leaves_the_json_export_as_it_was_written(formulas, tmp_path):
    rows = json.loads(export(tmp_path, since="2025-06-10", until="2025-06-10", format="json"))

    assert [row["actor_label"] for row in rows] == FORMULAS


# Pupils' and carers' details, for readers without pupils.view


@pytest.fixture
def pupil_entries(cast, pupil):
    from schoolgate.pupils.actions.photo_consent import record_do_not_photograph

    today = timezone.localdate()
    record_do_not_photograph(pupil, by=cast.head, requested_by=None, requested_by_pupil=True, requested_on=today)
    log("media.face_tagged", actor=cast.alice, school=cast.school, changes={"pupil": [None, pupil.pk]})
    log("test.ordinary", actor=cast.head, school=cast.school, detail={"note": "nothing about pupils"})
    return today


def test_it_hides_pupils_details_on_the_page_from_a_governor(client, cast, pupil_entries):
    client.force_login(cast.governor)

    page = client.get(audit_url(cast)).content.decode()

    assert "pupils.do_not_photograph.recorded" in page and "media.face_tagged" in page
    assert "Quokka" not in page and "Do not photograph Zebedee" not in page
    assert PUPIL_DATA_HIDDEN in page
    assert "nothing about pupils" in page


def test_it_shows_pupils_details_on_the_page_to_the_head(client, cast, pupil_entries):
    client.force_login(cast.head)

    page = client.get(audit_url(cast)).content.decode()

    assert "Do not photograph Zebedee Quokka" in page
    assert PUPIL_DATA_HIDDEN not in page


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_it_hides_pupils_details_in_a_governors_export(client, cast, pupil_entries, fmt):
    client.force_login(cast.governor)
    today = pupil_entries.isoformat()

    response = client.get(audit_url(cast, since=today, until=today, format=fmt))

    text = response.content.decode()
    assert response.status_code == 200
    assert "Quokka" not in text and "Zebedee" not in text
    rows = csv_rows(text) if fmt == "csv" else json.loads(text)
    hidden = next(row for row in rows if row["action"] == "pupils.do_not_photograph.recorded")
    assert (hidden["object_repr"], hidden["detail"]) == (PUPIL_DATA_HIDDEN, PUPIL_DATA_HIDDEN)
    tagged = next(row for row in rows if row["action"] == "media.face_tagged")
    assert tagged["changes"] == PUPIL_DATA_HIDDEN
    # The hashes stay, so the redacted export can still be matched against the chain.
    assert hidden["entry_hash"] == AuditEntry.objects.get(action="pupils.do_not_photograph.recorded").entry_hash


def test_it_exports_what_a_given_reader_may_see(cast, pupil_entries, tmp_path):
    today = pupil_entries.isoformat()
    as_governor = export(tmp_path, since=today, until=today, school=cast.school.slug, reader=cast.governor.email)
    as_head = export(tmp_path, since=today, until=today, school=cast.school.slug, reader=cast.head.email)
    redacted = export(tmp_path, since=today, until=today, redact_pupils=True)

    assert "Quokka" not in as_governor and PUPIL_DATA_HIDDEN in as_governor
    assert "Zebedee Quokka" in as_head
    assert "Quokka" not in redacted


def test_it_hides_restricted_entries_from_a_given_reader(june, cast, tmp_path):
    text = export(tmp_path, since="2025-06-10", until="2025-06-12", school=cast.school.slug, reader=cast.governor.email)

    assert "bruising" not in text


def test_it_refuses_a_reader_who_may_not_read_the_log(cast, tmp_path):
    with pytest.raises(CommandError, match="may not read the audit log"):
        export(tmp_path, since="2025-06-10", until="2025-06-12", school=cast.school.slug, reader=cast.alice.email)
    with pytest.raises(CommandError, match="--reader needs --school"):
        export(tmp_path, since="2025-06-10", until="2025-06-12", reader=cast.head.email)


# Dates the page cannot use


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("2025-06-10", "9999-12-31", "Choose dates between 01/01/2000 and 31/12/2099."),
        ("0001-01-01", "2025-06-10", "Choose dates between 01/01/2000 and 31/12/2099."),
        ("2025-06-10", "2025-02-30", "Enter a valid date."),
        ("2025-06-10", "99999-01-01", "Enter a valid date."),
    ],
)
@pytest.mark.parametrize("fmt", ["", "csv"])
def test_it_refuses_dates_it_cannot_use_with_a_clear_message(client, cast, since, until, message, fmt):
    client.force_login(cast.head)

    response = client.get(audit_url(cast, since=since, until=until, format=fmt))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert message in response.content.decode()
    assert not AuditEntry.objects.filter(action="audit.exported").exists()


def test_it_refuses_a_date_out_of_range_in_the_command(db, tmp_path):
    with pytest.raises(CommandError, match="Choose dates between"):
        export(tmp_path, since="2025-06-10", until="9999-12-31")
