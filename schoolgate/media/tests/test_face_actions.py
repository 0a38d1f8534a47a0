"""Faces in uploaded photos: detected on upload, then each tagged, marked not a pupil, blurred or added by hand."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from PIL import Image

from schoolgate.audit.models import AuditEntry
from schoolgate.media import actions
from schoolgate.media.faces import detect_faces
from schoolgate.media.models import FaceDecision, MediaNotReady, MediaStatus, publishable_bytes
from schoolgate.media.tests import photos
from schoolgate.media.tests.conftest import stored_files
from schoolgate.pupils.models import Pupil

pytestmark = pytest.mark.django_db


@pytest.fixture
def amelia(cast):
    return Pupil.objects.create(school=cast.school, upn="A1", legal_forename="Amelia", legal_surname="Khan")


@pytest.fixture
def astronaut(upload):
    return upload(photos.ASTRONAUT.read_bytes(), name="astronaut.png")


def pixels(item) -> np.ndarray:
    with item.publishable.storage.open(item.publishable.name, "rb") as handle:
        return np.asarray(Image.open(io.BytesIO(handle.read())).convert("RGB"), dtype=np.int16)


def region(array: np.ndarray, face) -> np.ndarray:
    height, width = array.shape[:2]
    return array[
        int(face.top * height) : int((face.top + face.height) * height),
        int(face.left * width) : int((face.left + face.width) * width),
    ]


def detail(array: np.ndarray) -> float:
    """Fine detail: the mean difference between neighbouring pixels (eyes, mouth, edges)."""
    return float(np.abs(np.diff(array, axis=1)).mean() + np.abs(np.diff(array, axis=0)).mean())


def test_it_stores_the_detected_face_as_fractions_of_the_photo(astronaut):
    (face,) = astronaut.faces.all()
    (found,) = detect_faces(Image.open(photos.ASTRONAUT))  # in pixels of the 512x512 photo
    assert face.box == pytest.approx((found.left / 512, found.top / 512, found.width / 512, found.height / 512))
    assert (astronaut.width, astronaut.height) == (512, 512)
    assert face.decision == FaceDecision.UNTAGGED and face.score >= 0.6 and face.added_by is None
    assert astronaut.status == MediaStatus.NEEDS_REVIEW
    assert list(astronaut.unresolved_faces()) == [face]
    assert AuditEntry.objects.get(action="media.uploaded").detail["faces_detected"] == 1


def test_it_refuses_to_hand_out_a_photo_with_an_undecided_face(astronaut):
    with pytest.raises(MediaNotReady, match="1 face in this photo must be tagged or blurred"):
        publishable_bytes(astronaut)
    assert not astronaut.is_ready


def test_it_tags_a_face_as_a_pupil(astronaut, amelia, cast):
    face = astronaut.faces.get()

    actions.tag_face(face, by=cast.bob, pupil=amelia)

    face.refresh_from_db()
    astronaut.refresh_from_db()
    assert (face.decision, face.pupil, face.decided_by) == (FaceDecision.PUPIL, amelia, cast.bob)
    assert list(astronaut.pupils()) == [amelia]
    assert not astronaut.unresolved_faces().exists() and astronaut.status == MediaStatus.READY
    data, mime = publishable_bytes(astronaut)
    assert mime == "image/png" or mime == "image/jpeg"
    assert data == astronaut.publishable.storage.open(astronaut.publishable.name, "rb").read()
    entry = AuditEntry.objects.get(action="media.face_tagged")
    assert entry.changes == {"decision": ["untagged", "pupil"], "pupil": [None, amelia.pk]}


def test_it_refuses_a_pupil_of_another_school(astronaut, cast):
    from schoolgate.testing import make_school

    stranger = Pupil.objects.create(
        school=make_school("Other").school, upn="Z9", legal_forename="Zed", legal_surname="X"
    )

    with pytest.raises(ValidationError):
        actions.tag_face(astronaut.faces.get(), by=cast.alice, pupil=stranger)
    assert astronaut.faces.get().decision == FaceDecision.UNTAGGED


def test_it_marks_a_face_as_not_a_pupil_with_who_it_is(astronaut, cast):
    face = astronaut.faces.get()
    with pytest.raises(ValidationError):
        actions.mark_not_pupil(face, by=cast.alice, note="  ")

    actions.mark_not_pupil(face, by=cast.alice, note="Mr Jones, teacher")

    face.refresh_from_db()
    assert (face.decision, face.note, face.pupil) == (FaceDecision.NOT_PUPIL, "Mr Jones, teacher", None)
    assert list(astronaut.pupils()) == [] and astronaut.is_ready


def test_it_blurs_the_face_in_a_new_publishable_file_and_never_touches_the_original(astronaut, amelia, cast):
    face = astronaut.faces.get()
    actions.tag_face(face, by=cast.alice, pupil=amelia)
    astronaut.refresh_from_db()
    before, before_name = pixels(astronaut), astronaut.publishable.name
    original = astronaut.original.storage.open(astronaut.original.name, "rb").read()

    actions.blur_face(face, by=cast.alice)

    astronaut.refresh_from_db()
    after = pixels(astronaut)
    assert astronaut.publishable.name != before_name
    # The face is strongly changed and left nearly flat (pixelated and blurred: nothing to recover)...
    changed = np.abs(region(after, face) - region(before, face)).mean()
    assert changed > 20, changed
    assert detail(region(after, face)) < detail(region(before, face)) / 4
    # ...while the rest of the photo is as it was.
    outside = np.abs(after[-100:, :] - before[-100:, :]).mean()
    assert outside < 3, outside
    assert astronaut.original.storage.open(astronaut.original.name, "rb").read() == original
    assert photos.ASTRONAUT.read_bytes() == original
    # A blurred pupil is not shown, so the photo no longer needs that pupil's consent; who it was is kept.
    assert list(astronaut.pupils()) == [] and astronaut.is_ready
    face.refresh_from_db()
    assert (face.decision, face.pupil) == (FaceDecision.BLURRED, amelia)
    assert AuditEntry.objects.filter(action="media.face_blurred").count() == 1


def test_it_deletes_the_unblurred_copy_once_the_blur_is_committed(
    astronaut, cast, media_root, django_capture_on_commit_callbacks
):
    old = {astronaut.publishable.name, astronaut.thumbnail.name}

    with django_capture_on_commit_callbacks(execute=True):
        actions.blur_face(astronaut.faces.get(), by=cast.alice)

    astronaut.refresh_from_db()
    files = set(stored_files(media_root))
    assert not old & files
    assert files == {astronaut.original.name, astronaut.publishable.name, astronaut.thumbnail.name}


def test_it_shows_the_face_again_when_a_blur_is_undone(astronaut, cast):
    face = astronaut.faces.get()
    actions.blur_face(face, by=cast.alice)
    astronaut.refresh_from_db()
    blurred = pixels(astronaut)

    actions.untag_face(face, by=cast.alice)

    astronaut.refresh_from_db()
    assert np.abs(region(pixels(astronaut), face) - region(blurred, face)).mean() > 20
    assert astronaut.status == MediaStatus.NEEDS_REVIEW and not astronaut.is_ready


def test_it_adds_a_face_the_detector_missed_which_must_then_be_decided(upload, cast):
    item = upload(photos.jpeg_with_everything())
    assert item.status == MediaStatus.READY and not item.faces.exists()

    face = actions.add_face(item, by=cast.alice, box=(0.5, 0.5, 0.2, 0.3))

    item.refresh_from_db()
    assert (face.left, face.top, face.width, face.height) == (0.5, 0.5, 0.2, 0.3)
    assert face.score is None and face.added_by == cast.alice
    assert item.status == MediaStatus.NEEDS_REVIEW
    with pytest.raises(MediaNotReady):
        publishable_bytes(item)
    before = pixels(item)
    actions.blur_face(face, by=cast.alice)
    item.refresh_from_db()
    assert np.abs(region(pixels(item), face) - region(before, face)).mean() > 10
    assert item.is_ready


def test_it_clips_a_box_at_the_edge_and_refuses_one_off_the_photo(upload, cast):
    item = upload(photos.jpeg_with_everything())

    face = actions.add_face(item, by=cast.alice, box=(0.9, 0.8, 0.3, 0.5))
    assert face.width == pytest.approx(0.1) and face.height == pytest.approx(0.2)
    for box in [(1.2, 0.1, 0.1, 0.1), (0.1, 0.1, 0.001, 0.2), (float("nan"), 0, 0.1, 0.1)]:
        with pytest.raises(ValidationError):
            actions.add_face(item, by=cast.alice, box=box)
    assert item.faces.count() == 1


def test_it_lets_only_staff_decide_faces(astronaut, cast, amelia):
    face = astronaut.faces.get()
    for attempt in (
        lambda: actions.tag_face(face, by=cast.volunteer, pupil=amelia),
        lambda: actions.blur_face(face, by=cast.governor),
        lambda: actions.add_face(astronaut, by=cast.volunteer, box=(0.1, 0.1, 0.2, 0.2)),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    assert astronaut.faces.get().decision == FaceDecision.UNTAGGED and astronaut.faces.count() == 1


def test_it_scans_later_when_the_detector_fails_at_upload(upload, monkeypatch, django_capture_on_commit_callbacks):
    from schoolgate.media import faces

    def broken(image):
        raise faces.ModelFileError("model file missing")

    monkeypatch.setattr(actions, "detect_faces", broken)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        item = upload(photos.ASTRONAUT.read_bytes(), name="astronaut.png")
    assert item.status == MediaStatus.SCANNING and item.faces_scanned_at is None
    with pytest.raises(MediaNotReady, match="not been scanned"):
        publishable_bytes(item)

    monkeypatch.undo()
    for callback in callbacks:
        callback()  # the scan_faces job, run inline in tests

    item.refresh_from_db()
    assert item.faces.count() == 1 and item.status == MediaStatus.NEEDS_REVIEW
    from schoolgate.media.tasks import scan_faces

    assert scan_faces.call_local(item.pk) == 0  # a second run finds it scanned and does nothing
    assert item.faces.count() == 1
