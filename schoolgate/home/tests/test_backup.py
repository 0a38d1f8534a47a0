"""manage.py backup / restore: the database, media, keys and checkpoints round-trip, and the audit chain verifies.

Runs on whichever database DATABASE_URL selects: SQLite's online backup or pg_dump/pg_restore.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection

from schoolgate import crypto
from schoolgate.audit.actions import log, verify_chain
from schoolgate.audit.models import AuditEntry
from schoolgate.schools.models import School
from schoolgate.testing import TOTP_SECRET, make_school

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def installation(settings, tmp_path):
    """This installation's key files, checkpoints and media, all in the test's own directory."""
    keys = tmp_path / "install" / "keys"
    settings.ENCRYPTION_KEYS, settings.ENCRYPTION_KEY_FILE = [], keys / "encryption.keys"
    settings.AUDIT_KEYS, settings.AUDIT_KEY_FILE = [], keys / "audit.keys"
    settings.AUDIT_CHECKPOINT_FILE = keys / "audit-checkpoints.jsonl"
    settings.MEDIA_ROOT = tmp_path / "install" / "media"
    crypto._fernet.cache_clear()
    yield keys
    crypto._fernet.cache_clear()


@pytest.fixture
def school_data(installation):
    cast = make_school()
    for n in range(3):
        log(f"test.step.{n}", actor=cast.head, school=cast.school, detail={"n": n})
    default_storage.save("photos/trip.jpg", ContentFile(b"not really a jpeg"))
    return cast


def _run(command: str, *args, **options) -> str:
    out = io.StringIO()
    call_command(command, *[str(a) for a in args], stdout=out, **options)
    return out.getvalue()


@contextlib.contextmanager
def fresh_database():
    """Point Django's connection at a new, empty database (a new file, or a new PostgreSQL database)."""
    settings_dict = connection.settings_dict
    original = settings_dict["NAME"]
    connection.close()
    if connection.vendor == "sqlite":
        settings_dict["NAME"] = str(Path(str(original)).with_name("fresh-restore.sqlite3"))
        Path(settings_dict["NAME"]).unlink(missing_ok=True)
    else:
        settings_dict["NAME"] = f"{original}_restore"
        _postgres(f'DROP DATABASE IF EXISTS "{settings_dict["NAME"]}"')
        _postgres(f'CREATE DATABASE "{settings_dict["NAME"]}"')
    try:
        yield settings_dict["NAME"]
    finally:
        connection.close()
        fresh, settings_dict["NAME"] = settings_dict["NAME"], original
        if connection.vendor == "postgresql":
            _postgres(f'DROP DATABASE IF EXISTS "{fresh}"')


def _postgres(statement: str) -> None:
    import psycopg

    db = connection.settings_dict
    with psycopg.connect(
        dbname="postgres",
        host=db.get("HOST") or "localhost",
        port=db.get("PORT") or 5432,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        autocommit=True,
    ) as admin:
        admin.execute(statement)


@pytest.mark.clause("AW-PUB-3")
def test_it_round_trips_into_a_fresh_database_and_the_chain_verifies_with_the_backups_keys(
    school_data, tmp_path, installation, settings
):
    backup = tmp_path / "backup"
    output = _run("backup", backup)
    entries = AuditEntry.objects.count()
    assert "keep it secret" in output

    # The installation is lost: its keys, checkpoints and media with it.
    for path in installation.iterdir():
        path.unlink()
    (Path(settings.MEDIA_ROOT) / "photos" / "trip.jpg").unlink()
    with fresh_database():
        output = _run("restore", backup)

        assert "The audit chain verifies with the restored keys." in output
        report = verify_chain()
        assert report.ok, report.problem
        assert report.checkpoint is not None
        assert AuditEntry.objects.count() == entries + 1  # and the restore itself, recorded
        assert AuditEntry.objects.order_by("seq").last().action == "system.backup.restored"
        assert School.objects.get(pk=school_data.school.pk).name == school_data.school.name
        secret = Authenticator.objects.get(user_id=school_data.head.pk, type=Authenticator.Type.TOTP).data["secret"]
        assert crypto.decrypt(secret) == TOTP_SECRET
        assert (Path(settings.MEDIA_ROOT) / "photos" / "trip.jpg").read_bytes() == b"not really a jpeg"
        assert settings.AUDIT_KEY_FILE.stat().st_mode & 0o777 == 0o600


def test_it_writes_a_manifest_with_versions_and_checksums_and_marks_the_keys_secret(school_data, tmp_path):
    backup = tmp_path / "backup"
    _run("backup", backup)

    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["versions"]["django"] and manifest["versions"]["schoolgate"]
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["migrations"]["audit"] == "0002_keyed_chain"
    assert manifest["audit"]["seq"] == AuditEntry.objects.order_by("seq").last().seq
    assert {"media/photos/trip.jpg", "audit-checkpoints.jsonl", manifest["database"]["file"]} <= set(manifest["files"])
    assert set(manifest["secret"]) == {"encryption", "audit"}
    keys = backup / "secret-keys"
    assert keys.stat().st_mode & 0o777 == 0o700
    for name in ("encryption.keys", "audit.keys"):
        assert (keys / name).stat().st_mode & 0o777 == 0o600
        assert (keys / name).read_text().startswith("# SECRET.")


def test_it_keeps_the_keys_apart_when_asked_and_needs_them_to_restore(school_data, tmp_path):
    backup, keys = tmp_path / "backup", tmp_path / "elsewhere" / "keys"
    _run("backup", backup, keys_to=keys)

    assert not (backup / "secret-keys").exists()
    assert (keys / "audit.keys").exists()
    with fresh_database():
        with pytest.raises(CommandError, match="backed up separately: give their directory with --keys-from"):
            _run("restore", backup)
        _run("restore", backup, keys_from=keys)
        assert verify_chain().ok


def test_it_refuses_to_overwrite_a_database_that_holds_data_unless_forced(school_data, tmp_path):
    backup = tmp_path / "backup"
    _run("backup", backup)
    in_backup = AuditEntry.objects.count()
    log("test.after_backup", actor=school_data.head, school=school_data.school)
    School.objects.filter(pk=school_data.school.pk).update(name="Renamed after the backup")

    with pytest.raises(CommandError, match="already holds data"):
        _run("restore", backup)
    assert AuditEntry.objects.filter(action="test.after_backup").exists()

    _run("restore", backup, force=True)

    assert School.objects.get(pk=school_data.school.pk).name == school_data.school.name
    assert not AuditEntry.objects.filter(action="test.after_backup").exists()
    assert AuditEntry.objects.count() == in_backup + 1
    assert verify_chain().ok


@pytest.mark.parametrize("damaged", ["database", "secret-keys/audit.keys", "media/photos/trip.jpg"])
def test_it_refuses_a_backup_with_a_bad_checksum(school_data, tmp_path, damaged):
    backup = tmp_path / "backup"
    _run("backup", backup)
    manifest = json.loads((backup / "manifest.json").read_text())
    path = backup / (manifest["database"]["file"] if damaged == "database" else damaged)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))

    with fresh_database():
        with pytest.raises(CommandError, match="does not match its checksum"):
            _run("restore", backup)
        assert "audit_auditentry" not in connection.introspection.table_names()


def test_it_refuses_a_backup_with_a_file_missing(school_data, tmp_path):
    backup = tmp_path / "backup"
    _run("backup", backup)
    (backup / "media" / "photos" / "trip.jpg").unlink()

    with pytest.raises(CommandError, match="media/photos/trip.jpg is missing from the backup"):
        _run("restore", backup, force=True)


def test_it_refuses_to_back_up_into_a_directory_that_is_not_empty(school_data, tmp_path):
    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / "something.txt").write_text("already here")

    with pytest.raises(CommandError, match="is not empty"):
        _run("backup", backup)


def test_it_refuses_keys_from_the_environment_that_lack_the_backups_keys(school_data, tmp_path, settings):
    backup = tmp_path / "backup"
    _run("backup", backup)
    settings.AUDIT_KEYS = ["a-different-audit-key-0123456789abcdef0123456789"]

    with fresh_database():
        with pytest.raises(CommandError, match="SCHOOLGATE_AUDIT_KEYS, which lacks 1 key"):
            _run("restore", backup)
        assert "audit_auditentry" not in connection.introspection.table_names()
