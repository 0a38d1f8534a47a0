"""Backing up and restoring a whole installation: database, uploaded media, keys and audit checkpoints.

A backup is a directory:

    manifest.json              versions, the audit head, and a SHA-256 of every file below
    database.sqlite3           SQLite's online backup (a consistent copy while the site runs), or
    database.pgdump            pg_dump's custom format, for PostgreSQL
    media/                     uploaded files (local storage only: an S3 bucket is backed up by its own means)
    audit-checkpoints.jsonl    the audit log's signed checkpoints
    secret-keys/               the encryption and audit keys -- SECRET: whoever has them and the database can
                               read every stored login and re-sign the audit log; keep them apart (--keys-to)

It lives at the top of the house (the home app) because it touches every app's data, not one policy area.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

import django
from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from schoolgate import crypto
from schoolgate.audit import keys as audit_keys

FORMAT = 1
MANIFEST = "manifest.json"
KEYS_DIR = "secret-keys"
KEY_FILES = {"encryption": "encryption.keys", "audit": "audit.keys"}
CHECKPOINTS = "audit-checkpoints.jsonl"
KEY_FILE_WARNING = (
    "# SECRET. A Schoolgate {kind} key file from a backup, newest key first.\n"
    "# Whoever holds this and the database can {power}. Store it apart from the database backup.\n"
)
POWERS = {"encryption": "read every stored login and token", "audit": "re-sign the audit log"}
# Tables whose rows mean a database is in use (migrate alone fills only Django's own bookkeeping tables).
DATA_TABLES = ("audit_auditentry", "accounts_user", "schools_school")


class BackupError(Exception):
    """A backup cannot be made or restored; the message says why, for the person running the command."""


@dataclass(frozen=True)
class RestoreResult:
    manifest: dict
    chain_ok: bool
    chain_problem: str
    checkpoint_set_aside: Path | None
    pending_migrations: list[str]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _vendor() -> str:
    if connection.vendor not in {"sqlite", "postgresql"}:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {connection.vendor}.")
    return connection.vendor


def _pg_command(program: str, *args: str) -> subprocess.CompletedProcess:
    """Run pg_dump/pg_restore against Django's database, the password passed in the environment, not argv."""
    _require(program)
    executable = shutil.which(program)
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
    command = [executable, "--host", str(db.get("HOST") or "localhost"), "--port", str(db.get("PORT") or 5432)]
    if db.get("USER"):
        command += ["--username", str(db["USER"])]
    result = subprocess.run(  # noqa: S603 - a fixed program with arguments we built, no shell
        [*command, *args, "--dbname", str(db["NAME"])], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{program} failed: {result.stderr.strip()[-2000:]}")
    return result


def _applied_migrations() -> dict[str, str]:
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    latest: dict[str, str] = {}
    for app, name in sorted(loader.applied_migrations):
        latest[app] = max(latest.get(app, ""), name)
    return latest


def _schoolgate_version() -> str:
    pyproject = Path(settings.BASE_DIR) / "pyproject.toml"
    try:
        return tomllib.loads(pyproject.read_text())["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def _write_secret(path: Path, keys: list[str], kind: str) -> None:
    crypto.make_key_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(KEY_FILE_WARNING.format(kind=kind, power=POWERS[kind]))
        handle.write("\n".join(keys) + "\n")


def make_backup(target: Path, *, keys_to: Path | None = None) -> dict:
    """Back everything up into `target` (new or empty); returns the manifest.

    1. Anchor the audit head in a checkpoint, then copy the checkpoint file: it never claims more than the
       database copy, taken after it, contains.
    2. Copy the database (SQLite online backup, or pg_dump), the local media and the keys.
    3. Write the manifest last, with a checksum of every file, so a partial backup has no manifest.
    """
    from schoolgate.audit.actions import chain_anchor, write_checkpoint
    from schoolgate.audit.checkpoints import checkpoint_file

    vendor = _vendor()
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty; back up into a new directory.")
    keys_dir = keys_to or target / KEYS_DIR
    if keys_to is not None and keys_to.exists() and any(keys_to.iterdir()):
        raise BackupError(f"{keys_to} is not empty; write the keys into a new directory.")
    crypto.make_key_dir(target)  # 0700: it holds the keys unless they go elsewhere

    write_checkpoint()
    anchor = chain_anchor()
    if checkpoint_file().exists():
        shutil.copy2(checkpoint_file(), target / CHECKPOINTS)

    if vendor == "sqlite":
        database_file = "database.sqlite3"
        connection.ensure_connection()
        copy = sqlite3.connect(target / database_file)
        try:
            connection.connection.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            copy.close()
    else:
        database_file = "database.pgdump"
        _pg_command(
            "pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(target / database_file)
        )

    local_media = isinstance(default_storage, FileSystemStorage)
    if local_media and Path(settings.MEDIA_ROOT).exists():
        shutil.copytree(settings.MEDIA_ROOT, target / "media", symlinks=False)

    _write_secret(keys_dir / KEY_FILES["encryption"], crypto.configured_keys(), "encryption")
    _write_secret(keys_dir / KEY_FILES["audit"], audit_keys.configured_keys(), "audit")

    files = {
        str(path.relative_to(target)): {"sha256": sha256_of(path), "size": path.stat().st_size}
        for path in sorted(target.rglob("*"))
        if path.is_file()
    }
    manifest = {
        "format": FORMAT,
        "created_at": timezone.now().astimezone(dt.UTC).isoformat(),
        "versions": {
            "schoolgate": _schoolgate_version(),
            "django": django.get_version(),
            "python": platform.python_version(),
            "database": vendor,
        },
        "database": {"vendor": vendor, "file": database_file},
        "migrations": _applied_migrations(),
        "audit": {"seq": anchor.seq, "head_hash": anchor.head_hash},
        "media": "included" if local_media else "not included: kept in the S3 bucket",
        "secret": {
            kind: {
                "file": name,
                "sha256": sha256_of(keys_dir / name),
                "in_backup": keys_to is None,
            }
            for kind, name in KEY_FILES.items()
        },
        "files": files,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


def read_manifest(source: Path, *, keys_from: Path | None = None) -> dict:
    """The backup's manifest, after checking that every file it lists, and the keys, are there and unchanged."""
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BackupError(f"{source} has no {MANIFEST}: it is not a complete Schoolgate backup.") from exc
    except ValueError as exc:
        raise BackupError(f"{source / MANIFEST} is damaged (not JSON).") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(
            f"This backup is in format {manifest.get('format')!r}; this Schoolgate reads format {FORMAT}."
        )
    expected = {source / name: (name, info["sha256"]) for name, info in manifest["files"].items()}
    for kind, info in manifest["secret"].items():
        if not info["in_backup"] and keys_from is None:
            raise BackupError(f"The {kind} keys were backed up separately: give their directory with --keys-from.")
        expected[(keys_from or source / KEYS_DIR) / info["file"]] = (f"the {kind} key file", info["sha256"])
    for path, (name, checksum) in expected.items():
        if not path.is_file():
            raise BackupError(f"{name} is missing from the backup.")
        if sha256_of(path) != checksum:
            raise BackupError(f"{name} does not match its checksum: the backup is damaged or was altered.")
    return manifest


def database_holds_data() -> bool:
    tables = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for table in DATA_TABLES:
            if table in tables:
                cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")  # noqa: S608
                if cursor.fetchone():
                    return True
    return False


def _keys_from_environment(kind: str) -> tuple[list[str], str]:
    if kind == "encryption":
        return list(settings.ENCRYPTION_KEYS), "SCHOOLGATE_ENCRYPTION_KEYS"
    return list(settings.AUDIT_KEYS), "SCHOOLGATE_AUDIT_KEYS"


def _check_keys_can_be_used(kind: str, backed_up: list[str]) -> None:
    """Keys set in the environment cannot be written to: they must already hold every key of the backup."""
    configured, variable = _keys_from_environment(kind)
    missing = [key for key in backed_up if configured and key not in configured]
    if missing:
        raise BackupError(
            f"The {kind} keys here come from {variable}, which lacks {len(missing)} key(s) of the backup: add "
            f"the keys in the backup's {KEY_FILES[kind]} to it, then restore again."
        )


def _merge_into_key_file(kind: str, backed_up: list[str]) -> None:
    """Put the backup's keys first in the key file, keeping any others: a key is never dropped."""
    if _keys_from_environment(kind)[0]:
        return
    path = Path(settings.ENCRYPTION_KEY_FILE if kind == "encryption" else settings.AUDIT_KEY_FILE)
    existing = crypto.read_key_file(path)
    merged = backed_up + [key for key in existing if key not in backed_up]
    if merged != existing:
        header = crypto.ENCRYPTION_KEY_HEADER if kind == "encryption" else audit_keys.KEY_HEADER
        crypto.write_key_file(path, merged, header=header)


def _require(program: str) -> None:
    if shutil.which(program) is None:
        raise BackupError(f"{program} is not installed; install the PostgreSQL client tools (postgresql-client).")


def restore_backup(source: Path, *, force: bool = False, keys_from: Path | None = None) -> RestoreResult:
    """Restore a backup into the configured database, media storage and key files.

    1. Check everything before changing anything: the manifest and every checksum, the database kind,
       migrations this code knows, an empty database (unless `force`), the keys the settings can take.
    2. Merge the backup's keys into the key files first (a key is never dropped, so nothing stored becomes
       unreadable even if a later step fails), then replace the database, copy the media back, and put the
       backup's checkpoint file in place (the current one is set aside: it anchors the data being replaced).
    3. Verify the audit chain with the restored keys, and record the restore in it.
    """
    from schoolgate.audit.actions import log, verify_chain, write_checkpoint
    from schoolgate.audit.checkpoints import checkpoint_file

    manifest = read_manifest(source, keys_from=keys_from)
    vendor = _vendor()
    if manifest["database"]["vendor"] != vendor:
        raise BackupError(f"This is a {manifest['database']['vendor']} backup; the database here is {vendor}.")
    known = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    unknown = [f"{app}.{name}" for app, name in manifest["migrations"].items() if (app, name) not in known]
    if unknown:
        raise BackupError(
            f"This backup was made by a newer Schoolgate (it has migrations {', '.join(unknown)}): upgrade first."
        )
    if database_holds_data() and not force:
        raise BackupError("The database here already holds data. Restore into an empty database, or use --force.")
    key_dir = keys_from or source / KEYS_DIR
    backed_up = {kind: crypto.read_key_file(key_dir / name) for kind, name in KEY_FILES.items()}
    for kind, keys in backed_up.items():
        _check_keys_can_be_used(kind, keys)
    if vendor == "postgresql":
        _require("pg_restore")

    for kind, keys in backed_up.items():
        _merge_into_key_file(kind, keys)
    crypto._fernet.cache_clear()

    database_file = source / manifest["database"]["file"]
    connection.close()
    if vendor == "sqlite":
        backup = sqlite3.connect(database_file)
        live = sqlite3.connect(connection.settings_dict["NAME"])
        try:
            backup.backup(live)
        finally:
            backup.close()
            live.close()
    else:
        _pg_command(
            "pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
            "--exit-on-error", str(database_file),
        )  # fmt: skip

    if (source / "media").is_dir():
        shutil.copytree(source / "media", settings.MEDIA_ROOT, dirs_exist_ok=True)

    set_aside = None
    current = checkpoint_file()
    if current.exists():
        stamp = timezone.now().astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        set_aside = current.with_name(f"{current.name}.before-restore-{stamp}")
        current.replace(set_aside)
    if (source / CHECKPOINTS).exists():
        crypto.make_key_dir(current.parent)
        shutil.copy2(source / CHECKPOINTS, current)
        current.chmod(0o600)

    report = verify_chain()
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    pending = sorted(f"{app}.{name}" for app, name in set(loader.disk_migrations) - set(loader.applied_migrations))
    if report.ok:
        log(
            "system.backup.restored",
            actor="system",
            detail={"backup_created_at": manifest["created_at"], "backup_audit_seq": manifest["audit"]["seq"]},
        )
        write_checkpoint()
    return RestoreResult(manifest, report.ok, report.problem, set_aside, pending)
