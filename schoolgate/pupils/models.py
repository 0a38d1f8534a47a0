"""Pupil and parent/carer records as a school's information system holds them."""

from __future__ import annotations

from django.db import models


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
    # The decoded file, so that confirming applies exactly what was checked; emptied once applied or cancelled.
    content = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=ImportStatus.choices, default=ImportStatus.INVALID)
    problems = models.JSONField(default=list)
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
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
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
    def percent(self) -> int:
        return int(100 * self.progress_done / self.progress_total) if self.progress_total else 0

    def problem_list(self) -> list:
        from schoolgate.pupils.imports import Problem

        return [Problem.from_dict(p) for p in self.problems]
