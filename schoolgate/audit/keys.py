"""The audit log's HMAC keys, kept outside the database so whoever can write the database cannot re-sign the log.

Keys come from SCHOOLGATE_AUDIT_KEYS (comma-separated, newest first) or the audit key file in the key
directory, which is made on first use like the encryption key file. Every entry records the id of the key
that signed it, so a key can be rotated (`manage.py rotate_audit_key`): new entries use the newest key and
old entries are still verified with theirs. Old keys are therefore never removed; removing one makes every
entry it signed unverifiable, which verification reports.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from schoolgate import crypto

KEY_HEADER = (
    "# Schoolgate audit-log keys, newest first. Secret: back it up apart from the database.\n"
    "# Never delete a line: entries signed with an old key are verified with it.\n"
)
MIN_KEY_LENGTH = 32


def key_id(key: str) -> str:
    """A short public name for a key (a hash of it), stored with each entry it signs."""
    return hashlib.sha256(b"schoolgate-audit-key:" + key.encode()).hexdigest()[:12]


@functools.cache
def _by_id(keys: tuple[str, ...]) -> dict[str, bytes]:
    short = [key for key in keys if len(key) < MIN_KEY_LENGTH]
    if short:
        raise ImproperlyConfigured(f"Audit keys must be at least {MIN_KEY_LENGTH} characters long.")
    return {key_id(key): key.encode() for key in keys}


def configured_keys() -> list[str]:
    if settings.AUDIT_KEYS:
        return list(settings.AUDIT_KEYS)
    path = Path(settings.AUDIT_KEY_FILE)
    try:
        # Read again only when the file changes: verification signs every entry of the log.
        keys = _read_key_file(str(path), path.stat().st_mtime_ns)
    except FileNotFoundError:
        keys = ()
    if keys:
        return list(keys)
    try:
        return crypto.create_key_file(path, secrets.token_hex(32), header=KEY_HEADER)
    except FileExistsError:
        return crypto.read_key_file(path)


@functools.lru_cache(maxsize=4)
def _read_key_file(path: str, mtime_ns: int) -> tuple[str, ...]:
    return tuple(crypto.read_key_file(Path(path)))


def current_key_id() -> str:
    """The id of the newest key, which signs new entries and checkpoints."""
    return next(iter(_by_id(tuple(configured_keys()))))


def sign(message: bytes, *, with_key: str) -> str | None:
    """HMAC-SHA256 of message under the key with this id, or None when no such key is configured."""
    key = _by_id(tuple(configured_keys())).get(with_key)
    return hmac.new(key, message, hashlib.sha256).hexdigest() if key is not None else None


def add_new_key_to_file(path: Path) -> str:
    """Put a fresh key first in the audit key file; returns its id."""
    key = secrets.token_hex(32)
    crypto.prepend_key_to_file(path, key, header=KEY_HEADER)
    return key_id(key)
