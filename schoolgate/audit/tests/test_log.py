"""audit.log(): contiguous, hash-chained, transactional, append-only entries; and diff()."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from schoolgate.audit.actions import HEAD_REBUILT, diff, log, verify_chain
from schoolgate.audit.checkpoints import append_checkpoint
from schoolgate.audit.models import GENESIS_HASH, AppendOnlyError, AuditEntry, ChainHead
from schoolgate.schools.models import Closure
from schoolgate.testing import make_school


def _last_seq() -> int:
    head = ChainHead.objects.filter(pk=1).first()
    return head.last_seq if head else 0


def _closure(cast, label="INSET day") -> Closure:
    today = timezone.localdate()
    return Closure.objects.create(school=cast.school, starts_on=today, ends_on=today, label=label)


@pytest.mark.clause("AW-PUB-3")
def test_it_appends_entries_with_contiguous_seq(cast):
    before = _last_seq()

    entries = [log(f"test.step.{n}", actor=cast.head, school=cast.school) for n in range(4)]

    assert [e.seq for e in entries] == [before + 1, before + 2, before + 3, before + 4]
    stored = list(AuditEntry.objects.filter(seq__gt=before).values_list("seq", "action"))
    assert stored == [(before + n + 1, f"test.step.{n}") for n in range(4)]
    head = ChainHead.objects.get(pk=1)
    assert head.last_seq == before + 4


@pytest.mark.clause("AW-PUB-3")
def test_it_links_each_entry_to_the_previous_entry_hash(cast):
    first = log("test.first", actor=cast.head, school=cast.school)
    second = log("test.second", actor=cast.head, school=cast.school)
    third = log("test.third", actor=cast.head, school=cast.school)

    if first.seq == 1:
        assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.entry_hash
    assert third.prev_hash == second.entry_hash
    assert len({first.entry_hash, second.entry_hash, third.entry_hash}) == 3
    head = ChainHead.objects.get(pk=1)
    assert (head.last_seq, head.last_hash) == (third.seq, third.entry_hash)


def test_it_starts_an_empty_log_from_the_genesis_hash(cast):
    assert not AuditEntry.objects.exists()

    entry = log("test.first", actor=cast.head)

    assert entry.seq == 1
    assert entry.prev_hash == GENESIS_HASH


def test_it_stores_a_hash_that_matches_the_row_as_read_back(cast):
    # Dates and datetimes in the detail are normalised to JSON before hashing, so the hash of the
    # row read back from the database equals the hash written.
    entry = log(
        "test.dated",
        actor=cast.head,
        school=cast.school,
        detail={"starts_on": dt.date(2025, 6, 10), "at": dt.datetime(2025, 6, 10, 9, 30, tzinfo=dt.UTC)},
        changes={"label": ["old", "new"]},
    )

    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.detail == {"starts_on": "2025-06-10", "at": "2025-06-10T09:30:00Z"}
    assert stored.compute_hash() == stored.entry_hash == entry.entry_hash
    assert verify_chain().ok


def test_it_records_actor_school_object_changes_and_detail(cast):
    closure = _closure(cast, label="Snow day")

    entry = log(
        "school.closure.changed",
        actor=cast.head,
        target=closure,
        changes={"label": ["INSET day", "Snow day"]},
        detail={"reason": "weather"},
    )

    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.action == "school.closure.changed"
    assert stored.actor_id == cast.head.pk
    assert stored.actor_label == f"Hannah Head <{cast.head.email}>"
    assert stored.school_id == cast.school.pk
    assert stored.object_type == "schools.closure"
    assert stored.object_id == str(closure.pk)
    assert stored.object_repr == str(closure)
    assert stored.changes == {"label": ["INSET day", "Snow day"]}
    assert stored.detail == {"reason": "weather"}
    assert stored.restricted is False
    assert stored.at.tzinfo is not None


def test_it_marks_restricted_entries(cast):
    entry = log("concern.reported", actor=cast.dsl, school=cast.school, detail={"pupil": "A"}, restricted=True)

    assert AuditEntry.objects.get(pk=entry.pk).restricted is True


def test_it_labels_entries_without_a_logged_in_actor(cast):
    by_system = log("test.system", actor=None, school=cast.school)
    by_worker = log("test.worker", actor="huey worker", school=cast.school)

    assert (by_system.actor_id, by_system.actor_label) == (None, "system")
    assert (by_worker.actor_id, by_worker.actor_label) == (None, "huey worker")


def test_it_keeps_the_actor_label_after_the_person_is_renamed(cast):
    entry = log("test.named", actor=cast.alice, school=cast.school)
    cast.alice.full_name = "Alice Renamed"
    cast.alice.save(update_fields=["full_name"])

    assert AuditEntry.objects.get(pk=entry.pk).actor_label.startswith("Alice Staff <")


def test_it_truncates_a_long_object_repr(cast):
    closure = _closure(cast, label="x" * 120)
    closure.label = "y" * 400  # __str__ longer than the column; only the repr is cut, not the log call

    entry = log("test.long", actor=cast.head, target=closure)

    assert len(entry.object_repr) == 300
    assert AuditEntry.objects.get(pk=entry.pk).compute_hash() == entry.entry_hash


def test_it_infers_the_school_from_the_target(cast):
    closure = _closure(cast)

    from_related = log("test.related", actor=cast.head, target=closure)
    from_school = log("test.school", actor=cast.head, target=cast.school)
    from_user = log("test.user", actor=cast.head, target=cast.alice)
    without_target = log("test.none", actor=cast.head)

    assert from_related.school_id == cast.school.pk
    assert from_school.school_id == cast.school.pk
    assert (from_school.object_type, from_school.object_id) == ("schools.school", str(cast.school.pk))
    assert from_user.school_id is None
    assert without_target.school_id is None
    assert (without_target.object_type, without_target.object_id, without_target.object_repr) == ("", "", "")


def test_it_prefers_an_explicit_school_to_the_targets(cast):
    other = make_school("Other School")
    closure = _closure(cast)

    entry = log("test.explicit", actor=cast.head, target=closure, school=other.school)

    assert entry.school_id == other.school.pk


@pytest.mark.clause("AW-PUB-3")
def test_it_rolls_back_with_the_callers_transaction(cast):
    @transaction.atomic
    def add_closure_then_fail():
        closure = _closure(cast, label="Rolled back")
        log("school.closure.added", actor=cast.head, target=closure)
        raise RuntimeError("the action failed after it logged")

    before = _last_seq()
    with pytest.raises(RuntimeError):
        add_closure_then_fail()

    assert not Closure.objects.filter(label="Rolled back").exists()
    assert not AuditEntry.objects.filter(action="school.closure.added").exists()
    assert _last_seq() == before
    # The chain head rolled back too, so the next entry takes the next seq without a gap.
    entry = log("test.after", actor=cast.head)
    assert entry.seq == before + 1
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_it_writes_the_entry_and_moves_the_head_together_outside_a_transaction(monkeypatch):
    # Called in autocommit mode (a management command, a shell), log() is still all or nothing.
    first = log("test.autocommit", actor=None)
    assert first.seq == 1

    def fail(self, *args, **kwargs):
        raise DatabaseError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(ChainHead, "save", fail)
        with pytest.raises(DatabaseError):
            log("test.lost", actor=None)

    assert not AuditEntry.objects.filter(action="test.lost").exists()
    assert verify_chain().ok
    assert log("test.next", actor=None).seq == 2


def test_it_rolls_the_action_back_when_the_audit_entry_cannot_be_written(cast):
    @transaction.atomic
    def add_closure_with_bad_detail():
        closure = _closure(cast, label="Not audited")
        log("school.closure.added", actor=cast.head, target=closure, detail={"bad": object()})

    with pytest.raises(TypeError):
        add_closure_with_bad_detail()

    assert not Closure.objects.filter(label="Not audited").exists()
    assert not AuditEntry.objects.filter(action="school.closure.added").exists()


@pytest.mark.clause("AW-PUB-3")
def test_it_refuses_to_save_an_existing_entry(cast):
    entry = log("test.original", actor=cast.head, school=cast.school)
    loaded = AuditEntry.objects.get(pk=entry.pk)
    loaded.action = "test.forged"

    with pytest.raises(AppendOnlyError):
        loaded.save()
    with pytest.raises(AppendOnlyError):
        entry.save(update_fields=["action"])

    assert AuditEntry.objects.get(pk=entry.pk).action == "test.original"


@pytest.mark.clause("AW-PUB-3")
def test_it_refuses_to_overwrite_an_entry_through_a_new_instance_with_its_pk(cast):
    entry = log("test.original", actor=cast.head, school=cast.school)
    forged = AuditEntry(
        pk=entry.pk,
        seq=entry.seq,
        at=entry.at,
        actor_label="Someone else",
        action="test.forged",
        prev_hash=entry.prev_hash,
        entry_hash="f" * 64,
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        forged.save()

    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.action, stored.actor_label) == ("test.original", entry.actor_label)


@pytest.mark.clause("AW-PUB-3")
def test_it_refuses_to_delete_an_entry(cast):
    entry = log("test.kept", actor=cast.head, school=cast.school)

    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.get(pk=entry.pk).delete()

    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.clause("AW-PUB-3")
def test_it_refuses_queryset_updates_and_deletes(cast):
    entry = log("test.kept", actor=cast.head, school=cast.school)
    log("test.kept.too", actor=cast.head, school=cast.school)

    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="test.forged")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.update(action="test.forged")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    stored = AuditEntry.objects.get(pk=entry.pk)
    stored.action = "test.forged"
    # bulk_update runs inside its own atomic block, so its refusal spoils the enclosing one.
    with pytest.raises(AppendOnlyError), transaction.atomic():
        AuditEntry.objects.bulk_update([stored], ["action"])

    assert AuditEntry.objects.count() == 2
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.kept"
    assert verify_chain().ok


@pytest.mark.clause("AW-PUB-3")
def test_it_refuses_an_upsert_that_would_overwrite_an_entry(cast):
    entry = log("test.original", actor=cast.head, school=cast.school)
    forged = AuditEntry(
        seq=entry.seq,
        at=entry.at,
        actor_label="x",
        action="test.forged",
        prev_hash=entry.prev_hash,
        entry_hash=entry.entry_hash,
    )

    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.bulk_create([forged], update_conflicts=True, unique_fields=["seq"], update_fields=["action"])

    assert AuditEntry.objects.get(pk=entry.pk).action == "test.original"


def test_it_diffs_changed_added_and_removed_fields():
    before = {"label": "INSET", "starts_on": "2025-06-10", "gone": 1, "same": True}
    after = {"label": "Snow day", "starts_on": "2025-06-10", "new": 2, "same": True}

    assert diff(before, after) == {"gone": [1, None], "label": ["INSET", "Snow day"], "new": [None, 2]}
    assert list(diff(before, after)) == ["gone", "label", "new"]


def test_it_diffs_identical_dicts_to_nothing():
    assert diff({"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1}) == {}
    assert diff({}, {}) == {}


def _raw(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, list(params))


@pytest.mark.clause("AW-PUB-3")
def test_it_rebuilds_a_deleted_chain_head_and_says_so_in_the_log(cast):
    entries = [log(f"test.step.{n}", actor=cast.head, school=cast.school) for n in range(3)]
    _raw("DELETE FROM audit_chainhead")

    entry = log("test.after", actor=cast.head, school=cast.school)

    rebuilt = AuditEntry.objects.get(action=HEAD_REBUILT)
    assert (rebuilt.seq, entry.seq) == (4, 5)
    assert rebuilt.prev_hash == entries[-1].entry_hash
    assert rebuilt.detail == {"head_was": None, "rebuilt_at": 3, "highest_entry": 3}
    report = verify_chain()
    assert report.ok and report.checked == 5
    assert report.warnings and "the chain head had to be rebuilt at entry #4" in report.warnings[0]


@pytest.mark.clause("AW-PUB-3")
def test_it_moves_a_head_left_behind_the_entries_instead_of_reusing_a_seq(cast):
    [log(f"test.step.{n}", actor=cast.head, school=cast.school) for n in range(3)]
    first = AuditEntry.objects.get(seq=1)
    _raw("UPDATE audit_chainhead SET last_seq = 1, last_hash = %s", [first.entry_hash])

    entry = log("test.after", actor=cast.head, school=cast.school)

    assert entry.seq == 5
    assert AuditEntry.objects.get(seq=4).detail["head_was"] == 1
    assert verify_chain().ok


@pytest.mark.clause("AW-PUB-3")
def test_it_never_reuses_the_seq_of_entries_deleted_with_the_head(cast):
    [log(f"test.step.{n}", actor=cast.head, school=cast.school) for n in range(5)]
    head = ChainHead.objects.get(pk=1)
    append_checkpoint(head.last_seq, head.last_hash)
    _raw("DELETE FROM audit_auditentry WHERE seq >= 4")
    _raw("DELETE FROM audit_chainhead")

    entry = log("test.after", actor=cast.head, school=cast.school)

    # The head is rebuilt from the checkpoint (#5), so the deleted #4 and #5 stay a visible gap.
    assert entry.seq == 7
    assert AuditEntry.objects.get(seq=6).detail == {"head_was": None, "rebuilt_at": 5, "highest_entry": 3}
    report = verify_chain()
    assert not report.ok
    assert report.problem == "entry #4 is missing (deleted)"


@pytest.mark.clause("AW-PUB-3")
def test_it_keeps_audited_actions_working_after_the_head_is_deleted(client, cast):
    log("test.before", actor=cast.head, school=cast.school)
    _raw("DELETE FROM audit_chainhead")
    client.force_login(cast.head)
    today = timezone.localdate().isoformat()

    response = client.post(
        f"/s/{cast.school.slug}/closures/", {"label": "Snow day", "starts_on": today, "ends_on": today}
    )

    assert response.status_code == 302
    assert Closure.objects.filter(school=cast.school, label="Snow day").exists()
    added = AuditEntry.objects.get(action="school.closure.added")
    assert added.seq == 3
    assert verify_chain().ok
