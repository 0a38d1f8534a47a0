"""Safeguarding concerns: the report, who it is about, its evidence, its handling chronology and its clocks.

Everything a person wrote (the account, where it was seen, descriptions of people, handling notes, evidence files
and their names) is stored encrypted with the project's keys (`schoolgate/crypto.py`); what stays in plain
columns is what the clocks, the access rules and the lists need: categories, dates, links to people.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from schoolgate import crypto
from schoolgate.schools.roles import Role


class Category(models.TextChoices):
    PUPIL_CONDUCT = "pupil_conduct", "Online conduct of a pupil"
    STAFF_CONDUCT = "staff_conduct", "Online conduct of a member of staff"
    PARENT_CONDUCT = "parent_conduct", "Online conduct of a parent or carer"
    # AW-CON-2
    PERSONAL_ACCOUNT_CONTACT = "personal_account_contact", "A pupil or parent contacted me on a personal account"
    # AW-CON-3: the reporter is the subject, so it goes to leadership (the headteacher), as a staff concern does.
    SELF_REPORT = "self_report", "Something I shared conflicts with my role (telling leadership)"
    COLLEAGUE_ABUSE = "colleague_abuse", "Abuse by a colleague on social networks"  # RS-ABU-2
    UNACCEPTABLE_CONDUCT = "unacceptable_conduct", "Defamatory, discriminatory or harassing content"  # RS-CON-1
    DATA_BREACH = "data_breach", "Personal data or confidentiality breach"  # RS-CON-1
    UNDERAGE_USE = "underage_use", "A pupil using a site below its minimum age"  # AW-PUPIL-1
    INAPPROPRIATE_IMAGES = "inappropriate_images", "Inappropriate images"
    BULLYING = "bullying", "Bullying"
    DISCLOSURE = "disclosure", "A child told me something (a disclosure)"
    OTHER = "other", "Something else that worries me"


class WhereKind(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    OFFICIAL_ACCOUNT = "official_account", "On one of the school's official accounts"
    PERSONAL_ACCOUNT = "personal_account", "On a personal account"
    ONLINE_OTHER = "online_other", "Elsewhere online (a site, an app, a group chat)"


class Network(models.TextChoices):
    FACEBOOK = "facebook", "Facebook"
    INSTAGRAM = "instagram", "Instagram"
    X = "x", "X (Twitter)"
    TIKTOK = "tiktok", "TikTok"
    SNAPCHAT = "snapchat", "Snapchat"
    WHATSAPP = "whatsapp", "WhatsApp"
    YOUTUBE = "youtube", "YouTube"
    BLUESKY = "bluesky", "Bluesky"
    MASTODON = "mastodon", "Mastodon"
    GAMING = "gaming", "An online game"
    OTHER = "other", "Another site or app"


class Audience(models.TextChoices):
    """Whose concern this is to read, decided by who it is about (the table is in concerns/access.py)."""

    SAFEGUARDING = "safeguarding", "The safeguarding team"
    STAFF = "staff", "About a member of staff"
    HEADTEACHER = "headteacher", "About the headteacher"


class Status(models.TextChoices):
    NEW = "new", "Not yet read"
    OPEN = "open", "Being handled"
    CLOSED = "closed", "Closed"


def _seal(data: dict) -> str:
    return crypto.encrypt(json.dumps(data, sort_keys=True))


def _unseal(token: str) -> dict:
    return json.loads(crypto.decrypt(token)) if token else {}


class Concern(models.Model):
    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="concerns")
    # PROTECT: a safeguarding record keeps who made it (leavers are deactivated, not deleted). Empty only when no
    # person reported it: Schoolgate's screening found it on an official account, and `source` says so.
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=200, blank=True)
    reported_at = models.DateTimeField(default=timezone.now, db_index=True)
    happened_on = models.DateField()
    happened_time = models.TimeField(null=True, blank=True)
    category = models.CharField(max_length=32, choices=Category.choices)
    where_kind = models.CharField(max_length=20, choices=WhereKind.choices)
    network = models.CharField(max_length=20, choices=Network.choices, blank=True)
    # {"text": what they saw or were told, "where": account/post/URL, "carer": …, "other": …}, encrypted.
    content_encrypted = models.TextField()
    audience = models.CharField(max_length=20, choices=Audience.choices, default=Audience.SAFEGUARDING)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    # The first reader to open it: all the reporter is ever told ("received, read by …").
    first_read_at = models.DateTimeField(null=True, blank=True)
    first_read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    # The handling as it stands, kept from the latest entry of each kind for the log and the page (RS-ROLE-1);
    # the entries remain the record.
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    procedure = models.CharField(max_length=40, blank=True)
    procedure_name = models.CharField(max_length=120, blank=True)
    # When the record is next due for a retention review (concerns/retention.py), stored so the retention list
    # is one indexed query; recomputed whenever what it depends on changes, and nightly.
    review_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-reported_at", "-pk"]
        indexes = [
            models.Index(fields=["school", "status", "-reported_at"]),
            models.Index(fields=["school", "review_on"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(reported_by__isnull=False) | ~Q(source=""), name="concern_has_a_reporter_or_source"
            )
        ]

    def __str__(self) -> str:
        # Shown in the audit log and the admin: a reference only, never what the concern says.
        return f"Concern {self.pk}"

    @property
    def reference(self) -> str:
        return f"C-{self.pk:05d}"

    @property
    def reported_by_label(self) -> str:
        """Who reported it, as the concern's pages say it: a person, or what found it."""
        return self.reported_by.full_name if self.reported_by_id else self.source

    @property
    def content(self) -> dict:
        return _unseal(self.content_encrypted)

    def seal(self, **content: str) -> None:
        self.content_encrypted = _seal(content)

    def subject_user_ids(self) -> set[int]:
        return {s.user_id for s in self.subjects.all() if s.user_id}


class SubjectKind(models.TextChoices):
    PUPIL = "pupil", "Pupil"
    STAFF = "staff", "Member of staff"
    CARER = "carer", "Parent or carer"
    OTHER = "other", "Someone else or unknown"


class Subject(models.Model):
    """One person a concern is about: a pupil from the roster, a member of the school, or a described person."""

    concern = models.ForeignKey(Concern, on_delete=models.CASCADE, related_name="subjects")
    kind = models.CharField(max_length=10, choices=SubjectKind.choices)
    pupil = models.ForeignKey("pupils.Pupil", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # For the retention of an allegation against staff (until their normal pension age, or 10 years): set by a
    # reader when known, never taken from anywhere else.
    staff_date_of_birth = models.DateField(null=True, blank=True)
    staff_pension_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=SubjectKind.PUPIL, pupil__isnull=False, user__isnull=True)
                | Q(kind=SubjectKind.STAFF, user__isnull=False, pupil__isnull=True)
                | (Q(kind__in=[SubjectKind.CARER, SubjectKind.OTHER]) & Q(pupil__isnull=True, user__isnull=True)),
                name="concern_subject_matches_kind",
            )
        ]

    def __str__(self) -> str:
        return f"Subject of concern {self.concern_id}"


class Evidence(models.Model):
    """A screenshot or document, encrypted in the database with the concern: saved (or not) in one transaction
    with it, covered by key rotation, and served only through the permission-checked, audited view."""

    concern = models.ForeignKey(Concern, on_delete=models.CASCADE, related_name="evidence")
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    name_encrypted = models.TextField()
    data_encrypted = models.TextField()
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        verbose_name_plural = "evidence"

    def __str__(self) -> str:
        return f"Evidence {self.pk} of concern {self.concern_id}"

    @property
    def name(self) -> str:
        return crypto.decrypt(self.name_encrypted)

    def data(self) -> bytes:
        return crypto.fernet().decrypt(self.data_encrypted.encode())


class EntryKind(models.TextChoices):
    ASSESSMENT = "assessment", "Initial assessment"
    ROUTED = "routed", "Routed to a procedure"
    AGENCY = "agency", "Agency referral or decision"
    ACTION = "action", "Action"
    PARENT_CONTACT = "parent_contact", "Contact with a parent or carer"
    NOTE = "note", "Note or discussion"
    OUTCOME = "outcome", "Decision or outcome"
    CLOSURE = "closure", "Closed"
    CORRECTION = "correction", "Correction"
    LEAD = "lead", "Investigation lead"
    NO_PARENT_CONTACT = "no_parent_contact", "Parents or carers not contacted"
    REOPENED = "reopened", "Reopened"
    RETENTION = "retention", "Retention review"


# AW-CON-4: concerns about pupils' use that are shared with their parents or carers; such a concern is not closed
# until the contact, or the reason there was none, is recorded.
PARENT_CONTACT_CATEGORIES = frozenset({Category.UNDERAGE_USE, Category.INAPPROPRIATE_IMAGES})


class Agency(models.TextChoices):
    LADO = "lado", "Local authority designated officer (LADO)"
    SOCIAL_CARE = "social_care", "Children's social care"
    POLICE = "police", "Police"
    CEOP = "ceop", "CEOP"
    ICO = "ico", "Information Commissioner's Office (ICO)"
    NETWORK = "network", "The network's own report"
    OTHER = "other", "Another agency"


class AgencyDecision(models.TextChoices):
    REFERRED = "referred", "Referred or notified"
    NOT_REFERRED = "not_referred", "Decided not to refer or notify"


class ContactMethod(models.TextChoices):
    PHONE = "phone", "Phone"
    MEETING = "meeting", "Meeting"
    EMAIL = "email", "Email"
    LETTER = "letter", "Letter"
    OTHER = "other", "Other"


class AppendOnly(Exception):
    """A handling entry cannot be changed or removed: a correction is a new entry."""


class Entry(models.Model):
    """One step in a concern's chronology. Never edited or deleted: a correction is a new entry naming the one it
    corrects, with its reason, and the chronology shows both."""

    concern = models.ForeignKey(Concern, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    recorded_at = models.DateTimeField(default=timezone.now, db_index=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # When it happened, if not when it was recorded (a phone call this morning, a referral made yesterday).
    occurred_at = models.DateTimeField(null=True, blank=True)
    # The free text of the entry ({"text", "reason", "contact", "shared", "outcome", "reference"}), encrypted.
    body_encrypted = models.TextField()
    procedure = models.CharField(max_length=40, blank=True)  # a key from the school's concern settings
    procedure_name = models.CharField(max_length=120, blank=True)  # as it was named when routed
    agency = models.CharField(max_length=20, choices=Agency.choices, blank=True)
    agency_decision = models.CharField(max_length=20, choices=AgencyDecision.choices, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    due_on = models.DateField(null=True, blank=True, db_index=True)
    contact_method = models.CharField(max_length=10, choices=ContactMethod.choices, blank=True)
    keep_until = models.DateField(null=True, blank=True)  # a retention review: kept, and reviewed again, then
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections")

    class Meta:
        ordering = ["recorded_at", "pk"]
        verbose_name_plural = "entries"

    def __str__(self) -> str:
        return f"Entry {self.pk} on concern {self.concern_id}"

    def save(self, *args, **kwargs):
        # Key rotation re-encrypts the same text under the newest key; nothing else is ever written twice.
        rotating = set(kwargs.get("update_fields") or ()) == {"body_encrypted"}
        if not self._state.adding and not rotating:
            raise AppendOnly("Handling entries are never changed; record a correction instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("Handling entries are never deleted; record a correction instead.")

    @property
    def body(self) -> dict:
        return _unseal(self.body_encrypted)

    def seal(self, **body: str) -> None:
        self.body_encrypted = _seal({key: value for key, value in body.items() if value})


class ClockKind(models.TextChoices):
    LADO = "lado", "Refer to the LADO"
    ICO = "ico", "Notify the ICO"


# The agency whose referral (or a recorded decision not to refer) stops each clock.
CLOCK_AGENCY = {ClockKind.LADO: Agency.LADO, ClockKind.ICO: Agency.ICO}


class ClockQuerySet(models.QuerySet):
    def running(self):
        return self.filter(stopped_at__isnull=True)


class Clock(models.Model):
    """A statutory deadline on a concern, stored so the periodic sweep can warn before it runs out."""

    concern = models.ForeignKey(Concern, on_delete=models.CASCADE, related_name="clocks")
    kind = models.CharField(max_length=10, choices=ClockKind.choices)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    stopped_by = models.ForeignKey(Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    warned_at = models.DateTimeField(null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)

    objects = ClockQuerySet.as_manager()

    class Meta:
        ordering = ["due_at"]
        indexes = [models.Index(fields=["due_at"], condition=Q(stopped_at__isnull=True), name="running_clock_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["concern", "kind"], condition=Q(stopped_at__isnull=True), name="one_running_clock_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} clock on concern {self.concern_id}"

    def is_overdue(self, now=None) -> bool:
        return self.stopped_at is None and self.due_at <= (now or timezone.now())


DEFAULT_PROCEDURES = [
    {"key": "anti_bullying", "name": "Anti-bullying policy"},
    {"key": "allegations", "name": "Allegations against staff", "clock": ClockKind.LADO.value},
    {"key": "behaviour", "name": "Behaviour policy"},
    {"key": "child_protection", "name": "Child protection"},
    {"key": "data_breach", "name": "Data breach (UK GDPR)", "clock": ClockKind.ICO.value},
]


class ConcernSettings(models.Model):
    """How a school handles concerns, as data: who reads which audience, the procedures, the clocks."""

    school = models.OneToOneField("schools.School", on_delete=models.CASCADE, related_name="concern_settings")
    # {audience: [role, …]}; an audience left out reads the defaults in concerns/access.py.
    readers = models.JSONField(default=dict, blank=True)
    # [{"key", "name", "clock"?}, …]: the procedures a concern is routed to (AW-CON-1); empty: the defaults.
    procedures = models.JSONField(default=list, blank=True)
    # RS-ROLE-1: who makes the initial assessment (empty: any reader of the concern).
    initial_assessment_role = models.CharField(max_length=32, choices=Role.choices, blank=True)
    lado_referral_working_days = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    # UK GDPR Art. 33: at most 72 hours.
    breach_notification_hours = models.PositiveSmallIntegerField(
        default=72, validators=[MinValueValidator(1), MaxValueValidator(72)]
    )
    clock_warning_hours = models.PositiveSmallIntegerField(
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(48)],
        help_text="Readers are told this many hours before a clock runs out.",
    )
    # Off by default: the LADO is the local authority's officer and works through school holidays, so a
    # closure week must not push a referral back (weekends and bank holidays always count as non-working).
    closures_stop_working_days = models.BooleanField(
        default=False, help_text="School closure days do not count as working days for the LADO clock."
    )
    # Retention (IRMS schools toolkit): a child protection record until the pupil's date of birth + 25 years; an
    # allegation against staff until their normal pension age or 10 years from it, whichever is longer. The
    # floors are the guidance's: a school may keep records longer, never shorter.
    retention_pupil_years = models.PositiveSmallIntegerField(
        default=25, validators=[MinValueValidator(25), MaxValueValidator(100)]
    )
    retention_staff_years = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(10), MaxValueValidator(100)]
    )
    # The normal pension age assumed when only a member of staff's date of birth is known (State Pension age,
    # which the Teachers' Pension Scheme follows for service since 2015).
    retention_pension_age = models.PositiveSmallIntegerField(
        default=67, validators=[MinValueValidator(55), MaxValueValidator(75)]
    )

    class Meta:
        verbose_name_plural = "concern settings"

    def __str__(self) -> str:
        return f"Concern settings of {self.school}"

    def procedure_list(self) -> list[dict]:
        return self.procedures or DEFAULT_PROCEDURES

    def clean(self) -> None:
        from schoolgate.concerns.access import check_readers_table

        try:
            check_readers_table(self.readers)
        except ValueError as error:
            raise ValidationError({"readers": str(error)}) from error
