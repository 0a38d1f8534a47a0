"""The keyed chain: entries signed with an audit key kept outside the database, old unkeyed entries still verified."""

from __future__ import annotations

import hashlib
import hmac
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from schoolgate.audit.actions import log, verify_chain
from schoolgate.audit.checkpoints import append_checkpoint
from schoolgate.audit.keys import configured_keys, key_id
from schoolgate.audit.models import GENESIS_HASH, AuditEntry, ChainHead, HashVersion

OTHER_KEY = "another-audit-key-fedcba9876543210fedcba9876543210"


def _canonical(entry: AuditEntry) -> bytes:
    return json.dumps(entry.hashed_fields(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _rehash_from(seq: int, *, change=None) -> None:
    """Rewrite the log from `seq` on as a forger with database access would: re-hash every row and the head."""
    prev = AuditEntry.objects.get(seq=seq - 1).entry_hash if seq > 1 else GENESIS_HASH
    with connection.cursor() as cursor:
        for entry in AuditEntry.objects.filter(seq__gte=seq).order_by("seq"):
            if change:
                change(entry)
            entry.prev_hash = prev
            entry.entry_hash = entry.compute_hash()
            cursor.execute(
                "UPDATE audit_auditentry SET action = %s, prev_hash = %s, entry_hash = %s, hash_version = %s, "
                "key_id = %s WHERE seq = %s",
                [entry.action, entry.prev_hash, entry.entry_hash, entry.hash_version, entry.key_id, entry.seq],
            )
            prev = entry.entry_hash
        cursor.execute("UPDATE audit_chainhead SET last_hash = %s", [prev])


def _downgrade(entry: AuditEntry) -> None:
    # Without the key, the only hash a forger can compute is the old plain SHA-256.
    entry.hash_version, entry.key_id = HashVersion.SHA256, ""


@pytest.fixture
def chain(cast):
    return [log(f"test.step.{n}", actor=cast.head, school=cast.school, detail={"n": n}) for n in range(1, 5)]


@pytest.mark.clause("AW-PUB-3")
def test_it_signs_each_entry_with_the_audit_key(chain):
    entry = AuditEntry.objects.get(seq=2)
    key = configured_keys()[0]

    assert entry.hash_version == HashVersion.HMAC_SHA256
    assert entry.key_id == key_id(key)
    assert entry.entry_hash == hmac.new(key.encode(), _canonical(entry), hashlib.sha256).hexdigest()
    assert entry.entry_hash != hashlib.sha256(_canonical(entry)).hexdigest()
    assert verify_chain().ok


@pytest.mark.clause("AW-PUB-3")
def test_it_catches_a_log_rewritten_without_the_key(chain):
    def forge(entry):
        _downgrade(entry)
        if entry.seq == 2:
            entry.action = "test.forged"

    _rehash_from(2, change=forge)

    report = verify_chain()

    assert not report.ok
    assert report.first_bad_seq == 2
    assert "was changed after it was written" in report.problem


@pytest.mark.clause("AW-PUB-3")
def test_it_catches_a_log_rewritten_with_a_key_of_the_forgers_own(chain, settings):
    def forge(entry):
        entry.key_id = key_id(OTHER_KEY)
        if entry.seq == 3:
            entry.action = "test.forged"

    ours = list(settings.AUDIT_KEYS)
    settings.AUDIT_KEYS = [OTHER_KEY]  # the forger's machine
    _rehash_from(3, change=forge)
    settings.AUDIT_KEYS = ours

    report = verify_chain()

    assert not report.ok
    assert report.first_bad_seq == 3
    assert "signed with an audit key that is not configured here" in report.problem


@pytest.mark.clause("AW-PUB-3")
def test_it_catches_the_whole_log_downgraded_against_the_checkpoint(chain):
    head = ChainHead.objects.get(pk=1)
    append_checkpoint(head.last_seq, head.last_hash)

    _rehash_from(1, change=_downgrade)

    report = verify_chain()

    assert not report.ok
    assert report.first_bad_seq == 4
    assert "differs from the checkpoint" in report.problem


def _legacy_entries(cast, count: int) -> list[AuditEntry]:
    """Entries as the unkeyed chain wrote them before the upgrade: plain SHA-256, no key id."""
    entries, prev = [], GENESIS_HASH
    for seq in range(1, count + 1):
        entry = AuditEntry(
            seq=seq,
            at=timezone.now(),
            actor=cast.head,
            actor_label=str(cast.head),
            school=cast.school,
            action=f"test.legacy.{seq}",
            changes={"label": [None, f"day {seq}"]},
            prev_hash=prev,
            hash_version=HashVersion.SHA256,
        )
        entry.entry_hash = hashlib.sha256(_canonical(entry)).hexdigest()
        entries.append(entry)
        prev = entry.entry_hash
    AuditEntry.objects.bulk_create(entries)
    ChainHead.objects.update_or_create(pk=1, defaults={"last_seq": count, "last_hash": prev})
    return entries


@pytest.mark.clause("AW-PUB-3")
def test_it_verifies_entries_made_before_the_chain_was_keyed(cast):
    legacy = _legacy_entries(cast, 3)

    keyed = log("test.keyed", actor=cast.head, school=cast.school)

    assert keyed.seq == 4 and keyed.prev_hash == legacy[-1].entry_hash
    assert keyed.hash_version == HashVersion.HMAC_SHA256
    assert verify_chain().ok
    assert verify_chain().checked == 4


@pytest.mark.clause("AW-PUB-3")
def test_it_catches_an_old_unkeyed_entry_changed(cast):
    _legacy_entries(cast, 3)
    log("test.keyed", actor=cast.head, school=cast.school)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET changes = %s WHERE seq = 2", ['{"label": [null, "forged"]}'])

    report = verify_chain()

    assert not report.ok and report.first_bad_seq == 2


@pytest.mark.clause("AW-PUB-3")
def test_it_catches_an_unkeyed_entry_after_the_keyed_chain_began(cast):
    # Someone rewriting the newest entries with the hash they can compute, after keyed ones.
    _legacy_entries(cast, 2)
    log("test.keyed", actor=cast.head, school=cast.school)
    log("test.keyed.too", actor=cast.head, school=cast.school)

    _rehash_from(4, change=_downgrade)

    report = verify_chain()

    assert not report.ok
    assert report.first_bad_seq == 4
    assert "its signature was removed" in report.problem


@pytest.mark.clause("AW-PUB-3")
def test_it_verifies_old_entries_after_the_key_is_rotated(chain, cast, settings):
    old_id = chain[0].key_id
    settings.AUDIT_KEYS = [OTHER_KEY, *settings.AUDIT_KEYS]

    newer = log("test.after_rotation", actor=cast.head, school=cast.school)

    assert newer.key_id == key_id(OTHER_KEY) != old_id
    assert verify_chain().ok
    # Dropping the old key leaves its entries unverifiable, which is reported, never passed over.
    settings.AUDIT_KEYS = [OTHER_KEY]
    report = verify_chain()
    assert not report.ok
    assert report.first_bad_seq == 1
    assert "signed with an audit key that is not configured here" in report.problem


def test_it_creates_a_private_audit_key_file_on_first_use(cast, settings, tmp_path):
    settings.AUDIT_KEYS = []
    settings.AUDIT_KEY_FILE = tmp_path / "keys" / "audit.keys"

    entry = log("test.first", actor=cast.head, school=cast.school)

    assert settings.AUDIT_KEY_FILE.stat().st_mode & 0o777 == 0o600
    assert settings.AUDIT_KEY_FILE.parent.stat().st_mode & 0o777 == 0o700
    assert entry.key_id == key_id(configured_keys()[0])
    assert log("test.second", actor=cast.head, school=cast.school).key_id == entry.key_id
    assert verify_chain().ok


def test_it_rotates_the_audit_key_file(cast, settings, tmp_path):
    settings.AUDIT_KEYS = []
    settings.AUDIT_KEY_FILE = tmp_path / "keys" / "audit.keys"
    first = log("test.first", actor=cast.head, school=cast.school)

    call_command("rotate_audit_key", stdout=io.StringIO())

    rotated = AuditEntry.objects.get(action="security.audit_key.rotated")
    assert rotated.key_id != first.key_id
    assert len(configured_keys()) == 2
    assert settings.AUDIT_KEY_FILE.stat().st_mode & 0o777 == 0o600
    assert verify_chain().ok


def test_it_refuses_to_rotate_keys_that_come_from_the_environment(db):
    with pytest.raises(CommandError, match="SCHOOLGATE_AUDIT_KEYS"):
        call_command("rotate_audit_key")


@pytest.mark.django_db(transaction=True)
def test_it_migrates_an_existing_log_without_rewriting_it():
    # An entry written by the schema before the keyed chain, by the SQL that schema ran.
    executor = MigrationExecutor(connection)
    executor.migrate([("audit", "0001_initial")])
    fields = {
        "seq": 1,
        "at": "2025-06-10T09:30:00+00:00",
        "actor_id": None,
        "actor_label": "system",
        "school_id": None,
        "action": "test.before_upgrade",
        "object_type": "",
        "object_id": "",
        "object_repr": "",
        "changes": {},
        "detail": {"note": "old"},
        "restricted": False,
        "prev_hash": GENESIS_HASH,
    }
    old_hash = hashlib.sha256(
        json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO audit_auditentry (seq, at, actor_label, action, object_type, object_id, object_repr, "
                "changes, detail, restricted, prev_hash, entry_hash) VALUES "
                "(1, %s, 'system', 'test.before_upgrade', '', '', '', %s, %s, %s, %s, %s)",
                ["2025-06-10 09:30:00+00:00", "{}", '{"note": "old"}', False, GENESIS_HASH, old_hash],
            )
            cursor.execute("INSERT INTO audit_chainhead (id, last_seq, last_hash) VALUES (1, 1, %s)", [old_hash])
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    entry = AuditEntry.objects.get(seq=1)
    assert (entry.hash_version, entry.key_id, entry.entry_hash) == (HashVersion.SHA256, "", old_hash)
    assert verify_chain().ok
    log("test.after_upgrade", actor=None)
    assert AuditEntry.objects.get(seq=2).hash_version == HashVersion.HMAC_SHA256
    assert verify_chain().ok
