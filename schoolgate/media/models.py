"""Media library: each uploaded photo (private original, publishable derivative, provenance) and its faces."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Licence(models.TextChoices):
    SCHOOL_OWNED = "school_owned", "School-owned (taken by staff)"
    PERMISSION = "permission", "Permission from the copyright holder"
    LICENSED = "licensed", "Licensed (name the licence)"
    PUBLIC_DOMAIN = "public_domain", "Public domain"


class MediaStatus(models.TextChoices):
    SCANNING = "scanning", "Waiting for the face scan"
    NEEDS_REVIEW = "needs_review", "Faces to tag or blur"
    READY = "ready", "Ready"


# From this many faces the scan was less sure of, the photo's page asks for it to be checked by eye. One such face
# in a portrait says little; two or more mean a crowd at the detector's limits.
UNSURE_FACES = 2


class MediaNotReady(ValueError):
    """The photo may not be published yet: faces not scanned, or a face neither tagged nor blurred."""


class MediaItem(models.Model):
    """One photo. `original` is the upload byte for byte and is never published; `publishable` is re-encoded
    from pixels only (no metadata, AW-IMG-2), with every blurred face blurred, and is what posts send out."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="media_items")
    uploaded_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    # Every file of one item lives under this folder, so deletion can sweep it whole (RS-IMG-4).
    folder = models.CharField(max_length=200, unique=True, editable=False)
    original = models.FileField(max_length=255)
    original_name = models.CharField("file name as uploaded", max_length=255, blank=True)
    original_format = models.CharField(max_length=10)  # jpeg, png, webp, heif: sniffed from the content
    original_size = models.PositiveBigIntegerField(default=0)
    original_sha256 = models.CharField(max_length=64)
    publishable = models.FileField(max_length=255)
    thumbnail = models.FileField(max_length=255)
    mime_type = models.CharField(max_length=40)  # of publishable
    width = models.PositiveIntegerField()  # of publishable, in the orientation people see it
    height = models.PositiveIntegerField()
    source = models.CharField(max_length=200, help_text="Where the photo came from.")
    photographer = models.CharField(max_length=200)
    licence = models.CharField(max_length=20, choices=Licence.choices)
    permission_note = models.TextField(
        blank=True, help_text="Who gave permission and how, or the licence's name and terms."
    )
    alt_text = models.TextField("description (alt text)", blank=True)
    faces_scanned_at = models.DateTimeField(null=True, blank=True)
    # What the scan was less sure of (faces.FaceDoubts: small, found only by a second look, low-scored, and how
    # many faces in all), so the photo's page can ask for the back rows and the edges to be checked by eye.
    face_doubts = models.JSONField(default=dict, blank=True)
    checked_by_eye_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    checked_by_eye_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=MediaStatus.choices, default=MediaStatus.SCANNING)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        indexes = [models.Index(fields=["school", "-uploaded_at"])]

    def __str__(self) -> str:
        return f"Photo {self.pk} ({self.original_name or self.original_format})"

    def pupils(self):
        """Pupils tagged in faces that are shown (a blurred face is not shown, so its pupil is not listed)."""
        from schoolgate.pupils.models import Pupil

        return Pupil.objects.filter(media_faces__media_item=self, media_faces__decision=FaceDecision.PUPIL).distinct()

    def unresolved_faces(self):
        return self.faces.filter(decision=FaceDecision.UNTAGGED)

    @property
    def detector_unsure(self) -> bool:
        """Several faces the scan was less sure of: where there are some, there may be others it missed."""
        return self.face_doubts.get("unsure", 0) >= UNSURE_FACES

    @property
    def is_ready(self) -> bool:
        """Scanned, and every face (detected or added by staff) is tagged, marked not a pupil, or blurred."""
        return self.faces_scanned_at is not None and not self.unresolved_faces().exists()

    def live_post_count(self) -> int:
        """How many posts using this photo are live now (published, not taken down). Read through the posts
        app's relation to the photo, as Post.objects.public() defines live, without importing that app."""
        return (
            self.post_images.filter(post__published_at__isnull=False, post__removed_at__isnull=True)
            .exclude(post__status="withdrawn")
            .values("post")
            .distinct()
            .count()
        )

    def file_names(self) -> list[str]:
        return [f.name for f in (self.original, self.publishable, self.thumbnail) if f and f.name]


class FaceDecision(models.TextChoices):
    UNTAGGED = "untagged", "Not yet decided"
    PUPIL = "pupil", "Pupil"
    NOT_PUPIL = "not_pupil", "Not a pupil"
    BLURRED = "blurred", "Blurred"


class Face(models.Model):
    """A face in a photo, as a box in fractions (0..1) of the publishable image; no biometric template is made."""

    media_item = models.ForeignKey(MediaItem, on_delete=models.CASCADE, related_name="faces")
    left = models.FloatField()
    top = models.FloatField()
    width = models.FloatField()
    height = models.FloatField()
    score = models.FloatField(null=True, blank=True)  # the detector's confidence; empty when added by hand
    added_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )  # empty when detected
    added_at = models.DateTimeField(default=timezone.now)
    decision = models.CharField(max_length=20, choices=FaceDecision.choices, default=FaceDecision.UNTAGGED)
    # Set when tagged as a pupil, and kept when that face is then blurred (who it was, though not shown).
    # RESTRICT: a pupil tagged in a photo cannot vanish from under the consent check, but deleting the whole
    # school (which deletes the photo too) still works.
    pupil = models.ForeignKey(
        "pupils.Pupil", on_delete=models.RESTRICT, null=True, blank=True, related_name="media_faces"
    )
    decided_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True, help_text='Who it is, e.g. "Mr Jones, teacher".')

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decision=FaceDecision.PUPIL, pupil__isnull=False)
                | models.Q(decision=FaceDecision.BLURRED)
                | (~models.Q(decision__in=[FaceDecision.PUPIL, FaceDecision.BLURRED]) & models.Q(pupil__isnull=True)),
                name="face_pupil_only_when_tagged_or_blurred",
            ),
        ]

    def __str__(self) -> str:
        return f"Face {self.pk} in photo {self.media_item_id} ({self.get_decision_display().lower()})"

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.left, self.top, self.width, self.height)

    @property
    def percent(self) -> dict[str, float]:
        """The box in percentages, for absolutely positioned overlays."""
        return {
            name: round(value * 100, 3)
            for name, value in zip(("left", "top", "width", "height"), self.box, strict=True)
        }


def publishable_bytes(item: MediaItem) -> tuple[bytes, str]:
    """The bytes and MIME type to publish; refuses a photo whose faces are not all scanned and decided."""
    if item.faces_scanned_at is None:
        raise MediaNotReady("This photo has not been scanned for faces yet.")
    unresolved = item.unresolved_faces().count()
    if unresolved:
        raise MediaNotReady(
            f"{unresolved} face{'s' if unresolved != 1 else ''} in this photo must be tagged or blurred."
        )
    try:
        with item.publishable.storage.open(item.publishable.name, "rb") as handle:
            return handle.read(), item.mime_type
    except FileNotFoundError as error:
        raise MediaNotReady(FILE_MISSING) from error


# Shown wherever a photo's stored file has gone (a restore without the media folder, a storage fault).
FILE_MISSING = (
    "This photo's file is missing from storage, so it cannot be shown, changed or published. Ask whoever looks "
    "after Schoolgate's hosting to restore the media files from a backup, or delete the photo and upload it again."
)


def file_missing(item: MediaItem) -> bool:
    """Whether storage has lost the publishable copy or the original (every change is made from the original)."""
    return not all(f.storage.exists(f.name) for f in (item.original, item.publishable) if f.name)


# Networks that fetch images themselves (Instagram) get a link that works for this long, to this copy only.
SIGNED_LINK_SALT = "schoolgate.media.signed-link"
SIGNED_LINK_SECONDS = 3600


def signed_link(item: MediaItem) -> str:
    """A short-lived public URL of the publishable copy: signed, naming the exact file, so a later blur or a
    deletion makes it stop working."""
    from django.conf import settings
    from django.core import signing
    from django.urls import reverse

    token = signing.dumps({"item": item.pk, "file": item.publishable.name}, salt=SIGNED_LINK_SALT, compress=True)
    return settings.SITE_URL + reverse("media:signed_file", args=[token])
