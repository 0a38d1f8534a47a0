"""Audit entries, chained by hash, and the chain head that serialises appends."""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.db import models

from schoolgate.audit import keys as audit_keys

GENESIS_HASH = "0" * 64


class HashVersion(models.IntegerChoices):
    # Entries written before the keyed chain keep their plain hash: the log is never rewritten.
    SHA256 = 1, "SHA-256"
    # Keyed with a secret outside the database, so a forger with the database alone cannot re-hash the chain.
    HMAC_SHA256 = 2, "HMAC-SHA256"


class UnverifiableEntry(Exception):
    """An entry's hash cannot be recomputed: unknown hash version, or signed with a key not configured here."""


class AppendOnlyError(Exception):
    """The audit log is append-only: entries are never changed or deleted through the application."""


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit entries cannot be changed")

    def delete(self):
        raise AppendOnlyError("Audit entries cannot be deleted")

    def bulk_create(self, objs, batch_size=None, ignore_conflicts=False, update_conflicts=False, **kwargs):
        # An upsert would overwrite the existing row that has the same seq or hash.
        if update_conflicts:
            raise AppendOnlyError("Audit entries cannot be changed")
        return super().bulk_create(objs, batch_size=batch_size, ignore_conflicts=ignore_conflicts, **kwargs)

    def visible_at(self, school):
        return self.filter(school=school)


class AuditEntry(models.Model):
    # seq is contiguous (assigned under the chain-head lock), so a deleted row leaves a visible gap.
    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    # No database constraints on the references: an entry must outlive the rows it describes.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    actor_label = models.CharField(max_length=300)
    school = models.ForeignKey(
        "schools.School", null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    restricted = models.BooleanField(default=False)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)
    hash_version = models.PositiveSmallIntegerField(choices=HashVersion, default=HashVersion.HMAC_SHA256)
    key_id = models.CharField(max_length=12, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["school", "at"]), models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_label}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Audit entries cannot be changed")
        # Always INSERT: a new instance given an existing pk would otherwise UPDATE that row.
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit entries cannot be deleted")

    def hashed_fields(self) -> dict:
        """Every stored field but the row id (the database's handle, which says nothing about the decision)."""
        fields = {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor_id": self.actor_id,
            "actor_label": self.actor_label,
            "school_id": self.school_id,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "object_repr": self.object_repr,
            "changes": self.changes,
            "detail": self.detail,
            "restricted": self.restricted,
            "prev_hash": self.prev_hash,
        }
        if self.hash_version != HashVersion.SHA256:
            fields.update(hash_version=self.hash_version, key_id=self.key_id)
        return fields

    def compute_hash(self) -> str:
        canonical = json.dumps(self.hashed_fields(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if self.hash_version == HashVersion.SHA256:
            return hashlib.sha256(canonical.encode()).hexdigest()
        if self.hash_version != HashVersion.HMAC_SHA256:
            raise UnverifiableEntry(f"entry #{self.seq} has an unknown hash version")
        signature = audit_keys.sign(canonical.encode(), with_key=self.key_id)
        if signature is None:
            raise UnverifiableEntry(f"entry #{self.seq} was signed with an audit key that is not configured here")
        return signature


class ChainHead(models.Model):
    """A single row holding the newest seq and hash; locking it serialises appends on every database."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"audit chain at #{self.last_seq}"
