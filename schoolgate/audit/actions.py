"""The one audit function every action calls, and the chain verifier."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from schoolgate.audit.models import AuditEntry, ChainHead


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

    1. Lock the chain head (a row lock on PostgreSQL; SQLite's IMMEDIATE transactions serialise writers).
    2. Build the entry with the next contiguous seq and the previous entry's hash.
    3. Hash it, save it and move the head, all in the caller's transaction, so an action that rolls
       back leaves no audit entry and an audit failure rolls the action back.
    """
    with transaction.atomic():
        head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
        actor_user = actor if getattr(actor, "is_authenticated", False) else None
        entry = AuditEntry(
            seq=head.last_seq + 1,
            at=timezone.now().astimezone(UTC),
            actor=actor_user,
            actor_label=(f"{actor_user.full_name} <{actor_user.email}>" if actor_user else str(actor or "system")),
            school=school or _school_of(target),
            action=action,
            object_type=target._meta.label_lower if target is not None else "",
            object_id=str(target.pk) if target is not None else "",
            object_repr=str(target)[:300] if target is not None else "",
            changes=_json_safe(changes),
            detail=_json_safe(detail),
            restricted=restricted,
            prev_hash=head.last_hash,
        )
        entry.entry_hash = entry.compute_hash()
        entry.save()
        head.last_seq, head.last_hash = entry.seq, entry.entry_hash
        head.save(update_fields=["last_seq", "last_hash"])
    return entry


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


def verify_chain() -> ChainReport:
    """Walk the log in order and name the first entry that was edited, deleted or inserted out of band."""
    from schoolgate.audit.models import GENESIS_HASH

    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        if entry.seq != expected_seq:
            return ChainReport(False, checked, f"entry #{expected_seq} is missing (deleted)", expected_seq)
        if entry.prev_hash != expected_prev:
            return ChainReport(False, checked, f"entry #{entry.seq} does not follow entry #{entry.seq - 1}", entry.seq)
        if entry.compute_hash() != entry.entry_hash:
            return ChainReport(False, checked, f"entry #{entry.seq} was changed after it was written", entry.seq)
        expected_prev = entry.entry_hash
        expected_seq += 1
        checked += 1
    head = ChainHead.objects.filter(pk=1).first()
    last_seq = expected_seq - 1
    if head is None or (head.last_seq, head.last_hash) == (last_seq, expected_prev):
        return ChainReport(True, checked)
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
