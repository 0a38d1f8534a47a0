"""Staff declarations: each school's settings, personal accounts that mention the school, the annual declaration,
pre-existing relationships with pupils or families (and their reviews), and exceptions for personal-account contact.

What a person writes about a relationship or an exception (who, why, the reviewer's notes, the decision's reasons)
is stored encrypted with the project's keys (`schoolgate/crypto.py`); what stays in plain columns is what the
schedules, the access rules and the lists need: people, statuses and dates.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from schoolgate import crypto
from schoolgate.schools.roles import Role

# The seed policies: a personal account that associates itself with the school must make clear, with an
# appropriate disclaimer, that the member of staff is not communicating on the school's behalf, and staff do not
# represent their personal views as the school's.
DEFAULT_DISCLAIMER = "Views are my own, not the school's. I do not post on behalf of the school."
DEFAULT_RELATIONSHIP_REVIEWERS = [Role.DSL.value, Role.DEPUTY_DSL.value]
DEFAULT_EXCEPTION_READERS = [Role.DSL.value]
# The annual declaration, in the words of the policy.
ANNUAL_STATEMENT = "I do not follow or engage with current or former pupils on personal accounts."


def _default_reviewers() -> list[str]:
    return list(DEFAULT_RELATIONSHIP_REVIEWERS)


def _default_exception_readers() -> list[str]:
    return list(DEFAULT_EXCEPTION_READERS)


# The policy: relationships and exceptions are discussed with the DSL (or deputies) and/or the headteacher, and
# contact is approved by the headteacher; a school may choose among these, never hand them to anyone else.
REVIEWER_CHOICES = [(r.value, r.label) for r in (Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER)]
APPROVER_CHOICES = [(r.value, r.label) for r in (Role.HEADTEACHER, Role.DSL, Role.DEPUTY_DSL)]


def _check_reviewer_roles(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("Choose at least one role.")
    allowed = {role for role, _ in REVIEWER_CHOICES}
    if set(value) - allowed:
        raise ValidationError("Choose among the DSL, the deputy DSLs and the headteacher.")


class DeclarationSettings(models.Model):
    """How a school runs its staff declarations, as data (a school without a row has the defaults)."""

    school = models.OneToOneField("schools.School", on_delete=models.CASCADE, related_name="declaration_settings")
    disclaimer_text = models.TextField(
        default=DEFAULT_DISCLAIMER,
        help_text="The disclaimer every personal account that mentions the school must carry.",
    )
    annual_interval_months = models.PositiveSmallIntegerField(
        default=12,
        validators=[
            MinValueValidator(1, "Ask at least once a month at most."),
            MaxValueValidator(36, "Ask at least every three years."),
        ],
        help_text="How often everyone makes the declaration about contact with pupils and former pupils.",
    )
    annual_notice_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MaxValueValidator(180, "Ask no more than 180 days before it is due.")],
        help_text="People are asked this many days before their declaration is due (and newcomers have this long).",
    )
    relationship_reviewer_roles = models.JSONField(
        default=_default_reviewers,
        validators=[_check_reviewer_roles],
        help_text="Who reviews declarations of relationships with pupils or families.",
    )
    relationship_review_months = models.PositiveSmallIntegerField(
        default=12,
        validators=[MinValueValidator(1, "Review at least a month ahead."), MaxValueValidator(36)],
        help_text="When a reviewed relationship is looked at again, unless the reviewer says otherwise.",
    )
    exception_approver_role = models.CharField(
        max_length=32,
        choices=APPROVER_CHOICES,
        default=Role.HEADTEACHER,
        help_text="Who approves contact with a pupil or parent on a personal account.",
    )
    exception_reader_roles = models.JSONField(
        default=_default_exception_readers,
        validators=[_check_reviewer_roles],
        help_text="Who else reads requests for such contact (besides the person asking and the approver).",
    )
    exception_reminder_days = models.PositiveSmallIntegerField(
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="The person and the approver are reminded this many days before an approved exception ends.",
    )

    class Meta:
        verbose_name_plural = "declaration settings"

    def __str__(self) -> str:
        return f"Declaration settings of {self.school}"


class Network(models.TextChoices):
    FACEBOOK = "facebook", "Facebook"
    INSTAGRAM = "instagram", "Instagram"
    X = "x", "X (Twitter)"
    LINKEDIN = "linkedin", "LinkedIn"
    TIKTOK = "tiktok", "TikTok"
    SNAPCHAT = "snapchat", "Snapchat"
    WHATSAPP = "whatsapp", "WhatsApp"
    YOUTUBE = "youtube", "YouTube"
    BLUESKY = "bluesky", "Bluesky"
    MASTODON = "mastodon", "Mastodon"
    BLOG = "blog", "A blog or website"
    GAMING = "gaming", "An online game"
    OTHER = "other", "Another site or app"


class PersonalAccountQuerySet(models.QuerySet):
    def current(self):
        return self.filter(withdrawn_at__isnull=True)


class PersonalAccount(models.Model):
    """A member's personal account that mentions or associates them with the school, with its disclaimer."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="personal_accounts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    network = models.CharField(max_length=20, choices=Network.choices)
    handle = models.CharField("Handle or link", max_length=300)
    mention = models.CharField("How it mentions the school", max_length=500)
    # The wording confirmed, as it was then: the school may change its disclaimer later.
    disclaimer_text = models.TextField()
    disclaimer_confirmed_at = models.DateTimeField()
    declared_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    objects = PersonalAccountQuerySet.as_manager()

    class Meta:
        ordering = ["user__full_name", "network", "pk"]
        indexes = [models.Index(fields=["school", "user"])]

    def __str__(self) -> str:
        # Shown in the audit log: a reference only, never the handle.
        return f"Personal account declaration {self.pk}"


class Answer(models.TextChoices):
    YES = "yes", "Yes, I comply"
    NO = "no", "No"


class AnnualDeclarationQuerySet(models.QuerySet):
    def open(self):
        return self.filter(answered_at__isnull=True)

    def answered(self):
        return self.filter(answered_at__isnull=False)


class AnnualDeclaration(models.Model):
    """One cycle of the annual declaration for one member: asked (due by `due_on`), then answered.

    A "no" opens a safeguarding concern; this record keeps only the link to it, never the explanation."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="annual_declarations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    due_on = models.DateField(db_index=True)
    asked_at = models.DateTimeField(null=True, blank=True)
    overdue_reminded_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answer = models.CharField(max_length=3, choices=Answer.choices, blank=True)
    statement = models.TextField(default=ANNUAL_STATEMENT)
    concern = models.ForeignKey("concerns.Concern", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = AnnualDeclarationQuerySet.as_manager()

    class Meta:
        ordering = ["-due_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "user"], condition=Q(answered_at__isnull=True), name="one_open_annual_declaration"
            ),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True, answer="")
                | Q(answered_at__isnull=False, answer__in=["yes", "no"]),
                name="annual_declaration_answered_with_answer",
            ),
        ]

    def __str__(self) -> str:
        return f"Annual declaration {self.pk}"

    def state(self, today: dt.date | None = None) -> str:
        """ "answered", "overdue" (past its due date) or "due"."""
        if self.answered_at:
            return "answered"
        return "overdue" if self.due_on < (today or timezone.localdate()) else "due"


class RelationshipKind(models.TextChoices):
    FAMILY = "family", "A pupil is a relative of mine"
    FAMILY_FRIEND = "family_friend", "I am a friend of a pupil's family"
    NEIGHBOUR = "neighbour", "A pupil's family are my neighbours"
    OUTSIDE_SCHOOL = "outside_school", "I know a pupil through a club, faith group or activity"
    OWN_CHILD = "own_child", "My own child is a pupil"
    OTHER = "other", "Something else"


class RelationshipStatus(models.TextChoices):
    PENDING = "pending", "Waiting for review"
    ACKNOWLEDGED = "acknowledged", "Reviewed"
    WITHDRAWN = "withdrawn", "No longer applies"


def _seal(text: str) -> str:
    return crypto.encrypt(text) if text else ""


def _unseal(token: str) -> str:
    return crypto.decrypt(token) if token else ""


class RelationshipDeclaration(models.Model):
    """A pre-existing relationship with a pupil or a family that could compromise professional boundaries."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="relationship_declarations")
    # PROTECT: a safeguarding record keeps who made it (leavers are deactivated, not deleted).
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    declared_at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=20, choices=RelationshipKind.choices)
    text_encrypted = models.TextField()
    status = models.CharField(max_length=20, choices=RelationshipStatus.choices, default=RelationshipStatus.PENDING)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    next_review_on = models.DateField(null=True, blank=True)
    # The next review date the reviewers were last reminded of: one reminder per review cycle.
    review_reminded_for = models.DateField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-declared_at", "-pk"]
        indexes = [
            models.Index(fields=["school", "status"]),
            models.Index(fields=["next_review_on"], condition=Q(status="acknowledged"), name="relationship_review_due"),
        ]

    def __str__(self) -> str:
        return f"Relationship declaration {self.pk}"

    @property
    def text(self) -> str:
        return _unseal(self.text_encrypted)

    def seal(self, text: str) -> None:
        self.text_encrypted = _seal(text)

    def review_due(self, today: dt.date | None = None) -> bool:
        if self.status == RelationshipStatus.PENDING:
            return True
        return (
            self.status == RelationshipStatus.ACKNOWLEDGED
            and self.next_review_on is not None
            and self.next_review_on <= (today or timezone.localdate())
        )


class RelationshipReview(models.Model):
    """One review of a relationship declaration: the record keeps every review, never editing one."""

    declaration = models.ForeignKey(RelationshipDeclaration, on_delete=models.CASCADE, related_name="reviews")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(default=timezone.now)
    notes_encrypted = models.TextField(blank=True)
    next_review_on = models.DateField()

    class Meta:
        ordering = ["reviewed_at", "pk"]

    def __str__(self) -> str:
        return f"Review {self.pk} of relationship declaration {self.declaration_id}"

    @property
    def notes(self) -> str:
        return _unseal(self.notes_encrypted)


class ContactKind(models.TextChoices):
    PUPIL = "pupil", "A pupil"
    FORMER_PUPIL = "former_pupil", "A former pupil"
    CARER = "carer", "A parent or carer"


class ExceptionStatus(models.TextChoices):
    REQUESTED = "requested", "Waiting for a decision"
    APPROVED = "approved", "Approved"
    REFUSED = "refused", "Refused"
    WITHDRAWN = "withdrawn", "Withdrawn"
    LAPSED = "lapsed", "Ended (past its end date)"


class ContactException(models.Model):
    """A request to be in contact with a named pupil or parent on a personal account, and its decision.

    An approval has an end date (`expires_on`, the last day it applies); after it the exception has lapsed,
    whether or not the daily sweep has recorded that yet (`effective_status`)."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="contact_exceptions")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    network = models.CharField(max_length=20, choices=Network.choices)
    contact_kind = models.CharField(max_length=20, choices=ContactKind.choices)
    pupil = models.ForeignKey("pupils.Pupil", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # {"who": the person named in words, "reason": why}, each encrypted.
    who_encrypted = models.TextField(blank=True)
    reason_encrypted = models.TextField()
    needed_until = models.DateField()
    status = models.CharField(max_length=20, choices=ExceptionStatus.choices, default=ExceptionStatus.REQUESTED)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_reason_encrypted = models.TextField(blank=True)
    expires_on = models.DateField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [
            models.Index(fields=["school", "status"]),
            models.Index(fields=["expires_on"], condition=Q(status="approved"), name="approved_exception_expiry"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(expires_on__isnull=False), name="approved_exception_has_expiry"
            )
        ]

    def __str__(self) -> str:
        return f"Contact exception {self.pk}"

    @property
    def who(self) -> str:
        return _unseal(self.who_encrypted)

    @property
    def reason(self) -> str:
        return _unseal(self.reason_encrypted)

    @property
    def decision_reason(self) -> str:
        return _unseal(self.decision_reason_encrypted)

    def effective_status(self, today: dt.date | None = None) -> str:
        if self.status == ExceptionStatus.APPROVED and self.expires_on < (today or timezone.localdate()):
            return ExceptionStatus.LAPSED
        return self.status

    def effective_status_label(self) -> str:
        return ExceptionStatus(self.effective_status()).label

    def is_active(self, today: dt.date | None = None) -> bool:
        return self.effective_status(today) == ExceptionStatus.APPROVED

    def with_whom(self) -> str:
        """The pupil from the roster, or the person named in words (for the pages of those who read it)."""
        return str(self.pupil) if self.pupil_id else self.who
