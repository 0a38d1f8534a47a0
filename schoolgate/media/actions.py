"""Media library actions: upload, face scan, tag / not a pupil / blur / add a face, and deletion (RS-IMG-4)."""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import math
import secrets
from collections.abc import Callable, Iterable

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image

from schoolgate.audit import actions as audit
from schoolgate.media.derivatives import MAX_SIDE, Rendered, render_publishable, render_thumbnail
from schoolgate.media.faces import detect_faces, doubts
from schoolgate.media.images import EXTENSIONS, NOT_A_PHOTO, ImageRefused, open_upload, sniff_format
from schoolgate.media.models import (
    FILE_MISSING,
    Face,
    FaceDecision,
    Licence,
    MediaItem,
    MediaNotReady,
    MediaStatus,
    publishable_bytes,
)
from schoolgate.pupils.consent import has_consent, run_consent_lost_hooks
from schoolgate.pupils.models import ConsentUse
from schoolgate.schools.permissions import require_permission

__all__ = [
    "BEFORE_MEDIA_DELETE",
    "MediaDeleteError",
    "MediaNotReady",
    "add_face",
    "blur_face",
    "delete_media",
    "mark_checked_by_eye",
    "mark_not_pupil",
    "publishable_bytes",
    "scan_item",
    "tag_face",
    "untag_face",
    "upload_media",
]

logger = logging.getLogger(__name__)

UPLOAD_PERMISSION = "media.upload"
DELETE_PERMISSION = "media.delete"
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
# The detector is given at most this many pixels on the longest side: a 24-pixel face at this size is still
# found, and a 100-megapixel panorama does not hold a request for ten seconds.
DETECT_SIDE = 4096
# A face added by hand must be at least this fraction of the photo across and down (a click, not a drag).
MIN_FACE_FRACTION = 0.01

# Called with the item, inside the deletion's transaction, before anything is removed: the posts app detaches
# the photo from posts here. A hook that raises stops the deletion with nothing removed.
BEFORE_MEDIA_DELETE: list[Callable[[MediaItem], None]] = []


class MediaDeleteError(RuntimeError):
    """Storage still holds a file of a deleted photo (the remove_media_files job retries until it is gone)."""


def _storage():
    return MediaItem._meta.get_field("original").storage


def _save_file(name: str, data: bytes, saved: list[str]) -> str:
    stored = _storage().save(name, ContentFile(data))
    saved.append(stored)
    return stored


def _delete_files(names: Iterable[str]) -> None:
    storage = _storage()
    for name in names:
        if name:
            storage.delete(name)


def _refresh_status(item: MediaItem) -> None:
    """Keep the stored status (the library lists and filters by it) in step with the scan and the faces."""
    if item.faces_scanned_at is None:
        status = MediaStatus.SCANNING
    elif item.unresolved_faces().exists():
        status = MediaStatus.NEEDS_REVIEW
    else:
        status = MediaStatus.READY
    if status != item.status:
        item.status = status
        item.save(update_fields=["status"])


# Upload


def _check_provenance(*, source: str, photographer: str, licence: str, permission_note: str) -> dict:
    errors = {}
    values = {
        "source": (source or "").strip(),
        "photographer": (photographer or "").strip(),
        "licence": licence or "",
        "permission_note": (permission_note or "").strip(),
    }
    if not values["source"]:
        errors["source"] = "Say where the photo came from (for example, taken by staff on a school device)."
    if not values["photographer"]:
        errors["photographer"] = "Say who took the photo."
    if values["licence"] not in Licence.values:
        errors["licence"] = "Choose on what terms the school may use the photo."
    elif values["licence"] == Licence.PERMISSION and not values["permission_note"]:
        errors["permission_note"] = "Say who holds the copyright and how they gave permission."
    elif values["licence"] == Licence.LICENSED and not values["permission_note"]:
        errors["permission_note"] = "Name the licence (for example CC BY 4.0) and any credit it requires."
    if errors:
        raise ValidationError(errors)
    return values


def _read_upload(file: UploadedFile) -> bytes:
    if file.size is not None and file.size > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": too_big_message(file.size)})
    file.seek(0)
    data = file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": too_big_message(len(data))})
    if not data:
        raise ValidationError({"file": "The file is empty."})
    return data


def too_big_message(size: int) -> str:
    return (
        f"The file is {size / (1024 * 1024):.0f} MB; photos up to {MAX_UPLOAD_BYTES // (1024 * 1024)} MB can be "
        "uploaded. Export a smaller copy from the camera or phone."
    )


def _detect(shown, *, data: bytes) -> tuple[list[tuple[float, float, float, float, float]], dict]:
    """Face boxes as fractions of the photo, with scores; and what the scan was less sure of (FaceDoubts), with
    face sizes judged in pixels of the photo as taken (`data`), not of the reduced copy scanned."""
    image = shown
    if max(image.size) > DETECT_SIDE:
        ratio = DETECT_SIDE / max(image.size)
        image = image.resize((round(image.width * ratio), round(image.height * ratio)), reducing_gap=2.0)
    width, height = image.size
    found = detect_faces(image)
    boxes = [_clip_box(f.left / width, f.top / height, f.width / width, f.height / height) + (f.score,) for f in found]
    return boxes, doubts(found, size=image.size, taken_longest=_taken_longest(data)).as_dict()


def _taken_longest(data: bytes) -> int | None:
    """The longest side of the photo as taken, from its header alone (decoded copies are reduced)."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            return max(opened.size)
    except Exception:  # a format Pillow reads only through open_upload: sizes are then judged on the copy
        return None


def _clip_box(left: float, top: float, width: float, height: float) -> tuple[float, float, float, float]:
    left, top = min(max(left, 0.0), 1.0), min(max(top, 0.0), 1.0)
    return (left, top, min(width, 1.0 - left), min(height, 1.0 - top))


def _face_rows(item: MediaItem, boxes) -> list[Face]:
    return [
        Face(media_item=item, left=left, top=top, width=width, height=height, score=score)
        for left, top, width, height, score in boxes
    ]


def _save_derivatives(item: MediaItem, rendered: Rendered, saved: list[str]) -> None:
    """Store a publishable file and its thumbnail under new names, and point the item at them."""
    revision = secrets.token_hex(4)
    extension = "png" if rendered.mime_type == "image/png" else "jpg"
    item.publishable.name = _save_file(f"{item.folder}/publishable-{revision}.{extension}", rendered.data, saved)
    item.thumbnail.name = _save_file(f"{item.folder}/thumbnail-{revision}.jpg", render_thumbnail(rendered.data), saved)
    item.mime_type, item.width, item.height = rendered.mime_type, rendered.width, rendered.height


def upload_media(
    school,
    *,
    by,
    file: UploadedFile,
    source: str,
    photographer: str,
    licence: str,
    permission_note: str = "",
    alt_text: str = "",
) -> MediaItem:
    """Check, decode and store one photo with its provenance; nothing is stored if anything is refused.

    1. Permission, provenance (source, photographer, licence and permission), size cap.
    2. Type from the content (JPEG, PNG, WebP, HEIC/HEIF); decoded strictly with the decompression-bomb guard.
    3. Faces detected on the decoded photo (no recognition). Should the detector fail, the photo is kept
       unscanned, so not publishable, and the scan_faces job tries again.
    4. The publishable derivative (pixels only, AW-IMG-2) and a thumbnail are made.
    5. Files, row, faces and the audit entry are written together; stored files are removed if that fails.
    """
    require_permission(by, school, UPLOAD_PERMISSION)
    provenance = _check_provenance(
        source=source, photographer=photographer, licence=licence, permission_note=permission_note
    )
    data = _read_upload(file)
    kind = sniff_format(data[:64])
    if kind is None:
        raise ValidationError({"file": NOT_A_PHOTO})
    try:
        shown = open_upload(data, kind=kind, draft_side=MAX_SIDE)
    except ImageRefused as error:
        raise ValidationError({"file": str(error)}) from error
    try:
        boxes, face_doubts = _detect(shown, data=data)
    except Exception:  # the detector's own failure (model file, runtime): the photo waits for the job instead
        logger.exception("Face detection failed at upload; the scan_faces job will retry")
        boxes, face_doubts = None, {}
    rendered = render_publishable(shown)
    now = timezone.now()
    saved: list[str] = []
    try:
        with transaction.atomic():
            item = MediaItem(
                school=school,
                uploaded_by=by,
                uploaded_at=now,
                folder=f"media/{school.pk}/{secrets.token_hex(16)}",
                original_name=(getattr(file, "name", "") or "")[:255],
                original_format=kind,
                original_size=len(data),
                original_sha256=hashlib.sha256(data).hexdigest(),
                alt_text=(alt_text or "").strip(),
                faces_scanned_at=now if boxes is not None else None,
                face_doubts=face_doubts,
                **provenance,
            )
            item.original.name = _save_file(f"{item.folder}/original.{EXTENSIONS[kind]}", data, saved)
            _save_derivatives(item, rendered, saved)
            item.save()
            Face.objects.bulk_create(_face_rows(item, boxes or []))
            _refresh_status(item)
            audit.log(
                "media.uploaded",
                actor=by,
                target=item,
                detail={
                    **provenance,
                    "original_name": item.original_name,
                    "format": kind,
                    "bytes": len(data),
                    "sha256": item.original_sha256,
                    "publishable": {"mime_type": item.mime_type, "width": item.width, "height": item.height},
                    "faces_detected": None if boxes is None else len(boxes),
                    "face_doubts": face_doubts,
                },
            )
            if boxes is None:
                from schoolgate.media.tasks import scan_faces

                transaction.on_commit(lambda: scan_faces(item.pk))
    except BaseException:
        _delete_files(saved)
        raise
    return item


def _original_bytes(item: MediaItem) -> bytes:
    """The original as uploaded; a clear ValidationError when storage has lost the file."""
    try:
        with _storage().open(item.original.name, "rb") as handle:
            return handle.read()
    except FileNotFoundError as error:
        raise ValidationError(FILE_MISSING) from error


def _open_original(item: MediaItem):
    """The original decoded as people see it; a clear ValidationError when storage has lost the file."""
    return open_upload(_original_bytes(item), kind=item.original_format, draft_side=MAX_SIDE)


def scan_item(item: MediaItem) -> int:
    """Detect faces in a photo not scanned yet (the upload's detector failed); safe to run twice."""
    data = _original_bytes(item)
    boxes, face_doubts = _detect(open_upload(data, kind=item.original_format, draft_side=MAX_SIDE), data=data)
    with transaction.atomic():
        item = MediaItem.objects.select_for_update().get(pk=item.pk)
        if item.faces_scanned_at is not None:
            return 0
        Face.objects.bulk_create(_face_rows(item, boxes))
        item.faces_scanned_at = timezone.now()
        item.face_doubts = face_doubts
        item.save(update_fields=["faces_scanned_at", "face_doubts"])
        _refresh_status(item)
        audit.log(
            "media.faces_scanned",
            actor="system",
            target=item,
            detail={"faces_detected": len(boxes), "face_doubts": face_doubts},
        )
    return len(boxes)


def mark_checked_by_eye(item: MediaItem, *, by) -> MediaItem:
    """Someone who decides faces has looked over the whole photo (the back rows, the edges) for faces the scan
    was less sure of or missed, and added any it missed. Recorded once; asking again changes nothing."""
    require_permission(by, item.school, UPLOAD_PERMISSION)
    with transaction.atomic():
        item = MediaItem.objects.select_for_update().select_related("school").get(pk=item.pk)
        if item.faces_scanned_at is None:
            raise ValidationError("The photo has not been scanned for faces yet: check it once the scan is done.")
        if item.checked_by_eye_at is not None:
            return item
        item.checked_by_eye_by, item.checked_by_eye_at = by, timezone.now()
        item.save(update_fields=["checked_by_eye_by", "checked_by_eye_at"])
        audit.log(
            "media.checked_by_eye",
            actor=by,
            target=item,
            detail={"face_doubts": item.face_doubts, "faces": item.faces.count()},
        )
    return item


# Faces


def _rebuild_publishable(item: MediaItem) -> None:
    """Make the publishable file again from the original with every blurred face blurred (the original is only
    read). The new files get new names; the old ones are deleted once the change is committed."""
    shown = _open_original(item)
    blurred = [face.box for face in item.faces.filter(decision=FaceDecision.BLURRED)]
    rendered = render_publishable(shown, blurred=blurred)
    old = [item.publishable.name, item.thumbnail.name]
    saved: list[str] = []
    try:
        _save_derivatives(item, rendered, saved)
        item.save(update_fields=["publishable", "thumbnail", "mime_type", "width", "height"])
    except BaseException:
        _delete_files(saved)
        raise
    transaction.on_commit(lambda: _delete_files(old))


_KEEP = object()  # blurring keeps the pupil a face was tagged with


PUBLISHED_WARNING = (
    "This photo is in a post that is live now. Changing a face does not change what has already been published; "
    "if the face is tagged as a pupil without consent for social media or the website, every live post showing "
    "them is taken down at once. Confirm the change to go ahead."
)
# The places every live post appears (its networks and the school's news page, AW-PUB-4).
LIVE_POST_USES = (ConsentUse.SOCIAL_MEDIA_PHOTO, ConsentUse.WEBSITE_PHOTO)


def _decide(
    face: Face, *, by, decision: str, pupil=None, note: str = "", action: str, confirm_published: bool = False
) -> Face:
    """Record one decision on a face (see tag_face and the others).

    1. Permission; a photo in a live post changes only when the person has confirmed it (PUBLISHED_WARNING).
    2. The face, the publishable copy (when a blur is added or undone), the photo's status and the audit entry.
    3. A face in a live post newly tagged as a pupil without consent for a place the post appears: the
       consent-lost hooks run in this transaction, so its take-downs open with the tag or not at all (RS-IMG-5).
    """
    require_permission(by, face.media_item.school, UPLOAD_PERMISSION)
    with transaction.atomic():
        item = MediaItem.objects.select_for_update().select_related("school").get(pk=face.media_item_id)
        face = Face.objects.select_for_update().get(pk=face.pk, media_item=item)
        live = item.live_post_count()
        if live and not confirm_published:
            raise ValidationError(PUBLISHED_WARNING)
        before = {"decision": face.decision, "pupil": face.pupil_id, "note": face.note}
        was_blurred = face.decision == FaceDecision.BLURRED
        face.decision, face.note = decision, note
        if pupil is not _KEEP:
            face.pupil = pupil
        face.decided_by = by if decision != FaceDecision.UNTAGGED else None
        face.decided_at = timezone.now() if decision != FaceDecision.UNTAGGED else None
        face.save(update_fields=["decision", "pupil", "note", "decided_by", "decided_at"])
        if was_blurred != (decision == FaceDecision.BLURRED):
            _rebuild_publishable(item)
        _refresh_status(item)
        after = {"decision": face.decision, "pupil": face.pupil_id, "note": face.note}
        detail = {"face": face.pk, **({"live_posts": live} if live else {})}
        audit.log(action, actor=by, target=item, changes=audit.diff(before, after), detail=detail)
        if live and decision == FaceDecision.PUPIL and before["pupil"] != face.pupil_id:
            for use in LIVE_POST_USES:
                if not has_consent(face.pupil, use, timezone.localdate()):
                    run_consent_lost_hooks(face.pupil_id, use)
    return face


def tag_face(face: Face, *, by, pupil, confirm_published: bool = False) -> Face:
    """The face is this pupil of the school: the photo then needs the pupil's consent to be published."""
    if pupil is None or pupil.school_id != face.media_item.school_id:
        raise ValidationError({"pupil": "Choose a pupil of this school."})
    return _decide(
        face,
        by=by,
        decision=FaceDecision.PUPIL,
        pupil=pupil,
        action="media.face_tagged",
        confirm_published=confirm_published,
    )


def mark_not_pupil(face: Face, *, by, note: str, confirm_published: bool = False) -> Face:
    """The face is not a pupil (a member of staff, a visitor with permission); the note says who."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": 'Say who it is, for example "Mr Jones, teacher".'})
    return _decide(
        face,
        by=by,
        decision=FaceDecision.NOT_PUPIL,
        note=note[:200],
        action="media.face_not_pupil",
        confirm_published=confirm_published,
    )


def blur_face(face: Face, *, by, confirm_published: bool = False) -> Face:
    """The face is blurred in a new publishable file (pixelated, then blurred: not reversible). A pupil it was
    tagged with stays recorded, but is no longer among the pupils the photo shows."""
    return _decide(
        face,
        by=by,
        decision=FaceDecision.BLURRED,
        pupil=_KEEP,
        action="media.face_blurred",
        confirm_published=confirm_published,
    )


def untag_face(face: Face, *, by, confirm_published: bool = False) -> Face:
    """Back to undecided (a mistaken tag); a blurred face is shown again, and the photo is not publishable."""
    return _decide(
        face, by=by, decision=FaceDecision.UNTAGGED, action="media.face_untagged", confirm_published=confirm_published
    )


def add_face(item: MediaItem, *, by, box: tuple[float, float, float, float]) -> Face:
    """A face the detector missed, as (left, top, width, height) fractions of the photo; decided like any other."""
    require_permission(by, item.school, UPLOAD_PERMISSION)
    try:
        left, top, width, height = (float(value) for value in box)
    except (TypeError, ValueError) as error:
        raise ValidationError("Mark the face with a box on the photo.") from error
    if not all(math.isfinite(v) for v in (left, top, width, height)) or not (0 <= left < 1 and 0 <= top < 1):
        raise ValidationError("The box must lie on the photo.")
    left, top, width, height = _clip_box(left, top, width, height)
    if width < MIN_FACE_FRACTION or height < MIN_FACE_FRACTION:
        raise ValidationError("The box is too small: drag across the whole face.")
    with transaction.atomic():
        item = MediaItem.objects.select_for_update().select_related("school").get(pk=item.pk)
        face = Face.objects.create(media_item=item, left=left, top=top, width=width, height=height, added_by=by)
        _refresh_status(item)
        audit.log(
            "media.face_added",
            actor=by,
            target=item,
            detail={"face": face.pk, "box": [round(v, 4) for v in (left, top, width, height)]},
        )
    return face


# Deletion (RS-IMG-4)


def _listed(storage, folder: str) -> list[str]:
    """Every file under `folder` in storage, whatever named it (a derivative left by an interrupted change)."""
    try:
        directories, files = storage.listdir(folder)
    except FileNotFoundError:
        return []
    names = [f"{folder}/{name}" for name in files]
    for directory in directories:
        names += _listed(storage, f"{folder}/{directory}")
    return names


def delete_media(item: MediaItem, *, by, reason: str) -> dict:
    """Delete the photo at once: the original, every derivative and the row, leaving only the audit record.

    1. Permission ("media.delete") and a reason.
    2. In one transaction: the BEFORE_MEDIA_DELETE hooks, the audit entry and the row (a post that still
       protects the row stops everything here, before any file is touched).
    3. Once that commits, every file of the item (its fields and anything else in its folder) is deleted from
       storage and checked gone; a file storage keeps is retried by the remove_media_files job until it goes.
    Returns the audit detail.
    """
    require_permission(by, item.school, DELETE_PERMISSION)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the photo is being deleted."})
    storage = _storage()
    with transaction.atomic():
        item = MediaItem.objects.select_for_update(of=("self",)).select_related("school", "uploaded_by").get(pk=item.pk)
        for hook in BEFORE_MEDIA_DELETE:
            hook(item)
        names = sorted(set(item.file_names()) | set(_listed(storage, item.folder)))
        detail = {
            "reason": reason,
            "files": names,
            "original_sha256": item.original_sha256,
            "original_name": item.original_name,
            "uploaded_by": str(item.uploaded_by or ""),
            "uploaded_at": item.uploaded_at,
            "source": item.source,
            "photographer": item.photographer,
            "faces": item.faces.count(),
            "pupils_tagged": sorted(item.faces.exclude(pupil=None).values_list("pupil_id", flat=True)),
        }
        # Restricted: the reason for deleting a compromising picture is a safeguarding matter.
        audit.log("media.deleted", actor=by, target=item, detail=detail, restricted=True)
        item.delete()
        # Files go only once the deletion is committed: a rollback (here or in a caller's transaction) must not
        # leave a row pointing at files that are gone.
        transaction.on_commit(functools.partial(remove_files, item.folder, names), robust=True)
    return detail


def remove_files(folder: str, names: list[str]) -> list[str]:
    """Delete a deleted photo's files and its folder; what storage still holds is retried by a job. Returns it."""
    storage = _storage()
    _delete_files(names)
    remaining = [name for name in names if storage.exists(name)]
    if remaining:
        from schoolgate.media.tasks import remove_media_files  # a local import: tasks imports this module

        logger.error("Storage kept %d file(s) of a deleted photo in %s; retrying", len(remaining), folder)
        remove_media_files(folder, remaining)
        return remaining
    try:
        storage.delete(folder)  # the now-empty folder on local disk; nothing on S3
    except OSError:
        logger.warning("Could not remove the empty media folder %s", folder)
    return []
