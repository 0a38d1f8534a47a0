"""Signed checkpoints outside the database: the hourly job, verify_audit's checkpoint, and truncation found by them."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from schoolgate.audit.actions import chain_anchor, log, verify_chain
from schoolgate.audit.checkpoints import read_checkpoints
from schoolgate.audit.keys import current_key_id
from schoolgate.audit.models import AuditEntry
from schoolgate.audit.tasks import checkpoint_audit_chain


@pytest.fixture
def chain(cast):
    return [log(f"test.step.{n}", actor=cast.head, school=cast.school) for n in range(1, 6)]


def _sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, list(params))


def _verify_command() -> str:
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def _truncate_to(seq: int) -> None:
    """Cut the log after `seq` and point the head at what is left, as someone covering their tracks would."""
    last = AuditEntry.objects.get(seq=seq)
    _sql("DELETE FROM audit_auditentry WHERE seq > %s", [seq])
    _sql("UPDATE audit_chainhead SET last_seq = %s, last_hash = %s", [seq, last.entry_hash])


@pytest.mark.clause("AW-PUB-3")
def test_it_writes_a_signed_checkpoint_at_each_verification(chain, checkpoint_file):
    output = _verify_command()

    (checkpoint,) = read_checkpoints()
    assert (checkpoint.seq, checkpoint.head_hash) == (5, chain[-1].entry_hash)
    assert checkpoint.key_id == current_key_id() and len(checkpoint.signature) == 64
    assert checkpoint.taken_at.tzinfo is not None
    assert f"Checkpoint written: entry #5, head {chain[-1].entry_hash}." in output
    assert checkpoint_file.stat().st_mode & 0o777 == 0o600
    assert len(_verify_command().splitlines()) >= 3  # the second run also says it matched the first checkpoint
    assert len(read_checkpoints()) == 2


@pytest.mark.clause("AW-PUB-3")
def test_it_catches_a_truncated_log_whose_head_was_moved_back(chain):
    _verify_command()
    _truncate_to(3)

    report = verify_chain()

    assert not report.ok
    assert report.first_bad_seq == 4
    assert report.problem.startswith("the log ends at entry #3 but the checkpoint of ")
    assert "recorded #5: entries were deleted or the database was rolled back" in report.problem
    with pytest.raises(CommandError, match="the checkpoint of .* recorded #5"):
        _verify_command()


@pytest.mark.clause("AW-PUB-3")
def test_it_catches_the_whole_log_and_its_head_deleted(chain):
    _verify_command()
    _sql("DELETE FROM audit_auditentry")
    _sql("DELETE FROM audit_chainhead")

    report = verify_chain()

    assert not report.ok
    assert "recorded #5" in report.problem


@pytest.mark.clause("AW-PUB-3")
def test_it_catches_a_database_rolled_back_to_before_the_checkpoint(chain, cast):
    _verify_command()
    # The database goes back to a copy taken at #3, and work carries on: #4 and #5 come again, different.
    _truncate_to(3)
    log("test.after_rollback", actor=cast.head, school=cast.school)
    log("test.after_rollback", actor=cast.head, school=cast.school)

    report = verify_chain()

    assert not report.ok
    assert report.first_bad_seq == 5
    assert "entry #5 differs from the checkpoint of" in report.problem


@pytest.mark.clause("AW-PUB-3")
def test_it_catches_an_altered_checkpoint_file(chain, checkpoint_file):
    _verify_command()
    line = json.loads(checkpoint_file.read_text())
    line["seq"] = 3
    checkpoint_file.write_text(json.dumps(line) + "\n")

    report = verify_chain()

    assert not report.ok
    assert report.problem == (
        "the checkpoint file was altered: line 1 of the checkpoint file is not signed by the audit key"
    )
    assert chain_anchor().checkpoint_problem


def test_it_does_not_write_a_checkpoint_of_a_broken_log(chain, checkpoint_file):
    _sql("UPDATE audit_auditentry SET action = 'test.forged' WHERE seq = 2")

    with pytest.raises(CommandError):
        _verify_command()

    assert not checkpoint_file.exists()


@pytest.mark.clause("AW-PUB-3")
def test_it_checkpoints_every_hour_only_what_follows_the_last_checkpoint(chain, cast, caplog):
    checkpoint_audit_chain.call_local()
    checkpoint_audit_chain.call_local()  # nothing new: nothing written
    assert [c.seq for c in read_checkpoints()] == [5]

    log("test.more", actor=cast.head, school=cast.school)
    checkpoint_audit_chain.call_local()
    assert [c.seq for c in read_checkpoints()] == [5, 6]

    # A truncated log is never anchored: that would hide the truncation.
    _truncate_to(4)
    with caplog.at_level(logging.ERROR, logger="schoolgate.audit.actions"):
        checkpoint_audit_chain.call_local()
    assert [c.seq for c in read_checkpoints()] == [5, 6]
    assert "Audit checkpoint not written" in caplog.text


def test_it_does_not_checkpoint_entries_changed_since_the_last_checkpoint(chain, cast):
    checkpoint_audit_chain.call_local()
    log("test.more", actor=cast.head, school=cast.school)
    _sql("UPDATE audit_auditentry SET action = 'test.forged' WHERE seq = 6")

    checkpoint_audit_chain.call_local()

    assert [c.seq for c in read_checkpoints()] == [5]


def test_it_runs_the_checkpoint_job_every_hour():
    from huey.contrib.djhuey import HUEY

    # Huey's scheduler asks each periodic task, minute by minute, whether it is due (naive UTC times).
    minutes = [dt.datetime(2026, 1, 1, 9, 0) + dt.timedelta(minutes=m) for m in range(120)]  # noqa: DTZ001
    due = [m for m in minutes if "checkpoint_audit_chain" in {t.name for t in HUEY.read_periodic(m)}]
    assert len(due) == 2 and due[1] - due[0] == dt.timedelta(hours=1)


@pytest.mark.clause("AW-PUB-3")
@pytest.mark.parametrize("who", ["head", "governor"])
def test_it_shows_the_head_and_the_last_checkpoint_on_the_audit_page(client, cast, chain, who):
    _verify_command()
    client.force_login(getattr(cast, who))

    page = client.get(f"/s/{cast.school.slug}/audit/").content.decode()

    assert f"Newest entry: #{chain[-1].seq}" in page
    assert chain[-1].entry_hash in page
    assert "Last checkpoint, kept outside the database: entry #5 on " in page


def test_it_says_when_no_checkpoint_was_written_yet(client, cast, chain):
    client.force_login(cast.head)

    page = client.get(f"/s/{cast.school.slug}/audit/").content.decode()

    assert "No checkpoint has been written outside the database yet" in page


def test_it_gives_the_anchor_for_the_governors_report(chain):
    assert chain_anchor().checkpoint is None
    _verify_command()

    anchor = chain_anchor()

    assert (anchor.seq, anchor.head_hash) == (5, chain[-1].entry_hash)
    assert (anchor.checkpoint.seq, anchor.checkpoint.head_hash) == (5, chain[-1].entry_hash)
