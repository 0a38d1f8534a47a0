"""Courses a school requires, who completed them, privacy self-checks, and each person's stored due dates."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from schoolgate.policy.models import GUIDANCE_READER_ROLES
from schoolgate.schools.roles import Role

# Roles a course or the self-check can be required of: everyone with a login at the school except the trust's
# administrators, who are not part of its staff.
REQUIRABLE_ROLES = [(value, label) for value, label in Role.choices if value != Role.TRUST_ADMIN]


def staff_roles() -> list[str]:
    """Everyone who works with pupils, volunteers included: who the defaults require."""
    return sorted(GUIDANCE_READER_ROLES)


def validate_roles(value) -> None:
    allowed = {v for v, _ in REQUIRABLE_ROLES}
    if not isinstance(value, list) or not value:
        raise ValidationError("Choose at least one role.", code="no_roles")
    if set(value) - allowed:
        raise ValidationError("Choose roles from the list.", code="unknown_role")


class TrainingSettings(models.Model):
    """One school's schedule for the privacy self-check and for reminders (the courses carry their own)."""

    school = models.OneToOneField("schools.School", on_delete=models.CASCADE, related_name="training_settings")
    privacy_check_months = models.PositiveSmallIntegerField(
        "Repeat the privacy self-check every (months)",
        default=12,
        validators=[
            MinValueValidator(1, "The self-check can be repeated every month at most."),
            MaxValueValidator(36, "The self-check must be repeated at least every 36 months."),
        ],
    )
    privacy_check_due_within_days = models.PositiveSmallIntegerField(
        "New members of staff complete it within (days of joining)",
        default=30,
        validators=[MaxValueValidator(365, "New members of staff must complete it within a year of joining.")],
    )
    privacy_check_roles = models.JSONField(
        "Who completes the privacy self-check", default=staff_roles, validators=[validate_roles]
    )
    reminder_days_before = models.PositiveSmallIntegerField(
        "Remind people this many days before something is due",
        default=14,
        validators=[
            MinValueValidator(1, "Reminders go at least a day before."),
            MaxValueValidator(90, "Reminders go at most 90 days before."),
        ],
    )

    class Meta:
        verbose_name_plural = "training settings"

    def __str__(self) -> str:
        return f"Training settings of {self.school}"

    def requires_privacy_check(self, roles) -> bool:
        return bool(set(roles) & set(self.privacy_check_roles))


class CourseKind(models.TextChoices):
    INDUCTION = "induction", "Induction"
    REFRESHER = "refresher", "Refresher"
    OTHER = "other", "Other"


class Course(models.Model):
    """Training the school requires of some roles: once (induction), or renewed every so many months."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="courses")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=CourseKind.choices, default=CourseKind.OTHER)
    description = models.TextField("What it covers", blank=True, max_length=2000)
    roles = models.JSONField("Who must take it", default=staff_roles, validators=[validate_roles])
    renewal_months = models.PositiveSmallIntegerField(
        "Renew every (months)",
        null=True,
        blank=True,
        validators=[
            MinValueValidator(1, "A course can be renewed every month at most."),
            MaxValueValidator(60, "A course must be renewed at least every five years, or taken once."),
        ],
        help_text="Leave empty for a course taken once.",
    )
    due_within_days = models.PositiveSmallIntegerField(
        "First due within (days)",
        default=30,
        validators=[MaxValueValidator(730, "Give new members of staff at most two years.")],
        help_text="Counted from the day a person joined the school, or from the day the course was added if later.",
    )
    is_active = models.BooleanField(
        "Required", default=True, help_text="Turn off to stop requiring it; its records are kept."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["school", "-is_active", "kind", "name"]
        constraints = [models.UniqueConstraint(fields=["school", "name"], name="one_course_name_per_school")]

    def __str__(self) -> str:
        return self.name

    def applies_to(self, roles) -> bool:
        return self.is_active and bool(set(roles) & set(self.roles))

    def roles_display(self) -> str:
        return ", ".join(label for value, label in REQUIRABLE_ROLES if value in self.roles)

    def renewal_display(self) -> str:
        if not self.renewal_months:
            return "Once"
        if self.renewal_months % 12 == 0:
            years = self.renewal_months // 12
            return "Every year" if years == 1 else f"Every {years} years"
        return f"Every {self.renewal_months} months"


class CompletionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for confirmation"
    CONFIRMED = "confirmed", "Confirmed"
    DECLINED = "declined", "Not confirmed"


class CompletionQuerySet(models.QuerySet):
    def confirmed(self):
        return self.filter(status=CompletionStatus.CONFIRMED)

    def pending(self):
        return self.filter(status=CompletionStatus.PENDING)

    def at_school(self, school):
        return self.filter(course__school=school)


class Completion(models.Model):
    """One person completed one course on a day. It counts once confirmed by a leader or safeguarding lead:
    at once when they record it for someone else, later when the person records it themselves."""

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="completions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_completions")
    completed_on = models.DateField()
    note = models.CharField(
        "Certificate or note", max_length=300, blank=True, help_text="Who ran it, a certificate number, a link."
    )
    status = models.CharField(max_length=16, choices=CompletionStatus.choices, default=CompletionStatus.PENDING)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(max_length=300, blank=True)

    objects = CompletionQuerySet.as_manager()

    class Meta:
        ordering = ["-completed_on", "-recorded_at"]
        indexes = [models.Index(fields=["course", "user", "status"])]

    def __str__(self) -> str:
        return f"{self.course} completed by {self.user} on {self.completed_on:%-d %B %Y}"

    @property
    def is_pending(self) -> bool:
        return self.status == CompletionStatus.PENDING


class PrivacyCheck(models.Model):
    """One completed personal-account privacy self-check. The answers are the person's own: pages show them only
    to that person; leaders see that it was done, and when."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="privacy_checks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="privacy_checks")
    completed_at = models.DateTimeField()
    answers = models.JSONField(default=dict)  # {item key: "yes" | "not_yet" | "not_applicable"}

    class Meta:
        ordering = ["-completed_at"]
        indexes = [models.Index(fields=["school", "user", "completed_at"])]

    def __str__(self) -> str:
        return f"Privacy self-check by {self.user}"


class DeadlineQuerySet(models.QuerySet):
    def overdue(self, today: dt.date):
        return self.filter(due_on__lt=today, user__is_active=True)


class Deadline(models.Model):
    """When one person's next course (or privacy self-check, when `course` is empty) is due, stored so that the
    dashboard reads it in one query and the daily sweep finds reminders by date. Recomputed from the records by
    `actions.refresh_deadlines`; each reminder is claimed once per due date."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="training_deadlines")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_deadlines")
    course = models.ForeignKey(Course, null=True, blank=True, on_delete=models.CASCADE, related_name="deadlines")
    due_on = models.DateField(db_index=True)
    reminded_before_at = models.DateTimeField(null=True, blank=True)
    reminded_overdue_at = models.DateTimeField(null=True, blank=True)

    objects = DeadlineQuerySet.as_manager()

    class Meta:
        ordering = ["due_on"]
        indexes = [models.Index(fields=["school", "due_on"])]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "course"], condition=Q(course__isnull=False), name="one_deadline_per_course"
            ),
            models.UniqueConstraint(
                fields=["school", "user"], condition=Q(course__isnull=True), name="one_privacy_check_deadline"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.duty_name} for {self.user}, due {self.due_on:%-d %B %Y}"

    @property
    def duty_name(self) -> str:
        return self.course.name if self.course_id else "Privacy self-check"

    def about(self) -> str:
        """The key of this deadline's reminders, resolved when the duty is done."""
        return f"training:deadline:{self.pk}"
