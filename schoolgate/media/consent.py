"""What the consent register says about the pupils a photo shows: where the photo may not appear, and why."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from schoolgate.media.models import Face, FaceDecision, MediaItem
from schoolgate.pupils.consent import PLACES, places_without_consent, why_not


@dataclass(frozen=True)
class PlaceGap:
    """One place the photo may not appear, and how many of the pupils it shows lack consent for it."""

    use: str
    place: str
    pupils: int

    def __str__(self) -> str:
        return f"not for {self.place}: {self.pupils} pupil{'s' if self.pupils != 1 else ''} without consent"


def gaps_by_item(items: Iterable[MediaItem], on: dt.date) -> dict[int, list[PlaceGap]]:
    """For each photo, the places it may not appear because a pupil shown (tagged, not blurred) lacks consent.
    Three queries for a whole page of the library."""
    ids = [item.pk for item in items]
    shown = defaultdict(set)
    for item_id, pupil_id in Face.objects.filter(media_item_id__in=ids, decision=FaceDecision.PUPIL).values_list(
        "media_item_id", "pupil_id"
    ):
        shown[item_id].add(pupil_id)
    missing = places_without_consent({pid for pupils in shown.values() for pid in pupils}, on)
    gaps = {}
    for item_id in ids:
        counts = {use: sum(1 for pid in shown[item_id] if use in missing[pid]) for use in PLACES}
        gaps[item_id] = [PlaceGap(str(use), PLACES[use], count) for use, count in counts.items() if count]
    return gaps


def sentences(missing: dict[str, object]) -> list[str]:
    """Where a photo of a pupil may not be used and why, e.g. "social media (consent was refused)", from one entry
    of places_without_consent."""
    return [f"{PLACES[use]} (consent {why_not(state)})" for use, state in missing.items()]


def faces_gaps(faces, on: dt.date) -> dict[int, list[str]]:
    """For each face tagged as a pupil, where the photo may not be used because of that pupil (two queries)."""
    tagged = [face for face in faces if face.decision == FaceDecision.PUPIL and face.pupil_id]
    missing = places_without_consent([face.pupil_id for face in tagged], on)
    return {face.pk: sentences(missing[face.pupil_id]) for face in tagged}


def pupil_gaps(pupil, on: dt.date) -> list[str]:
    """Where a photo of this pupil may not be used and why; empty when the pupil may appear everywhere."""
    return sentences(places_without_consent([pupil.pk], on)[pupil.pk])


def tagged_message(pupil, on: dt.date) -> tuple[bool, str]:
    """(all clear, message) to show once a face is tagged as `pupil`."""
    gaps = pupil_gaps(pupil, on)
    if not gaps:
        return True, f"Face tagged as {pupil}. They have consent for photos on social media, the website and in print."
    listed = gaps[0] if len(gaps) == 1 else ", ".join(gaps[:-1]) + " or " + gaps[-1]
    return False, (
        f"Face tagged as {pupil}. This photo may not be used for {listed}. Blur the face before using it there, "
        "or choose another photo."
    )
