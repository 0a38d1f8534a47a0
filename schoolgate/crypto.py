"""Encryption of secrets at rest (TOTP seeds, network credentials) with rotatable Fernet keys."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    """A stored secret could not be decrypted with any configured key."""


ENCRYPTION_KEY_HEADER = "# Schoolgate encryption keys, newest first. Back this file up; keep it secret.\n"


def read_key_file(path: Path) -> list[str]:
    """The keys in a key file, newest first (blank lines and # comments skipped); none if it does not exist."""
    if not path.exists():
        return []
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


def make_key_dir(path: Path) -> None:
    """Create a key directory readable by this user only (an existing directory is left as it is)."""
    if not path.exists():
        path.mkdir(parents=True, mode=0o700)
        path.chmod(0o700)  # mkdir's mode is narrowed by the umask, never widened; be exact


def create_key_file(path: Path, key: str, *, header: str) -> list[str]:
    """Write a new key file (0600, in a 0700 directory); FileExistsError if another process made it first."""
    make_key_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(header)
        handle.write(key + "\n")
    return [key]


def write_key_file(path: Path, keys: list[str], *, header: str) -> None:
    """Replace a key file's keys (newest first) atomically, so a reader never sees half a file."""
    make_key_dir(path.parent)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(header)
        handle.write("\n".join(keys) + "\n")
    tmp.replace(path)


def prepend_key_to_file(path: Path, key: str, *, header: str) -> None:
    """Put a new key first in a key file, keeping the others."""
    write_key_file(path, [key, *read_key_file(path)], header=header)


def configured_keys() -> list[str]:
    if settings.ENCRYPTION_KEYS:
        return list(settings.ENCRYPTION_KEYS)
    path = Path(settings.ENCRYPTION_KEY_FILE)
    keys = read_key_file(path)
    if keys:
        return keys
    # A key file is made on first use so the embedded default works with no settings at all;
    # production sets SCHOOLGATE_ENCRYPTION_KEYS or points at a managed key file instead.
    try:
        return create_key_file(path, Fernet.generate_key().decode(), header=ENCRYPTION_KEY_HEADER)
    except FileExistsError:
        return read_key_file(path)


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
    key = Fernet.generate_key().decode()
    prepend_key_to_file(path, key, header=ENCRYPTION_KEY_HEADER)
    _fernet.cache_clear()
    return key
