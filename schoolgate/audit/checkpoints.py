"""Signed checkpoints of the audit chain's head, appended to a file outside the database.

A hash chain shows an edited or removed entry in the middle, but not a log cut short together with its head,
or a database rolled back to last week. So the head (seq and hash) is written out every hour and at each
`verify_audit`, signed with the audit key, to a file the database cannot reach: a log that ends before the
newest checkpoint, or differs from it at its seq, was truncated, rolled back or rewritten.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from schoolgate import crypto
from schoolgate.audit import keys as audit_keys


class CheckpointFileError(Exception):
    """The checkpoint file was altered: a line is unreadable or not signed by any configured audit key."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    head_hash: str
    at: str  # ISO 8601, UTC
    key_id: str
    signature: str = ""

    def signed_text(self) -> bytes:
        fields = {"seq": self.seq, "head_hash": self.head_hash, "at": self.at, "key_id": self.key_id}
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    @property
    def taken_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.at)


def checkpoint_file() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_FILE)


def read_checkpoints(path: Path | None = None) -> list[Checkpoint]:
    """Every checkpoint in the file, oldest first; CheckpointFileError if any line was altered."""
    path = path or checkpoint_file()
    if not path.exists():
        return []
    checkpoints = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            checkpoint = Checkpoint(**json.loads(line))
        except (ValueError, TypeError) as exc:
            raise CheckpointFileError(f"line {number} of the checkpoint file is not a checkpoint") from exc
        if audit_keys.sign(checkpoint.signed_text(), with_key=checkpoint.key_id) != checkpoint.signature:
            raise CheckpointFileError(f"line {number} of the checkpoint file is not signed by the audit key")
        checkpoints.append(checkpoint)
    return checkpoints


def latest_checkpoint() -> Checkpoint | None:
    checkpoints = read_checkpoints()
    return max(checkpoints, key=lambda c: (c.seq, c.at)) if checkpoints else None


def append_checkpoint(seq: int, head_hash: str) -> Checkpoint:
    """Sign and append one checkpoint, in a single write so concurrent writers never interleave a line."""
    key_id = audit_keys.current_key_id()
    unsigned = Checkpoint(seq=seq, head_hash=head_hash, at=timezone.now().astimezone(dt.UTC).isoformat(), key_id=key_id)
    checkpoint = Checkpoint(
        **{**asdict(unsigned), "signature": audit_keys.sign(unsigned.signed_text(), with_key=key_id)}
    )
    path = checkpoint_file()
    crypto.make_key_dir(path.parent)
    line = json.dumps(asdict(checkpoint), sort_keys=True) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return checkpoint
