"""The image gate: no pupil's photo goes out without consent, and no face goes out undecided (RS-IMG-2).

Checked when a post is sent for review, when it is agreed or approved, and again when it is published:
consent may change at any point in between.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from schoolgate.connectors.base import MediaItem as OutgoingImage
from schoolgate.media.models import FaceDecision, publishable_bytes, signed_link
from schoolgate.pupils.consent import pupils_lacking_consent
from schoolgate.pupils.models import ConsentUse

# Every published post is also on the school's public news page (AW-PUB-4), so a photo needs both.
PHOTO_USES = (ConsentUse.SOCIAL_MEDIA_PHOTO, ConsentUse.WEBSITE_PHOTO)


def post_images(post) -> list:
    return list(post.images.select_related("media_item").order_by("position", "pk"))


def image_problems(images, *, on: dt.date) -> list[str]:
    """Why these images may not go out on that date: deleted, unscanned, undecided faces, missing consent."""
    problems = []
    for number, image in enumerate(images, start=1):
        item = image.media_item
        if item is None:
            problems.append(f"Image {number} was deleted from the media library: remove it from the post.")
            continue
        if item.faces_scanned_at is None:
            problems.append(f"Image {number} has not been scanned for faces yet; try again in a minute.")
            continue
        undecided = item.unresolved_faces().count()
        if undecided:
            problems.append(
                f"Image {number}: {undecided} face{'s are' if undecided != 1 else ' is'} neither tagged nor blurred "
                "— tag each face in the media library, or blur it."
            )
        shown = list(item.pupils())
        for use in PHOTO_USES:
            for pupil in pupils_lacking_consent(shown, use, on):
                problems.append(
                    f"Image {number} shows {pupil} without consent for “{ConsentUse(use).label.lower()}” on "
                    f"{on:%-d %B %Y} — blur their face or choose another photo."
                )
    return problems


def outgoing_images(images) -> list[OutgoingImage]:
    """The publishable derivatives (never the originals) as the connectors take them."""
    outgoing = []
    for number, image in enumerate(images, start=1):
        data, mime_type = publishable_bytes(image.media_item)
        outgoing.append(
            OutgoingImage(
                data=data,
                mime_type=mime_type,
                alt_text=image.alt_text,
                filename=f"image-{number}",
                public_url=signed_link(image.media_item),  # for networks that fetch the image (Instagram)
            )
        )
    return outgoing


def archived_images(images) -> list[dict]:
    """What each image was when the post went out: which photo, its fingerprint, and each face's decision."""
    archived = []
    for image in images:
        item = image.media_item
        if item is None:
            archived.append({"position": image.position, "deleted": image.deleted_note})
            continue
        data, _ = publishable_bytes(item)
        archived.append(
            {
                "position": image.position,
                "media_item": item.pk,
                "alt_text": image.alt_text,
                "sha256": hashlib.sha256(data).hexdigest(),
                "source": item.source,
                "photographer": item.photographer,
                "licence": item.licence,
                "faces": [
                    {"decision": face.decision, "pupil": face.pupil_id, "note": face.note} for face in item.faces.all()
                ],
            }
        )
    return archived


def live_posts_showing(pupil_id: int):
    """Posts live now in which a photo shows this pupil's face, unblurred."""
    from schoolgate.posts.models import Post

    return (
        Post.objects.public()
        .filter(images__media_item__faces__pupil_id=pupil_id, images__media_item__faces__decision=FaceDecision.PUPIL)
        .distinct()
    )
