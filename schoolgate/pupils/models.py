"""Pupil and parent/carer records as a school's information system holds them."""

from __future__ import annotations

from django.db import models

from schoolgate.pupils import year_groups


class Pupil(models.Model):
    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="pupils")
    upn = models.CharField("UPN or admission number", max_length=20)
    legal_forename = models.CharField(max_length=100)
    legal_surname = models.CharField(max_length=100)
    preferred_forename = models.CharField(max_length=100, blank=True)
    preferred_surname = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    year_group = models.CharField(max_length=20, blank=True)
    registration_group = models.CharField(max_length=40, blank=True)
    # Leavers stay as former pupils: staff must not engage with them either (RS-STAFF-1).
    leaving_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["legal_surname", "legal_forename"]
        constraints = [models.UniqueConstraint(fields=["school", "upn"], name="unique_pupil_upn")]

    def __str__(self) -> str:
        return f"{self.forename} {self.surname}"

    @property
    def forename(self) -> str:
        return self.preferred_forename or self.legal_forename

    @property
    def surname(self) -> str:
        return self.preferred_surname or self.legal_surname

    @property
    def year_group_order(self) -> tuple:
        """Sorts Nursery < Reception < Year 1 < … < Year 13, then anything else."""
        return year_groups.sort_key(self.year_group)


class Carer(models.Model):
    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="carers")
    full_name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    pupils = models.ManyToManyField(Pupil, through="CarerLink", related_name="carers")

    class Meta:
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name


class CarerLink(models.Model):
    carer = models.ForeignKey(Carer, on_delete=models.CASCADE)
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE)
    relationship = models.CharField(max_length=60, blank=True)
    parental_responsibility = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["carer", "pupil"], name="one_link_per_carer_pupil")]

    def __str__(self) -> str:
        return f"{self.carer} — {self.relationship} of {self.pupil}"


class ImportKind(models.TextChoices):
    PUPILS = "pupils", "Pupils"
    CONTACTS = "contacts", "Parents and carers"


class ImportMapping(models.Model):
    """Which column of a school's exports holds which field: chosen once per school and kind, then remembered."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="import_mappings")
    kind = models.CharField(max_length=20, choices=ImportKind.choices)
    mapping = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school", "kind"], name="one_import_mapping_per_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} columns at {self.school}"


class ImportStatus(models.TextChoices):
    CHECKING = "checking", "Checking"
    INVALID = "invalid", "Has problems"
    VALIDATED = "validated", "Checked, waiting for confirmation"
    APPLYING = "applying", "Importing"
    APPLIED = "applied", "Imported"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class ImportRun(models.Model):
    """One uploaded export: what was checked, what the person confirmed, and what the import did."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="import_runs")
    kind = models.CharField(max_length=20, choices=ImportKind.choices)
    uploaded_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    filename = models.CharField(max_length=255)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)
    # The file as uploaded, in private storage like photos' originals (never served): confirming applies exactly
    # what was checked. Deleted once applied, cancelled or a day old.
    upload = models.FileField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=20, choices=ImportStatus.choices, default=ImportStatus.CHECKING)
    problems = models.JSONField(default=list)
    # Probable duplicate pupils and the like: worth a look, but they do not stop the import.
    warnings = models.JSONField(default=list)
    # The first rows as they would be stored, for the person to look at before confirming.
    preview = models.JSONField(default=list)
    rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    left_count = models.PositiveIntegerField(default=0)
    links_count = models.PositiveIntegerField(default=0)
    # Pupils on roll at the school but not in this file (pupil imports only).
    missing_count = models.PositiveIntegerField(default=0)
    mark_missing_as_left = models.BooleanField(default=False)
    confirmed_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    progress_done = models.PositiveBigIntegerField(default=0)
    progress_total = models.PositiveBigIntegerField(default=0)
    # The job checking or applying the file holds a lease: if its worker dies, another may take over once the
    # lease has run out (a periodic job looks for those), and a job that lost its lease writes nothing.
    lease_token = models.CharField(max_length=32, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import {self.filename} ({self.get_status_display().lower()})"

    @property
    def is_queued(self) -> bool:
        return self.status == ImportStatus.VALIDATED and self.confirmed_at is not None

    @property
    def in_progress(self) -> bool:
        return self.is_queued or self.status == ImportStatus.APPLYING

    @property
    def is_checking(self) -> bool:
        return self.status == ImportStatus.CHECKING

    @property
    def is_editable(self) -> bool:
        """Checked but not confirmed, with the file still kept: columns can change, it can be confirmed."""
        waiting = self.status in {ImportStatus.INVALID, ImportStatus.VALIDATED} and not self.confirmed_at
        return waiting and bool(self.upload)

    def warning_list(self) -> list:
        from schoolgate.pupils.imports import Problem

        return [Problem.from_dict(p) for p in self.warnings]

    @property
    def percent(self) -> int:
        return int(100 * self.progress_done / self.progress_total) if self.progress_total else 0

    def problem_list(self) -> list:
        from schoolgate.pupils.imports import Problem

        return [Problem.from_dict(p) for p in self.problems]


# Photo consent (RS-IMG-1, AW-IMG-1): a register per pupil and per use, kept as a full history.


class ConsentUse(models.TextChoices):
    SOCIAL_MEDIA_PHOTO = "social_media_photo", "Photo on the school's official social media"
    WEBSITE_PHOTO = "website_photo", "Photo on the school website"
    PRINT_PHOTO = "print_photo", "Photo in print or the press"
    NAME_WITH_PHOTO = "name_with_photo", "Name published with a photo"
    SOCIAL_MEDIA_ACTIVITY = "social_media_activity", "Taking part in official social media activity"

    @property
    def description(self) -> str:
        return CONSENT_USE_DESCRIPTIONS[self]


# What each use means, in the words families read on the consent page.
CONSENT_USE_DESCRIPTIONS = {
    ConsentUse.SOCIAL_MEDIA_PHOTO: (
        "Photos or videos in which your child can be seen may be posted on the school's own official social "
        "media accounts (the ones listed on our website). We never post them on personal accounts."
    ),
    ConsentUse.WEBSITE_PHOTO: (
        "Photos or videos in which your child can be seen may appear on the school's website, for example "
        "on news or class pages."
    ),
    ConsentUse.PRINT_PHOTO: (
        "Photos in which your child can be seen may appear in printed material such as the prospectus or "
        "newsletter, or be given to local newspapers for a story about the school."
    ),
    ConsentUse.NAME_WITH_PHOTO: (
        "Your child's first name may be printed or posted next to a photo of them (for example to celebrate "
        "an achievement). Without this, we never put a name and a photo of your child together."
    ),
    ConsentUse.SOCIAL_MEDIA_ACTIVITY: (
        "Your child may take part in official social media activity run by staff, such as helping write a "
        "class post or recording a message for the school's accounts. They never use their own accounts for it."
    ),
}

# The uses a "do not photograph" request overrides: every use that shows the pupil's image or ties a
# name to it. Taking part in social media activity (writing a class post) needs no photo of the pupil.
PHOTO_USES = frozenset(
    {ConsentUse.SOCIAL_MEDIA_PHOTO, ConsentUse.WEBSITE_PHOTO, ConsentUse.PRINT_PHOTO, ConsentUse.NAME_WITH_PHOTO}
)


class ConsentDecision(models.TextChoices):
    GIVEN = "given", "Given"
    REFUSED = "refused", "Refused"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ConsentChannel(models.TextChoices):
    PAPER = "paper", "Paper form"
    EMAIL = "email", "Email"
    ONLINE = "online", "Online form (family link)"
    IN_PERSON = "in_person", "In person"


class ConsentRecord(models.Model):
    """One decision about one use for one pupil. Append-only: a correction is a newer record, never an edit."""

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="consent_records")
    use = models.CharField(max_length=30, choices=ConsentUse.choices)
    decision = models.CharField(max_length=12, choices=ConsentDecision.choices)
    given_by = models.ForeignKey(Carer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # The pupil answered for themself (typically to refuse or withdraw); then given_by is empty.
    given_by_pupil = models.BooleanField(default=False)
    channel = models.CharField(max_length=12, choices=ConsentChannel.choices)
    decided_on = models.DateField()
    # The first day the consent no longer applies; empty when it lasts until withdrawn.
    expires_on = models.DateField(null=True, blank=True)
    # Empty when the family answered themselves through a family link.
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-decided_on", "-recorded_at", "-pk"]
        indexes = [models.Index(fields=["pupil", "use", "decided_on"], name="consent_pupil_use_date")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(given_by__isnull=False) | models.Q(given_by_pupil=True),
                name="consent_has_a_decider",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_on__isnull=True) | models.Q(expires_on__gt=models.F("decided_on")),
                name="consent_expires_after_decision",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_use_display()}: {self.get_decision_display().lower()} on {self.decided_on:%-d %B %Y}"

    def save(self, *args, **kwargs):
        # The register is evidence of what families said and when: rows are never rewritten.
        if not self._state.adding:
            raise ValueError("Consent records are never edited; record a new decision instead.")
        super().save(*args, **kwargs)

    @property
    def decided_by_label(self) -> str:
        return "The pupil" if self.given_by_pupil else str(self.given_by)


class DoNotPhotograph(models.Model):
    """A pupil or parent asked that the pupil not be photographed: overrides any consent to photo uses."""

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="do_not_photograph")
    requested_by = models.ForeignKey(Carer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    requested_by_pupil = models.BooleanField(default=False)
    requested_on = models.DateField()
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)
    # The first day the request no longer applies.
    lifted_on = models.DateField(null=True, blank=True)
    lifted_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    lifted_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["pupil"], condition=models.Q(lifted_on__isnull=True), name="one_open_do_not_photograph"
            ),
            models.CheckConstraint(
                condition=models.Q(requested_by__isnull=False) | models.Q(requested_by_pupil=True),
                name="do_not_photograph_has_a_requester",
            ),
        ]

    def __str__(self) -> str:
        return f"Do not photograph {self.pupil} (from {self.requested_on:%-d %B %Y})"

    @property
    def requested_by_label(self) -> str:
        return "The pupil" if self.requested_by_pupil else str(self.requested_by)

    def active_on(self, day) -> bool:
        return self.requested_on <= day and (self.lifted_on is None or self.lifted_on > day)


class FamilyLinkQuerySet(models.QuerySet):
    def usable(self, now):
        return self.filter(revoked_at=None, expires_at__gt=now)


class FamilyLink(models.Model):
    """A secret link that lets one parent/carer answer for their own children, without an account.

    Only a SHA-256 of the token is stored: whoever reads the database cannot answer for a family.
    """

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="family_links")
    carer = models.ForeignKey(Carer, on_delete=models.CASCADE, related_name="family_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    # When the family last answered through it; it stays usable until it expires.
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = FamilyLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        # Never the token, and no name: this reaches the audit log.
        return f"Family link {self.pk} at {self.school}"

    def is_usable(self, now) -> bool:
        return self.revoked_at is None and self.expires_at > now
