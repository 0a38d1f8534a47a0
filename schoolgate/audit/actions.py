"""The one audit function every action calls, the chain verifier and the chain's anchor outside the database."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from schoolgate.audit import keys as audit_keys
from schoolgate.audit.checkpoints import (
    Checkpoint,
    CheckpointFileError,
    append_checkpoint,
    latest_checkpoint,
    read_checkpoints,
)
from schoolgate.audit.models import GENESIS_HASH, AuditEntry, ChainHead, HashVersion, UnverifiableEntry

logger = logging.getLogger(__name__)

# The entry log() writes when it had to rebuild a missing or stale chain head.
HEAD_REBUILT = "audit.chain_head.rebuilt"


def _json_safe(value) -> dict:
    # Normalise through JSON once so the hash is computed over exactly what the database returns.
    return json.loads(json.dumps(value or {}, cls=DjangoJSONEncoder, sort_keys=True))


def _school_of(target):
    if target is None:
        return None
    from schoolgate.schools.models import School

    if isinstance(target, School):
        return target
    school = getattr(target, "school", None)
    return school if isinstance(school, School) else None


def log(
    action: str,
    *,
    actor,
    target: models.Model | None = None,
    school=None,
    changes: dict | None = None,
    detail: dict | None = None,
    restricted: bool = False,
) -> AuditEntry:
    """Append one decision to the audit log.

    1. Lock the chain head (a row lock on PostgreSQL; SQLite's IMMEDIATE transactions serialise writers),
       repairing it first if it is missing or behind the entries (see _locked_head).
    2. Build the entry with the next seq and the previous entry's hash.
    3. Sign it with the newest audit key, save it and move the head, all in the caller's transaction, so an
       action that rolls back leaves no audit entry and an audit failure rolls the action back.
    """
    with transaction.atomic():
        head = _locked_head()
        actor_user = actor if getattr(actor, "is_authenticated", False) else None
        return _append(
            head,
            action=action,
            actor=actor_user,
            actor_label=(f"{actor_user.full_name} <{actor_user.email}>" if actor_user else str(actor or "system")),
            school=school or _school_of(target),
            object_type=target._meta.label_lower if target is not None else "",
            object_id=str(target.pk) if target is not None else "",
            object_repr=str(target)[:300] if target is not None else "",
            changes=_json_safe(changes),
            detail=_json_safe(detail),
            restricted=restricted,
        )


def _append(head: ChainHead, **fields) -> AuditEntry:
    entry = AuditEntry(
        seq=head.last_seq + 1,
        at=timezone.now().astimezone(UTC),
        prev_hash=head.last_hash,
        hash_version=HashVersion.HMAC_SHA256,
        key_id=audit_keys.current_key_id(),
        **fields,
    )
    entry.entry_hash = entry.compute_hash()
    entry.save()
    head.last_seq, head.last_hash = entry.seq, entry.entry_hash
    head.save(update_fields=["last_seq", "last_hash"])
    return entry


def _locked_head() -> ChainHead:
    """The chain head, locked; rebuilt, with an entry saying so, if its row was deleted or rolled back.

    A missing or stale head would otherwise make log() reuse a seq, and every audited action would fail on
    the unique constraint. Refusing to log would be no better for a school: consent withdrawals and
    take-downs would stop until someone repaired the database. So the head moves to the furthest point
    known -- the highest entry, or the newest checkpoint if entries after it were deleted too, so no seq is
    ever used twice -- and the repair itself is the next entry, which verification keeps reporting.
    """
    head = ChainHead.objects.select_for_update().filter(pk=1).first()
    highest = AuditEntry.objects.order_by("-seq").values_list("seq", "entry_hash").first()
    if head is not None and (highest is None or highest[0] <= head.last_seq):
        # A head ahead of the entries means entries were deleted from the tail; keeping its numbering
        # keeps that gap visible to verification.
        return head
    if head is None and highest is None and _newest_checkpoint() is None:
        head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)  # a new, empty log
        return head
    head_was = head.last_seq if head is not None else None
    seq, last_hash = highest or (0, GENESIS_HASH)
    checkpoint = _newest_checkpoint()
    if checkpoint is not None and checkpoint.seq > seq:
        seq, last_hash = checkpoint.seq, checkpoint.head_hash
    if head is None:
        try:
            with transaction.atomic():
                head = ChainHead.objects.create(pk=1, last_seq=seq, last_hash=last_hash)
        except IntegrityError:
            # Another writer rebuilt it first (PostgreSQL; SQLite writers never overlap): use theirs.
            return _locked_head()
    else:
        head.last_seq, head.last_hash = seq, last_hash
        head.save(update_fields=["last_seq", "last_hash"])
    problem = "missing" if head_was is None else f"at #{head_was}, behind the entries"
    logger.error("The audit chain head was %s; it was rebuilt at #%s", problem, seq)
    _append(
        head,
        action=HEAD_REBUILT,
        actor=None,
        actor_label="system",
        school=None,
        object_type="",
        object_id="",
        object_repr="",
        changes={},
        detail={"head_was": head_was, "rebuilt_at": seq, "highest_entry": highest[0] if highest else 0},
        restricted=False,
    )
    return head


def _newest_checkpoint() -> Checkpoint | None:
    try:
        return latest_checkpoint()
    except CheckpointFileError:
        return None


def diff(before: dict, after: dict) -> dict:
    """The fields that changed, as {field: [before, after]}."""
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    problem: str = ""
    first_bad_seq: int | None = None
    # Repairs of the chain head found in the log: the chain verifies, but someone deleted or rolled back its head.
    warnings: list[str] = field(default_factory=list)
    checkpoint: Checkpoint | None = None


def verify_chain() -> ChainReport:
    """Check the whole log: every entry as written, in one unbroken chain, up to the chain head and the checkpoint.

    1. Walk the entries in seq order: no gap, each links to the one before, each hash recomputes (plain
       SHA-256 for entries from before the keyed chain, HMAC with the recorded audit key after it; once keyed,
       never unkeyed again, so the tail cannot be downgraded to a hash anyone can compute).
    2. The chain head must exist and point at the last entry.
    3. The newest signed checkpoint (outside the database) must be within the log and match it at its seq:
       otherwise the log was cut short, rolled back or rewritten together with its head.
    """
    try:
        checkpoints = read_checkpoints()
    except CheckpointFileError as exc:
        return ChainReport(False, 0, f"the checkpoint file was altered: {exc}")
    newest = max(checkpoints, key=lambda c: (c.seq, c.at)) if checkpoints else None

    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    keyed_since = None
    hash_at_checkpoint = GENESIS_HASH if newest is not None and newest.seq == 0 else None
    warnings = []
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        if entry.seq != expected_seq:
            return ChainReport(False, checked, f"entry #{expected_seq} is missing (deleted)", expected_seq)
        if entry.prev_hash != expected_prev:
            return ChainReport(False, checked, f"entry #{entry.seq} does not follow entry #{entry.seq - 1}", entry.seq)
        if keyed_since is not None and entry.hash_version == HashVersion.SHA256:
            return ChainReport(
                False,
                checked,
                f"entry #{entry.seq} was changed after it was written (its signature was removed)",
                entry.seq,
            )
        try:
            intact = entry.compute_hash() == entry.entry_hash
        except UnverifiableEntry as exc:
            return ChainReport(False, checked, f"{exc} (it was changed, or the audit key file is missing)", entry.seq)
        if not intact:
            return ChainReport(False, checked, f"entry #{entry.seq} was changed after it was written", entry.seq)
        if entry.hash_version != HashVersion.SHA256 and keyed_since is None:
            keyed_since = entry.seq
        if entry.action == HEAD_REBUILT:
            warnings.append(
                f"the chain head had to be rebuilt at entry #{entry.seq} on {entry.at:%d/%m/%Y %H:%M} UTC "
                "(its record was deleted or rolled back)"
            )
        if newest is not None and entry.seq == newest.seq:
            hash_at_checkpoint = entry.entry_hash
        expected_prev = entry.entry_hash
        expected_seq += 1
        checked += 1
    last_seq = expected_seq - 1

    report = _check_head(last_seq, expected_prev, checked)
    if report is None and newest is not None:
        report = _check_checkpoint(newest, last_seq, hash_at_checkpoint, checked)
    if report is not None:
        return report
    return ChainReport(True, checked, warnings=warnings, checkpoint=newest)


def _check_head(last_seq: int, last_hash: str, checked: int) -> ChainReport | None:
    head = ChainHead.objects.filter(pk=1).first()
    if head is None:
        if last_seq == 0:
            return None  # a log nothing was ever written to
        return ChainReport(
            False,
            checked,
            f"the chain head is missing (deleted): the log cannot show whether entries after #{last_seq} were deleted",
            last_seq + 1,
        )
    if (head.last_seq, head.last_hash) == (last_seq, last_hash):
        return None
    # The rows chain up among themselves but not to the head, which only log() moves.
    if head.last_seq > last_seq:
        return ChainReport(
            False,
            checked,
            f"entries after #{last_seq} are missing (deleted); the chain head records #{head.last_seq}",
            last_seq + 1,
        )
    if head.last_seq < last_seq:
        return ChainReport(
            False,
            head.last_seq,
            f"entry #{head.last_seq + 1} was inserted out of band; the chain head records #{head.last_seq}",
            head.last_seq + 1,
        )
    if last_seq == 0:
        return ChainReport(False, 0, "the chain head was changed: the log is empty but the head is not")
    return ChainReport(
        False,
        checked - 1,
        f"entry #{last_seq} does not match the chain head (the entry or the head was changed after it was written)",
        last_seq,
    )


def _check_checkpoint(
    newest: Checkpoint, last_seq: int, hash_at_checkpoint: str | None, checked: int
) -> ChainReport | None:
    when = f"{newest.taken_at:%d/%m/%Y %H:%M} UTC"
    if newest.seq > last_seq:
        return ChainReport(
            False,
            checked,
            f"the log ends at entry #{last_seq} but the checkpoint of {when} recorded #{newest.seq}: "
            "entries were deleted or the database was rolled back",
            last_seq + 1,
        )
    if hash_at_checkpoint != newest.head_hash:
        return ChainReport(
            False,
            min(checked, newest.seq - 1),
            f"entry #{newest.seq} differs from the checkpoint of {when}: the log was rewritten",
            newest.seq,
        )
    return None


def write_checkpoint() -> Checkpoint | None:
    """Anchor the current head outside the database, unless the log no longer matches the last checkpoint.

    The hourly job calls this; it checks only the entries since the last checkpoint (the full walk is
    `verify_audit`), so its cost follows the log's growth, not its size. It never anchors a log that is
    shorter than, or differs from, the newest checkpoint: that would hide the truncation.
    """
    try:
        newest = latest_checkpoint()
    except CheckpointFileError as exc:
        logger.error("Audit checkpoint not written: the checkpoint file was altered (%s)", exc)
        return None
    with transaction.atomic():
        head = ChainHead.objects.filter(pk=1).first()
        if head is None:
            if newest is not None or AuditEntry.objects.exists():
                logger.error("Audit checkpoint not written: the chain head is missing")
            return None
        problem = _problem_since(newest, head)
    if problem:
        logger.error("Audit checkpoint not written: %s; run manage.py verify_audit", problem)
        return None
    if newest is not None and (newest.seq, newest.head_hash) == (head.last_seq, head.last_hash):
        return newest  # nothing new to anchor
    return append_checkpoint(head.last_seq, head.last_hash)


def verify_since_checkpoint() -> ChainReport:
    """The hourly job's check, without writing a checkpoint: the entries after the newest signed checkpoint, up to
    the chain head. Its cost follows the log's growth, not its size, so a page that prints the head (the governors'
    report) can say whether the chain holds; the entries before the checkpoint were checked when it was signed, and
    `verify_chain` walks the whole log."""
    try:
        newest = latest_checkpoint()
    except CheckpointFileError as exc:
        return ChainReport(False, 0, f"the checkpoint file was altered: {exc}")
    head = ChainHead.objects.filter(pk=1).first()
    if head is None:
        if newest is None and not AuditEntry.objects.exists():
            return ChainReport(True, 0)
        return ChainReport(False, 0, "the chain head is missing (deleted)", checkpoint=newest)
    problem = _problem_since(newest, head)
    return ChainReport(not problem, head.last_seq - (newest.seq if newest else 0), problem, checkpoint=newest)


def _problem_since(newest: Checkpoint | None, head: ChainHead) -> str:
    start_seq, prev = 1, GENESIS_HASH
    if newest is not None and newest.seq > 0:
        anchor = AuditEntry.objects.filter(seq=newest.seq).first()
        if head.last_seq < newest.seq or anchor is None or anchor.entry_hash != newest.head_hash:
            return f"the log no longer matches the checkpoint at entry #{newest.seq}"
        start_seq, prev = newest.seq + 1, anchor.entry_hash
    expected = start_seq
    for entry in AuditEntry.objects.filter(seq__gte=start_seq).order_by("seq").iterator(chunk_size=2000):
        try:
            intact = entry.compute_hash() == entry.entry_hash
        except UnverifiableEntry:
            intact = False
        if entry.seq != expected or entry.prev_hash != prev or not intact:
            return f"entry #{expected} is not as it was written"
        prev, expected = entry.entry_hash, expected + 1
    if (expected - 1, prev) != (head.last_seq, head.last_hash):
        return "the entries do not end at the chain head"
    return ""


@dataclass(frozen=True)
class ChainAnchor:
    """What a reader can copy down to check the log later: the head now and the newest signed checkpoint."""

    seq: int
    head_hash: str
    checkpoint: Checkpoint | None
    checkpoint_problem: str = ""


def chain_anchor() -> ChainAnchor:
    """The head of the log and its newest checkpoint, for the audit page and the governors' report."""
    head = ChainHead.objects.filter(pk=1).first()
    try:
        checkpoint, problem = latest_checkpoint(), ""
    except CheckpointFileError as exc:
        checkpoint, problem = None, f"The checkpoint file was altered ({exc})."
    if head is None:
        return ChainAnchor(0, GENESIS_HASH, checkpoint, problem)
    return ChainAnchor(head.last_seq, head.last_hash, checkpoint, problem)
