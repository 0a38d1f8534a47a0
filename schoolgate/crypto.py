"""Encryption of secrets at rest (TOTP seeds, network credentials) with rotatable Fernet keys."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    """A stored secret could not be decrypted with any configured key."""


def _read_key_file(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


def _create_key_file(path: Path) -> list[str]:
    # A key file is made on first use so the embedded default works with no settings at all;
    # production sets SCHOOLGATE_ENCRYPTION_KEYS or points at a managed key file instead.
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("# Schoolgate encryption keys, newest first. Back this file up; keep it secret.\n")
        handle.write(key + "\n")
    return [key]


def configured_keys() -> list[str]:
    if settings.ENCRYPTION_KEYS:
        return list(settings.ENCRYPTION_KEYS)
    path = Path(settings.ENCRYPTION_KEY_FILE)
    keys = _read_key_file(path)
    if keys:
        return keys
    try:
        return _create_key_file(path)
    except FileExistsError:
        return _read_key_file(path)


@functools.cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(configured_keys()))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("A stored secret could not be decrypted with the configured keys") from exc


def rotate(token: str) -> str:
    """Re-encrypt a token under the newest key (the first one configured)."""
    return fernet().rotate(token.encode()).decode()


def add_new_key_to_file(path: Path) -> str:
    """Prepend a fresh key to the key file so new encryptions use it and old tokens still decrypt."""
    keys = _read_key_file(path)
    key = Fernet.generate_key().decode()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("# Schoolgate encryption keys, newest first. Back this file up; keep it secret.\n")
        handle.write("\n".join([key, *keys]) + "\n")
    tmp.replace(path)
    _fernet.cache_clear()
    return key
