"""verify_chain() and the verify_audit command: an intact log passes, any out-of-band change is named."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from schoolgate.audit.actions import log, verify_chain
from schoolgate.audit.keys import current_key_id
from schoolgate.audit.models import AuditEntry


@pytest.fixture
def chain(cast):
    """Five entries, as a school's actions would write them."""
    entries = [
        log("school.member.added", actor=cast.head, target=cast.school, detail={"user": cast.alice.email}),
        log("policy.version.approved", actor=cast.chair, target=cast.policy, detail={"role": "chair"}),
        log(
            "concern.reported",
            actor=cast.alice,
            school=cast.school,
            detail={"about": "a pupil"},
            restricted=True,
        ),
        log("school.closure.added", actor=cast.leader, school=cast.school, changes={"label": [None, "INSET"]}),
        log("audit.exported", actor=cast.governor, school=cast.school, detail={"format": "csv"}),
    ]
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    return entries


def _sql(statement: str, params: list) -> None:
    # Straight to the database, past every guard in the application, as anyone with database access could.
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _verify_command() -> str:
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def test_it_passes_an_empty_log(db):
    report = verify_chain()

    assert report.ok
    assert report.checked == 0


@pytest.mark.clause("AW-PUB-3")
def test_it_passes_an_intact_chain(chain):
    report = verify_chain()

    assert report.ok
    assert report.checked == 5
    assert report.first_bad_seq is None
    assert report.problem == ""


@pytest.mark.clause("AW-PUB-3")
def test_it_catches_an_action_changed_with_raw_sql(chain):
    _sql("UPDATE audit_auditentry SET action = %s WHERE seq = %s", ["policy.version.rejected", 2])

    report = verify_chain()

    assert not report.ok
    assert report.first_bad_seq == 2
    assert report.problem == "entry #2 was changed after it was written"
    assert report.checked == 1


@pytest.mark.clause("AW-PUB-3")
@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor_label", "Someone Else <someone@example.org>"),
        ("object_repr", "a different object"),
        ("restricted", False),
        ("prev_hash", "0" * 64),
    ],
)
def test_it_catches_any_hashed_column_changed_with_raw_sql(chain, column, value):
    _sql(f"UPDATE audit_auditentry SET {column} = %s WHERE seq = %s", [value, 3])

    report = verify_chain()

    assert not report.ok
    assert report.first_bad_seq == 3


@pytest.mark.clause("AW-PUB-3")
def test_it_catches_an_edit_whose_hash_was_recomputed_at_the_next_entry(chain):
    # A forger who rewrites a row and its hash still breaks the link from the entry after it.
    forged = AuditEntry.objects.get(seq=2)
    forged.action = "policy.version.rejected"
    _sql(
        "UPDATE audit_auditentry SET action = %s, entry_hash = %s WHERE seq = %s",
        [forged.action, forged.compute_hash(), 2],
    )

    report = verify_chain()

    assert not report.ok
    assert report.first_bad_seq == 3
    assert report.problem == "entry #3 does not follow entry #2"


@pytest.mark.clause("AW-PUB-3")
def test_it_catches_the_last_entry_rewritten_with_a_recomputed_hash(chain):
    forged = AuditEntry.objects.get(seq=5)
    forged.detail = {"format": "json"}
    _sql(
        "UPDATE audit_auditentry SET detail = %s, entry_hash = %s WHERE seq = %s",
        ['{"format": "json"}', forged.compute_hash(), 5],
    )
    assert AuditEntry.objects.get(seq=5).compute_hash() == AuditEntry.objects.get(seq=5).entry_hash

    report = verify_chain()

    assert not report.ok
    assert report.first_bad_seq == 5
    assert report.problem == (
        "entry #5 does not match the chain head (the entry or the head was changed after it was written)"
    )
    assert report.checked == 4


@pytest.mark.clause("AW-PUB-3")
def test_it_catches_a_chain_head_changed_with_raw_sql(chain):
    _sql("UPDATE audit_chainhead SET last_hash = %s", ["f" * 64])

    report = verify_chain()

    assert not report.ok
    assert report.first_bad_seq == 5


def test_it_catches_a_chain_head_left_behind_by_an_emptied_log(db):
    _sql("INSERT INTO audit_chainhead (id, last_seq, last_hash) VALUES (%s, %s, %s)", [1, 0, "f" * 64])

    report = verify_chain()

    assert not report.ok
    assert "the chain head was changed" in report.problem


@pytest.mark.clause("AW-PUB-3")
def test_it_catches_an_entry_deleted_from_the_middle(chain):
    _sql("DELETE FROM audit_auditentry WHERE seq = %s", [3])

    report = verify_chain()

    assert not report.ok
    assert report.first_bad_seq == 3
    assert report.problem == "entry #3 is missing (deleted)"
    assert report.checked == 2


@pytest.mark.clause("AW-PUB-3")
def test_it_catches_the_first_entry_deleted(chain):
    _sql("DELETE FROM audit_auditentry WHERE seq = %s", [1])

    report = verify_chain()

    assert not report.ok
    assert report.first_bad_seq == 1
    assert report.problem == "entry #1 is missing (deleted)"


@pytest.mark.clause("AW-PUB-3")
def test_it_catches_entries_deleted_from_the_tail(chain):
    _sql("DELETE FROM audit_auditentry WHERE seq >= %s", [4])

    report = verify_chain()

    assert not report.ok
    assert report.first_bad_seq == 4
    assert report.problem.startswith("entries after #3 are missing (deleted)")
    assert "the chain head records #5" in report.problem
    assert report.checked == 3


@pytest.mark.clause("AW-PUB-3")
def test_it_catches_the_whole_log_deleted(chain):
    _sql("DELETE FROM audit_auditentry", [])

    report = verify_chain()

    assert not report.ok
    assert report.first_bad_seq == 1
    assert report.problem.startswith("entries after #0 are missing (deleted)")


@pytest.mark.clause("AW-PUB-3")
def test_it_catches_an_entry_inserted_out_of_band(chain):
    # A well-formed entry appended without going through log(): the chain head never moved.
    # Even signed with the real audit key.
    last = chain[-1]
    forged = AuditEntry(
        seq=6,
        at=last.at,
        actor_label="system",
        action="policy.version.approved",
        prev_hash=last.entry_hash,
        key_id=current_key_id(),
    )
    forged.entry_hash = forged.compute_hash()
    AuditEntry.objects.bulk_create([forged])

    report = verify_chain()

    assert not report.ok
    assert report.first_bad_seq == 6
    assert report.problem == "entry #6 was inserted out of band; the chain head records #5"


@pytest.mark.clause("AW-PUB-3")
def test_it_names_the_first_of_several_bad_entries(chain):
    _sql("UPDATE audit_auditentry SET action = %s WHERE seq = %s", ["forged", 4])
    _sql("UPDATE audit_auditentry SET action = %s WHERE seq = %s", ["forged", 2])

    assert verify_chain().first_bad_seq == 2


@pytest.mark.clause("AW-PUB-3")
def test_it_keeps_verifying_after_later_appends(chain, cast):
    log("school.closure.removed", actor=cast.head, school=cast.school)

    report = verify_chain()

    assert report.ok
    assert report.checked == 6


def test_it_reports_an_intact_chain_from_the_command(chain):
    lines = _verify_command().splitlines()

    assert lines[0] == "Audit chain intact: 5 entries verified."
    assert lines[1] == f"Checkpoint written: entry #5, head {chain[-1].entry_hash}."


@pytest.mark.clause("AW-PUB-3")
def test_it_exits_non_zero_naming_a_changed_entry(chain):
    _sql("UPDATE audit_auditentry SET action = %s WHERE seq = %s", ["policy.version.rejected", 2])

    with pytest.raises(CommandError) as failure:
        _verify_command()

    assert failure.value.returncode != 0
    assert "entry #2 was changed after it was written" in str(failure.value)
    assert "1 entries verified before it" in str(failure.value)


@pytest.mark.clause("AW-PUB-3")
def test_it_exits_non_zero_naming_a_deleted_entry(chain):
    _sql("DELETE FROM audit_auditentry WHERE seq = %s", [4])

    with pytest.raises(CommandError) as failure:
        _verify_command()

    assert failure.value.returncode != 0
    assert "entry #4 is missing (deleted)" in str(failure.value)


@pytest.mark.clause("AW-PUB-3")
def test_it_exits_non_zero_when_the_tail_is_deleted(chain):
    _sql("DELETE FROM audit_auditentry WHERE seq = %s", [5])

    with pytest.raises(CommandError) as failure:
        _verify_command()

    assert failure.value.returncode != 0
    assert "entries after #4 are missing (deleted)" in str(failure.value)


def _tampered(column: str, value):
    """A different value of the same type for a column, valid enough for the database to store."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1000
    if isinstance(value, dt.datetime):
        return value + dt.timedelta(seconds=1)
    if column in {"changes", "detail"}:
        return json.dumps({"tampered": True})
    if column in {"prev_hash", "entry_hash"}:
        return ("f" if value[0] != "f" else "e") + value[1:]
    return (value[:-1] + ("x" if value[-1:] != "x" else "y")) if value else "x"


# Every column of the table but the row id, read from the model, so a column added later is tampered with too.
STORED_COLUMNS = [f.column for f in AuditEntry._meta.concrete_fields if not f.primary_key]


@pytest.mark.clause("AW-PUB-3")
@pytest.mark.parametrize("column", STORED_COLUMNS)
def test_it_catches_every_stored_column_changed_with_raw_sql(chain, column):
    entry = chain[2]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM audit_auditentry WHERE seq = %s", [entry.seq])  # noqa: S608
        (value,) = cursor.fetchone()
    if column == "at" and isinstance(value, str):  # SQLite hands datetimes back as text
        value = dt.datetime.fromisoformat(value)
    if column == "restricted":
        value = bool(value)
    _sql(f"UPDATE audit_auditentry SET {column} = %s WHERE seq = %s", [_tampered(column, value), entry.seq])  # noqa: S608

    report = verify_chain()

    assert not report.ok, f"changing {column} went unnoticed"
    assert report.first_bad_seq == entry.seq


def test_it_tampers_with_the_columns_that_matter():
    # The list above is read from the model; make sure it really covers the decision's content.
    assert {"seq", "at", "changes", "detail", "actor_id", "school_id", "hash_version", "key_id"} <= set(STORED_COLUMNS)


@pytest.mark.clause("AW-PUB-3")
def test_it_reports_a_deleted_chain_head_as_broken(chain):
    _sql("DELETE FROM audit_chainhead", [])

    report = verify_chain()

    assert not report.ok
    assert report.problem.startswith("the chain head is missing (deleted)")
    with pytest.raises(CommandError, match="the chain head is missing"):
        _verify_command()
