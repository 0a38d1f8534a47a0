"""Families who asked for the weekly email digest, each week's issue, and who has been sent it."""

from __future__ import annotations

import hashlib
import secrets

from django.db import models
from django.utils import timezone

from schoolgate import crypto


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SubscriberStatus(models.TextChoices):
    PENDING = "pending", "Waiting for confirmation"
    CONFIRMED = "confirmed", "Confirmed"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"


class DigestSubscriberQuerySet(models.QuerySet):
    def confirmed(self):
        return self.filter(status=SubscriberStatus.CONFIRMED)

    def counts_by_status(self) -> dict[str, int]:
        """How many addresses are in each state: what leaders see, without the addresses themselves."""
        counts = dict.fromkeys(SubscriberStatus.values, 0)
        for row in self.values("status").order_by().annotate(n=models.Count("pk")):
            counts[row["status"]] = row["n"]
        return counts


class DigestSubscriber(models.Model):
    """One address at one school; no login. The token in its links is the only proof of owning the address.

    The token is stored twice and usable from neither: a SHA-256 to find the subscriber a link names, and
    encrypted with the keys kept outside the database (schoolgate/crypto.py) to write it into each week's email.
    Whoever reads the database cannot confirm or unsubscribe anyone.
    """

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="digest_subscribers")
    # Stored lower-cased, so "Parent@X" and "parent@x" are one subscriber.
    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_encrypted = models.TextField(editable=False)
    status = models.CharField(
        max_length=12, choices=SubscriberStatus.choices, default=SubscriberStatus.PENDING, db_index=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # When we last emailed a confirmation link: repeated sign-ups within a few minutes send nothing more.
    confirmation_requested_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    objects = DigestSubscriberQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school", "email"], name="one_subscriber_per_address")]

    def __str__(self) -> str:
        # Never the address: this string reaches the audit log and admin messages.
        return f"Digest subscriber {self.pk} at {self.school}: {self.get_status_display()}"

    def save(self, *args, **kwargs) -> None:
        if not self.token_hash:  # a new subscriber gets its secret on first save, however it is created
            token = new_token()
            self.token_hash, self.token_encrypted = hash_token(token), crypto.encrypt(token)
        super().save(*args, **kwargs)

    @property
    def token(self) -> str:
        """The secret in this subscriber's confirm and unsubscribe links."""
        return crypto.decrypt(self.token_encrypted)

    @classmethod
    def for_token(cls, token: str) -> models.QuerySet:
        return cls.objects.filter(token_hash=hash_token(token))


class DigestIssue(models.Model):
    """One school's digest for one week; the posts it lists are those made public in [covers_from, covers_until)."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="digest_issues")
    week_start = models.DateField(help_text="The Monday of the week the issue went out.")
    covers_from = models.DateTimeField()
    covers_until = models.DateTimeField()
    # Set by the job from its own clock (not auto_now_add) so a sweep can tell a fresh issue from a stale one.
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-week_start"]
        constraints = [models.UniqueConstraint(fields=["school", "week_start"], name="one_digest_per_week")]

    def __str__(self) -> str:
        return f"{self.school} digest, week of {self.week_start:%-d %B %Y}"


class DigestDelivery(models.Model):
    """The claim on sending one issue to one subscriber: the unique row is what stops a second email.

    A worker claims the row (claimed_at) before sending and records sent_at only after the mail server
    accepted the message; a claim with no sent_at that is older than a few minutes belongs to a worker
    that died, and the retry sweep may take it over.
    """

    issue = models.ForeignKey(DigestIssue, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(DigestSubscriber, on_delete=models.CASCADE, related_name="deliveries")
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "digest deliveries"
        constraints = [models.UniqueConstraint(fields=["issue", "subscriber"], name="one_digest_per_subscriber")]

    def __str__(self) -> str:
        state = f"sent {self.sent_at:%-d %B %Y, %H:%M}" if self.sent_at else "not sent"
        return f"{self.issue} to subscriber {self.subscriber_id}: {state}"
