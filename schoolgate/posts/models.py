"""Posts from draft to approval, and every review and approval given to each revision."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class PostStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "Waiting for colleague review"
    AWAITING_APPROVAL = "awaiting_approval", "Waiting for final approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Returned to the author"
    WITHDRAWN = "withdrawn", "Withdrawn"
    PUBLISHED = "published", "Published"


class PostQuerySet(models.QuerySet):
    def at_school(self, school):
        return self.filter(school=school)

    def public(self):
        """Posts live on at least one network and not taken down: what the news page and feeds show (AW-PUB-4)."""
        return self.filter(published_at__isnull=False, removed_at__isnull=True).exclude(status=PostStatus.WITHDRAWN)


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
    # When the post first went live on a network; the public news page and feeds list it from then on.
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Taken down everywhere (e.g. consent withdrawn); it leaves the news page and feeds but stays archived.
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_reason = models.TextField(blank=True)
    # The post as it went out: text, approvals and screening findings of the published revision (AW-PUB-3).
    archive = models.JSONField(default=dict, blank=True)

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

    @property
    def is_withdrawable(self) -> bool:
        """Not withdrawn already, and not live: a published post is taken down instead."""
        return self.status not in {PostStatus.WITHDRAWN, PostStatus.PUBLISHED}

    def state(self) -> tuple[str, str]:
        """What the post's heading says, with its tone (ok, due, bad): the status, told as it really is once
        deliveries exist ("Approved — failed to publish on Bluesky news", "Published on 2 of 3 accounts")."""
        if self.removed_at:
            return "Taken down", "bad"
        deliveries = [d for d in self.deliveries.all() if d.status != DeliveryStatus.CANCELLED]
        if self.status not in {PostStatus.APPROVED, PostStatus.PUBLISHED} or not deliveries:
            tone = {PostStatus.REJECTED: "bad", PostStatus.WITHDRAWN: "bad", PostStatus.APPROVED: "ok"}
            return self.get_status_display(), tone.get(self.status, "due")
        failed = sorted(d.account.name for d in deliveries if d.status == DeliveryStatus.FAILED)
        unknown = sorted(d.account.name for d in deliveries if d.status == DeliveryStatus.UNCERTAIN)
        by_hand = sorted(d.account.name for d in deliveries if d.status == DeliveryStatus.MANUAL)
        live = [d for d in deliveries if d.status in {DeliveryStatus.PUBLISHED, DeliveryStatus.REMOVED}]
        problems = []
        if failed:
            problems.append(f"failed to publish on {', '.join(failed)}")
        if unknown:
            problems.append(f"check whether it went out on {', '.join(unknown)}")
        if by_hand:
            problems.append(f"to be posted by hand on {', '.join(by_hand)}")
        if live:
            label = (
                "Published"
                if len(live) == len(deliveries)
                else f"Published on {len(live)} of {len(deliveries)} accounts"
            )
        else:
            label = "Approved"
        if problems:
            return f"{label} — {'; '.join(problems)}", "bad" if failed or unknown else "due"
        if not live and any(d.status in {DeliveryStatus.SENDING, DeliveryStatus.RETRYING} for d in deliveries):
            return "Approved — publishing", "due"
        return label, "ok"

    def current_reviews(self):
        return self.reviews.filter(revision=self.revision, voided_at__isnull=True).select_related("reviewer")

    def colleague_approvals(self):
        return self.current_reviews().filter(stage=ReviewStage.COLLEAGUE, decision=ReviewDecision.APPROVED)


class PostImage(models.Model):
    """A photo from the media library on a post, in order, with the alt text sent with it."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="images")
    # SET_NULL: a compromising photo is deleted at once (RS-IMG-4); the post keeps a note that it was.
    media_item = models.ForeignKey(
        "media.MediaItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="post_images"
    )
    position = models.PositiveSmallIntegerField(default=0)
    alt_text = models.TextField()
    deleted_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"Image {self.position + 1} of {self.post}"


class ImageConfirmation(models.Model):
    """A reviewer looked at one image of one revision and judged it appropriate (RS-IMG-3)."""

    review = models.ForeignKey("Review", on_delete=models.CASCADE, related_name="image_confirmations")
    post_image = models.ForeignKey(PostImage, on_delete=models.CASCADE, related_name="confirmations")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["review", "post_image"], name="one_confirmation_per_image")]

    def __str__(self) -> str:
        return f"{self.post_image} confirmed in {self.review}"


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


class ScreeningResult(models.Model):
    """The screening findings of one revision, stored when it is screened so every page shows the same result."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="screenings")
    revision = models.PositiveIntegerField()
    findings = models.JSONField(default=list)
    screened_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "revision"], name="one_screening_per_revision")]

    def __str__(self) -> str:
        return f"Screening of {self.post} revision {self.revision}: {len(self.findings)} findings"


class DeliveryStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    PUBLISHED = "published", "Published"
    RETRYING = "retrying", "Failed — will retry"
    FAILED = "failed", "Failed — needs attention"
    # The network may or may not have the post and cannot be asked safely: a person checks and says which.
    UNCERTAIN = "uncertain", "Unknown — check the account"
    MANUAL = "manual", "To be posted by hand"
    CANCELLED = "cancelled", "Cancelled"
    # Being deleted through the network's API: claimed before the call, so a crash mid-way is finished later.
    REMOVING = "removing", "Being taken down"
    # Taken down from the network (or, where its API cannot, a person recorded what they did instead).
    REMOVED = "removed", "Taken down"


class DeliveryQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=DeliveryStatus.PUBLISHED)

    def due(self, now):
        return self.filter(
            models.Q(status=DeliveryStatus.SCHEDULED, due_at__lte=now)
            | models.Q(status=DeliveryStatus.RETRYING, next_attempt_at__lte=now)
            | models.Q(status=DeliveryStatus.SENDING, lease_expires_at__lte=now)
        )

    def pending(self):
        """Not yet on the network and still meant to go (what blocks editing is SENDING/PUBLISHED/UNCERTAIN)."""
        return self.filter(
            status__in=[DeliveryStatus.SCHEDULED, DeliveryStatus.RETRYING, DeliveryStatus.FAILED, DeliveryStatus.MANUAL]
        )


class Delivery(models.Model):
    """One approved post on one official account: the record that makes publishing exactly once.

    "Sending" is committed before the network call and the network's id right after it, so a crash between
    the two leaves a delivery in SENDING that recovery resolves by asking the network, never by posting blind.
    """

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="deliveries")
    account = models.ForeignKey("official_accounts.OfficialAccount", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.SCHEDULED, db_index=True
    )
    created_at = models.DateTimeField()
    due_at = models.DateTimeField(db_index=True)
    # The text exactly as sent (the post's text plus the account's sign-off).
    text = models.TextField()
    # Attempts since the last manual retry; the automatic back-off gives up after a few.
    attempts = models.PositiveSmallIntegerField(default=0)
    sending_started_at = models.DateTimeField(null=True, blank=True)
    # A worker holds a SENDING delivery until then; after it, the worker is presumed dead and recovery may run.
    lease_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The first attempt whose outcome we never learnt (a crash, a timeout): the network may have the post.
    outcome_unknown_since = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_error = models.TextField(blank=True)
    remote_id = models.CharField(max_length=300, blank=True)
    url = models.URLField(max_length=500, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # How it was taken down: through the network's API, or what a person did where the API cannot.
    removal_note = models.TextField(blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["account__name"]
        verbose_name_plural = "deliveries"
        constraints = [models.UniqueConstraint(fields=["post", "account"], name="one_delivery_per_account")]

    def __str__(self) -> str:
        return f"{self.post} on {self.account}: {self.get_status_display()}"

    @property
    def key(self) -> str:
        """Stable for this delivery across every attempt: what the network deduplicates on."""
        return f"schoolgate-delivery-{self.pk}@{self.created_at.isoformat()}"


class TakedownQuerySet(models.QuerySet):
    def open(self):
        return self.filter(completed_at__isnull=True)


class Takedown(models.Model):
    """A live post that must come down everywhere by a deadline (consent withdrawn, a compromising image)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="takedowns")
    # The pupil whose consent was lost, when that is the cause (RS-IMG-5); empty for other reasons.
    pupil = models.ForeignKey("pupils.Pupil", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField()
    requested_at = models.DateTimeField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_at = models.DateTimeField(db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)

    objects = TakedownQuerySet.as_manager()

    class Meta:
        ordering = ["completed_at", "due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "pupil"], condition=models.Q(completed_at__isnull=True), name="one_open_takedown"
            )
        ]

    def __str__(self) -> str:
        return f"Take down {self.post} by {timezone.localtime(self.due_at):%-d %B %Y, %H:%M}"
