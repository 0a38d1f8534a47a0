"""The image gate: no pupil's photo goes out without consent, and no face goes out undecided (RS-IMG-2).

Checked when a post is sent for review, when it is agreed or approved, and again when it is published:
consent may change at any point in between.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.utils import timezone

from schoolgate.connectors.base import MediaItem as OutgoingImage
from schoolgate.media.models import (
    FILE_MISSING,
    FaceDecision,
    MediaNotReady,
    file_missing,
    publishable_bytes,
    signed_link,
)
from schoolgate.policy.models import PolicySettings, PupilPhotos
from schoolgate.pupils.consent import pupils_lacking_consent, states_for, why_not
from schoolgate.pupils.models import ConsentUse
from schoolgate.screening.school import roster_for_school

# Which consent use each place a post appears needs. Every network an official account is on is a social
# network, so a photo there needs consent for the school's social media; and every published post is also on
# the school's public news page (AW-PUB-4), so it needs website consent too.
PHOTO_USES = (ConsentUse.SOCIAL_MEDIA_PHOTO, ConsentUse.WEBSITE_PHOTO)
NEWS_PAGE_USE = ConsentUse.WEBSITE_PHOTO


def post_images(post) -> list:
    return list(post.images.select_related("media_item").order_by("position", "pk"))


def _destinations(images, accounts) -> tuple[list[str], bool]:
    """Where the post goes, as people name it (the network, or the account's name for one managed outside
    Schoolgate), and whether every one is a known social network. From `accounts`, else the images' post."""
    if accounts is None:
        post = next((getattr(image, "post", None) for image in images), None)
        accounts = list(post.accounts.all()) if post is not None and post.pk else []
    names = {a.name if a.network == "other" else a.get_network_display() for a in accounts}
    return sorted(names), all(a.network != "other" for a in accounts)


def _why_use(use: str, destinations: tuple[list[str], bool]) -> str:
    """Why the post needs this use, e.g. "this post goes to Bluesky, a social network, so it needs consent for
    photos on social media". Every official account is the school's social media (RS-IMG-1); every published
    post is also on the school's news page (AW-PUB-4)."""
    if use == NEWS_PAGE_USE:
        return (
            "every published post also appears on the school's news page, so it needs consent for photos on the "
            "school website"
        )
    names, all_networks = destinations
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    if not names:
        where = "this post goes to the school's social media"
    elif all_networks:
        where = f"this post goes to {listed}, {'a social network' if len(names) == 1 else 'social networks'}"
    else:
        where = f"this post goes to {listed}, {'one of ' if len(names) == 1 else ''}the school's official accounts"
    return f"{where}, so it needs consent for photos on social media"


def image_problems(images, *, on: dt.date, text: str = "", school=None, accounts=None) -> list[str]:
    """Why these images may not go out on that date: deleted, missing from storage, unscanned, undecided faces,
    missing consent (saying which place needs which consent, and why), and (given the post's text) a pupil shown
    in a photo and named in the text without consent to that. `accounts` defaults to the images' post's."""
    problems = []
    shown_in = {}  # pupil id -> (pupil, image number), for the naming check below
    destinations = None
    no_pupil_photos = None  # read from the policy in force once a photo shows a pupil
    for number, image in enumerate(images, start=1):
        item = image.media_item
        if item is None:
            problems.append(f"Image {number} was deleted from the media library: remove it from the post.")
            continue
        if file_missing(item):
            problems.append(f"Image {number}: {FILE_MISSING}")
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
        for pupil in shown:
            shown_in.setdefault(pupil.pk, (pupil, number))
        if not shown:
            continue
        if no_pupil_photos is None:
            policy = PolicySettings.objects.in_force_at(school or item.school)
            no_pupil_photos = policy is not None and policy.pupil_photos == PupilPhotos.NONE
        if no_pupil_photos:
            names = ", ".join(str(pupil) for pupil in shown)
            problems.append(
                f"Image {number} shows {names}: the school's policy publishes no photos in which a pupil can be "
                "recognised. Blur their faces or choose another photo."
            )
            continue
        if destinations is None:
            destinations = _destinations(images, accounts)
        states = states_for([pupil.pk for pupil in shown], PHOTO_USES, on)
        as_of = "" if on == timezone.localdate() else f" on {on:%-d %B %Y}"
        for use in PHOTO_USES:
            for pupil in shown:
                state = states[(pupil.pk, str(use))]
                if not state.given:
                    problems.append(
                        f"Image {number} shows {pupil}: {_why_use(use, destinations)}, and for {pupil} that consent "
                        f"{why_not(state)}{as_of}. Blur their face or choose another photo."
                    )
    if text and school is not None and shown_in:
        problems += _named_without_consent(text, school, shown_in, on=on)
    return problems


def _named_without_consent(text: str, school, shown_in: dict, *, on: dt.date) -> list[str]:
    """A pupil both shown in a photo and named in the text needs consent for "name published with a photo"."""
    named = {pupil_id for match in roster_for_school(school).find(text) for pupil_id in match.pupil_ids}
    pupils = [shown_in[pupil_id][0] for pupil_id in sorted(named & shown_in.keys())]
    return [
        f"The text names {pupil}, who is shown in image {shown_in[pupil.pk][1]}, without consent for "
        f"“{ConsentUse.NAME_WITH_PHOTO.label.lower()}” — take the name out or blur the face."
        for pupil in pupils_lacking_consent(pupils, ConsentUse.NAME_WITH_PHOTO, on)
    ]


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
        try:
            data, _ = publishable_bytes(item)
        except MediaNotReady:  # the file went missing after it was sent: the record says so, never fails
            data = None
        archived.append(
            {
                "position": image.position,
                "media_item": item.pk,
                "alt_text": image.alt_text,
                "sha256": hashlib.sha256(data).hexdigest() if data is not None else None,
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
