"""Versioned policy documents, the settings the software enforces, approvals and acknowledgements."""

from __future__ import annotations

import calendar
import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from schoolgate.requestmemo import memoized
from schoolgate.schools.roles import Role

# Who approves every new version (AW-LIFE-1): both approvals are recorded before it becomes current.
REQUIRED_APPROVER_ROLES = (Role.HEADTEACHER, Role.CHAIR_OF_GOVERNORS)
# Guidance (staff factsheets, the page for pupils and families) carries advice, not rules the governors set:
# one approval from either of these, given by someone other than the person who opened the draft.
GUIDANCE_APPROVER_ROLES = (Role.HEADTEACHER, Role.DSL)
# Who is asked to read and confirm staff factsheets: everyone who works with pupils, volunteers included.
GUIDANCE_READER_ROLES = frozenset(
    {Role.HEADTEACHER, Role.DSL, Role.DEPUTY_DSL, Role.LEADERSHIP, Role.STAFF, Role.VOLUNTEER}
)


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


class DocumentKind(models.TextChoices):
    SOCIAL_MEDIA_POLICY = "social_media_policy", "Social media policy"
    CODE_OF_CONDUCT = "code_of_conduct", "Staff code of conduct"
    ACCEPTABLE_USE = "acceptable_use", "Acceptable use policy"


class GuidanceKind(models.TextChoices):
    """Guidance documents: versioned and approved like policies, but a school keeps many factsheets."""

    FACTSHEET = "factsheet", "Staff guidance factsheet"
    PUPIL_GUIDANCE = "pupil_guidance", "Staying safe online: for pupils and families"


class Document(models.Model):
    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=32, choices=[*DocumentKind.choices, *GuidanceKind.choices])
    title = models.CharField(max_length=200)

    class Meta:
        ordering = ["school", "kind", "title"]
        constraints = [
            # One document of each policy kind (and one page for pupils); as many factsheets as the school needs.
            models.UniqueConstraint(
                fields=["school", "kind"], condition=~Q(kind="factsheet"), name="one_document_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} — {self.school}"

    @property
    def has_settings(self) -> bool:
        return self.kind == DocumentKind.SOCIAL_MEDIA_POLICY

    @property
    def is_guidance(self) -> bool:
        return self.kind in GuidanceKind.values

    @property
    def approver_roles(self) -> tuple[str, ...]:
        return GUIDANCE_APPROVER_ROLES if self.is_guidance else REQUIRED_APPROVER_ROLES

    @property
    def needs_every_approver(self) -> bool:
        """Policies need every approver role; guidance needs any one of them."""
        return not self.is_guidance

    @property
    def draft_permission(self) -> str:
        return "guidance.draft" if self.is_guidance else "policy.draft"

    @property
    def is_acknowledged(self) -> bool:
        """Whether members confirm reading it: not the public page for pupils and families."""
        return self.kind != GuidanceKind.PUPIL_GUIDANCE

    def approvers_label(self) -> str:
        labels = [Role(role).label.lower() for role in self.approver_roles]
        return (" and " if self.needs_every_approver else " or ").join(f"the {label}" for label in labels)

    def current_version(self) -> DocumentVersion | None:
        return self.versions.filter(status=VersionStatus.CURRENT).first()

    def draft_version(self) -> DocumentVersion | None:
        return self.versions.filter(status=VersionStatus.DRAFT).first()


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    CURRENT = "current", "Current"
    SUPERSEDED = "superseded", "Superseded"


class DocumentVersionQuerySet(models.QuerySet):
    def current(self):
        return self.filter(status=VersionStatus.CURRENT)

    def review_due_by(self, day: dt.date):
        return self.current().filter(next_review_on__lte=day)

    def at_school(self, school):
        return self.filter(document__school=school).select_related("document")

    def awaiting_approval_by(self, user, school):
        """Drafts that still need an approval in a role the person holds at the school."""
        held = school.roles_of(user)
        given = VersionApproval.objects.filter(version=models.OuterRef("pk"), voided_at__isnull=True)
        pending = Q(pk__in=[])
        for role in (role for role in REQUIRED_APPROVER_ROLES if role in held):
            pending |= Q(document__kind__in=DocumentKind.values) & ~models.Exists(given.filter(role=role))
        if held & set(GUIDANCE_APPROVER_ROLES):
            # Guidance waits for any one approver who did not open the draft.
            pending |= Q(document__kind__in=GuidanceKind.values) & ~models.Exists(given) & ~Q(drafted_by=user.pk)
        return self.at_school(school).filter(status=VersionStatus.DRAFT).filter(pending)

    def unacknowledged_by(self, user, school):
        """The versions in force this person is asked to read and has not confirmed yet."""
        versions = (
            self.at_school(school)
            .current()
            .exclude(acknowledgements__user=user)
            .exclude(document__kind=GuidanceKind.PUPIL_GUIDANCE)
        )
        if not school.roles_of(user) & GUIDANCE_READER_ROLES:
            versions = versions.exclude(document__kind=GuidanceKind.FACTSHEET)
        return versions


class DocumentVersion(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    text = models.TextField(help_text="The school's own wording. The enforced settings are written out above it.")
    change_summary = models.CharField(max_length=300, blank=True)
    review_cycle_months = models.PositiveSmallIntegerField(
        default=12,
        validators=[
            MinValueValidator(1, "The review cycle must be at least 1 month."),
            MaxValueValidator(36, "The review cycle cannot be longer than 36 months."),
        ],
    )
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    drafted_at = models.DateTimeField()
    reviewed_on = models.DateField(null=True, blank=True, help_text="When the review was completed and approved.")
    became_current_at = models.DateTimeField(null=True, blank=True)
    # Stored and indexed so the daily sweep finds due reviews without computing dates for every row.
    next_review_on = models.DateField(null=True, blank=True, db_index=True)

    objects = DocumentVersionQuerySet.as_manager()

    class Meta:
        ordering = ["document", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="unique_version_number"),
            models.UniqueConstraint(fields=["document"], condition=Q(status="current"), name="one_current_version"),
            models.UniqueConstraint(fields=["document"], condition=Q(status="draft"), name="one_draft_version"),
        ]

    def __str__(self) -> str:
        return f"{self.document.title} v{self.number} ({self.get_status_display().lower()})"

    @property
    def school(self):
        return self.document.school

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT

    @property
    def is_current(self) -> bool:
        return self.status == VersionStatus.CURRENT

    def valid_approvals(self):
        return self.approvals.filter(voided_at__isnull=True).select_related("approved_by")

    def approval_for(self, role: str) -> VersionApproval | None:
        return next((a for a in self.valid_approvals() if a.role == role), None)

    def missing_approver_roles(self) -> list[str]:
        approved = {a.role for a in self.valid_approvals()}
        roles = self.document.approver_roles
        if not self.document.needs_every_approver:
            return [] if approved & set(roles) else list(roles)
        return [role for role in roles if role not in approved]

    def review_state(self, today: dt.date) -> str:
        """'ok', 'due' (within the reminder window) or 'overdue'."""
        from schoolgate.policy.reviews import REMINDER_WINDOW_DAYS

        if not self.next_review_on:
            return "ok"
        if today > self.next_review_on:
            return "overdue"
        if (self.next_review_on - today).days <= REMINDER_WINDOW_DAYS:
            return "due"
        return "ok"


class VersionApproval(models.Model):
    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="approvals")
    role = models.CharField(max_length=32, choices=Role.choices)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField()
    # An edit to the draft after approval voids it; the row stays so the history is visible.
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["approved_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "role"], condition=Q(voided_at__isnull=True), name="one_valid_approval_per_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} approval by {self.approved_by}"


class Nation(models.TextChoices):
    """The UK nation whose bank holidays stop the reply clock (codes as used by the holidays library)."""

    ENGLAND = "ENG", "England"
    WALES = "WLS", "Wales"
    SCOTLAND = "SCT", "Scotland"
    NORTHERN_IRELAND = "NIR", "Northern Ireland"


class PupilNamingRule(models.TextChoices):
    NO_NAMES = "no_names", "No pupil names in public posts"
    FIRST_NAMES_ONLY = "first_names_only", "First names only, never surnames"
    NO_NAMES_WITH_PHOTOS = "no_names_with_photos", "First names only, and never alongside a photo of the pupil"
    FULL_NAMES_WITH_CONSENT = "full_names_with_consent", "Full names only where a parent has consented"
    FIRST_NAME_AND_INITIAL = "first_name_and_initial", "First name and surname initial at most, never a full surname"


class PupilPhotos(models.TextChoices):
    WITH_CONSENT = "with_consent", "Photos of pupils where the consent register allows it"
    NONE = "none", "No photos in which a pupil can be recognised"


class Harm(models.TextChoices):
    """The kinds of harm the screen finds (the values of screening.harms, labelled for the settings form)."""

    OFFENSIVE = "offensive", "Offensive or abusive language"
    THREAT = "threat", "A threat or violence"
    HATE = "hate", "Hate against a protected characteristic"
    SEXUAL = "sexual", "Sexual content"
    SELF_HARM = "self_harm", "Self-harm or suicide"
    DISCLOSURE = "disclosure", "A possible disclosure by a child"


# A possible disclosure and words of self-harm always reach the DSL (AW-CON-1); a policy may add to them.
HARMS_ALWAYS_TO_DSL = (Harm.SELF_HARM.value, Harm.DISCLOSURE.value)


def default_harms_blocking_posts() -> list[str]:
    return [Harm.OFFENSIVE, Harm.THREAT, Harm.HATE, Harm.SEXUAL]


def default_harms_hidden_on_arrival() -> list[str]:
    return [Harm.THREAT, Harm.HATE, Harm.SEXUAL]


def default_harms_to_dsl() -> list[str]:
    return list(HARMS_ALWAYS_TO_DSL)


class DraftingTraining(models.TextChoices):
    """What training a person must have, by the school's records, before they may draft or submit a post."""

    NONE = "none", "No training is required before drafting"
    INDUCTION = "induction", "Induction training completed and confirmed"
    UP_TO_DATE = "up_to_date", "Every required course up to date (none overdue)"


class CommentsDefault(models.TextChoices):
    OPEN = "open", "Open (monitored)"
    MODERATED = "moderated", "Moderated (held for approval where the network allows)"
    OFF = "off", "Off"


class PolicySettingsQuerySet(models.QuerySet):
    def in_force_at(self, school) -> PolicySettings | None:
        """The settings of the school's social media policy version in force, if any (read once per GET)."""
        return memoized(
            ("policy_in_force", self.model, school.pk),
            lambda: self.filter(version__document__school=school, version__status=VersionStatus.CURRENT).first(),
        )


def settings_in_force(school) -> PolicySettings:
    """The settings every rule-following action reads; refuses to act while no policy is in force."""
    settings = PolicySettings.objects.in_force_at(school)
    if settings is None:
        raise ValidationError("The school has no social media policy in force yet; approve one first.")
    return settings


class PolicySettings(models.Model):
    """The rules of a social media policy version that Schoolgate enforces, as data."""

    version = models.OneToOneField(DocumentVersion, on_delete=models.CASCADE, related_name="settings")
    account_approver_role = models.CharField(
        max_length=32,
        choices=Role.choices,
        default=Role.HEADTEACHER,
        help_text="Who approves proposals for new official accounts.",
    )
    final_post_approver_role = models.CharField(
        max_length=32,
        choices=Role.choices,
        blank=True,
        help_text="Who gives final approval before any post goes live. Leave empty if colleague review is enough.",
    )
    final_approver_deputy_role = models.CharField(
        max_length=32,
        choices=Role.choices,
        blank=True,
        help_text="Who gives final approval when the final approver is away or wrote the post.",
    )
    required_reviewers = models.PositiveSmallIntegerField(
        default=1,
        validators=[MaxValueValidator(5, "No more than 5 colleague reviews can be required.")],
        help_text="How many colleagues other than the author must review each post.",
    )
    # Off: the colleagues who review a post and the person who gives it final approval are different people,
    # so "two colleagues and the headteacher" means three people read it.
    approver_may_also_review = models.BooleanField(
        "The final approver may also count as a colleague reviewer",
        default=False,
        help_text="Leave off so that the people who review a post and the person who approves it are distinct.",
    )
    reply_deadline_hours = models.IntegerField(
        default=24,
        validators=[
            MinValueValidator(1, "The reply deadline must be at least 1 hour."),
            MaxValueValidator(168, "The reply deadline cannot be longer than a week (168 hours)."),
        ],
    )
    takedown_deadline_hours = models.PositiveSmallIntegerField(
        default=24,
        validators=[
            MinValueValidator(1, "Posts must be taken down within at least 1 hour."),
            MaxValueValidator(168, "Posts must be taken down within a week (168 hours) at most."),
        ],
        help_text="When consent is withdrawn, every live post showing the pupil is taken down within this time.",
    )
    clock_pauses_weekends = models.BooleanField(
        default=True, help_text="Weekends stop the reply clock (a message on Saturday is due the next working day)."
    )
    clock_pauses_bank_holidays = models.BooleanField(default=True)
    clock_pauses_closures = models.BooleanField(default=True)
    bank_holiday_nation = models.CharField(max_length=3, choices=Nation.choices, default=Nation.ENGLAND)
    pupil_naming_rule = models.CharField(
        max_length=32, choices=PupilNamingRule.choices, default=PupilNamingRule.FIRST_NAMES_ONLY
    )
    comments_default = models.CharField(max_length=16, choices=CommentsDefault.choices, default=CommentsDefault.OPEN)
    account_password_max_age_days = models.PositiveSmallIntegerField(
        default=365,
        validators=[
            MinValueValidator(30, "Passwords cannot be required to change more often than every 30 days."),
            MaxValueValidator(730, "Official account passwords must be changed at least every two years."),
        ],
        help_text="An official account's security checklist turns red when its password is older than this.",
    )
    private_messages_forbidden = models.BooleanField(
        default=True, help_text="Official accounts never send private messages to pupils, parents or carers."
    )
    pupil_photos = models.CharField(
        max_length=16,
        choices=PupilPhotos.choices,
        default=PupilPhotos.WITH_CONSENT,
        help_text="“None”: a post may carry a photo only once every pupil in it is blurred.",
    )
    training_before_drafting = models.CharField(
        max_length=16,
        choices=DraftingTraining.choices,
        default=DraftingTraining.NONE,
        help_text="Read from the school's training records when a post is drafted or sent for review.",
    )
    # What each kind of harm the screen finds does (lists of Harm values): stop a post's approval (otherwise the
    # reviewers are advised), hide a comment as it arrives until someone approves it, send a comment to the DSL.
    harms_blocking_posts = models.JSONField(
        default=default_harms_blocking_posts,
        blank=True,
        help_text="A draft with these cannot be approved; other kinds are shown to the reviewers as advice.",
    )
    harms_hidden_on_arrival = models.JSONField(
        default=default_harms_hidden_on_arrival,
        blank=True,
        help_text="A comment with these is hidden as it arrives (where the network allows), until someone approves it.",
    )
    harms_to_dsl = models.JSONField(
        default=default_harms_to_dsl,
        blank=True,
        help_text="A comment with these goes straight to the DSL. A possible disclosure and self-harm always do.",
    )

    objects = PolicySettingsQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "policy settings"

    def __str__(self) -> str:
        return f"Settings of {self.version}"

    def clean(self) -> None:
        errors = {}
        if self.required_reviewers == 0 and not self.final_post_approver_role:
            errors["required_reviewers"] = (
                "At least one colleague other than the author must read every post: require a colleague "
                "review or name a final approver."
            )
        if self.final_approver_deputy_role and not self.final_post_approver_role:
            errors["final_approver_deputy_role"] = "A deputy can only be named when there is a final approver."
        if self.final_approver_deputy_role and self.final_approver_deputy_role == self.final_post_approver_role:
            errors["final_approver_deputy_role"] = "The deputy must be a different role from the final approver."
        for name in ("harms_blocking_posts", "harms_hidden_on_arrival", "harms_to_dsl"):
            values = getattr(self, name)
            if not isinstance(values, list) or not set(values) <= set(Harm.values):
                errors[name] = f"Choose from: {', '.join(Harm.labels)}."
        missing = [Harm(h).label for h in HARMS_ALWAYS_TO_DSL if h not in (self.harms_to_dsl or [])]
        if missing and "harms_to_dsl" not in errors:
            errors["harms_to_dsl"] = (
                f"{' and '.join(missing)} always go to the DSL: every worry about a child reaches them (AW-CON-1)."
            )
        if errors:
            raise ValidationError(errors)

    def as_rules(self) -> list[str]:
        """The settings written out as the sentences people read in the policy document."""
        from schoolgate.policy.rules import describe_settings

        return describe_settings(self)


class Acknowledgement(models.Model):
    """A member of the school confirms they have read a current version (RS-ROLE-3, AW-LIFE-2)."""

    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="acknowledgements")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="acknowledgements")
    acknowledged_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "user"], name="acknowledge_once")]

    def __str__(self) -> str:
        return f"{self.user} read {self.version}"


class ReviewReminder(models.Model):
    """One reminder sent for one version at one step (so the daily sweep never sends it twice)."""

    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="review_reminders")
    key = models.CharField(max_length=40)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="remind_once_per_step")]

    def __str__(self) -> str:
        return f"{self.key} reminder for {self.version}"
