"""Posts from draft to approval, and every review and approval given to each revision."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class PostStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "Waiting for colleague review"
    AWAITING_APPROVAL = "awaiting_approval", "Waiting for final approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Returned to the author"
    WITHDRAWN = "withdrawn", "Withdrawn"


class PostQuerySet(models.QuerySet):
    def at_school(self, school):
        return self.filter(school=school)


class Post(models.Model):
    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="posts")
    # The named author of every post (RS-PUB-1); never anonymous.
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="posts")
    text = models.TextField()
    accounts = models.ManyToManyField("official_accounts.OfficialAccount", related_name="posts")
    scheduled_for = models.DateTimeField(null=True, blank=True, help_text="Leave empty to publish once approved.")
    status = models.CharField(max_length=20, choices=PostStatus.choices, default=PostStatus.DRAFT, db_index=True)
    # Every edit makes a new revision; reviews and approvals count only for the revision they read.
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        first_line = self.text.strip().splitlines()[0] if self.text.strip() else "(empty)"
        return f"Post by {self.author}: {first_line[:60]}"

    @property
    def is_editable(self) -> bool:
        return self.status in {
            PostStatus.DRAFT,
            PostStatus.IN_REVIEW,
            PostStatus.AWAITING_APPROVAL,
            PostStatus.APPROVED,
            PostStatus.REJECTED,
        }

    def current_reviews(self):
        return self.reviews.filter(revision=self.revision, voided_at__isnull=True).select_related("reviewer")

    def colleague_approvals(self):
        return self.current_reviews().filter(stage=ReviewStage.COLLEAGUE, decision=ReviewDecision.APPROVED)


class ReviewStage(models.TextChoices):
    COLLEAGUE = "colleague", "Colleague review"
    FINAL = "final", "Final approval"


class ReviewDecision(models.TextChoices):
    APPROVED = "approved", "Agreed"
    REJECTED = "rejected", "Returned"


class Review(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    stage = models.CharField(max_length=10, choices=ReviewStage.choices)
    decision = models.CharField(max_length=10, choices=ReviewDecision.choices)
    reason = models.TextField(blank=True)
    # The role the final approver acted in (the policy's final approver, or its deputy).
    acting_role = models.CharField(max_length=32, blank=True)
    revision = models.PositiveIntegerField()
    at = models.DateTimeField()
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["at"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "reviewer", "revision", "stage"],
                condition=models.Q(voided_at__isnull=True),
                name="one_review_per_revision",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} by {self.reviewer}: {self.get_decision_display()}"


class ScreeningOverride(models.Model):
    """The final approver lets a revision go ahead despite blocking findings, with a recorded reason."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="overrides")
    revision = models.PositiveIntegerField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    findings = models.JSONField(default=list)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"Override of {len(self.findings)} findings on {self.post} by {self.by}"
