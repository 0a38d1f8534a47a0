"""Photos with faces the detector is less sure of: the warning on the photo's page and the check by eye."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import dateformat, timezone

from schoolgate.audit.models import AuditEntry
from schoolgate.media import actions
from schoolgate.media.face_detectors import LibFaceDetection
from schoolgate.media.tests import photos

pytestmark = pytest.mark.django_db

WARNING = "This photo has faces the detector is less sure of: check the back rows and the edges by eye."
needs_libfacedetection = pytest.mark.skipif(
    not LibFaceDetection.available(), reason="the fallback detector does not find 10-pixel faces"
)


@pytest.fixture
def crowd(upload):
    return upload(photos.small_faces_png(10), name="crowd.png")


def page(client, item) -> str:
    return client.get(f"/s/{item.school.slug}/media/{item.pk}/").content.decode()


@needs_libfacedetection
def test_it_records_what_the_scan_was_less_sure_of_and_warns_on_the_photos_page(client, cast, crowd):
    assert crowd.face_doubts["small"] == crowd.faces.count() == 8 and crowd.face_doubts["unsure"] == 8
    assert AuditEntry.objects.get(action="media.uploaded").detail["face_doubts"] == crowd.face_doubts
    client.force_login(cast.alice)
    shown = page(client, crowd)
    assert WARNING in shown and "I have checked the whole photo by eye" in shown


def test_it_shows_no_warning_for_a_clear_photo(client, cast, upload):
    portrait = upload(photos.ASTRONAUT.read_bytes(), name="astronaut.png")
    assert portrait.faces.count() == 1 and portrait.face_doubts["unsure"] == 0
    client.force_login(cast.alice)
    shown = page(client, portrait)
    assert WARNING not in shown and "checked the whole photo by eye" not in shown


@needs_libfacedetection
def test_it_records_the_check_by_eye_audits_it_and_shows_who_checked(client, cast, crowd):
    client.force_login(cast.alice)
    response = client.post(f"/s/{cast.school.slug}/media/{crowd.pk}/checked-by-eye/")
    assert response.status_code == 302

    crowd.refresh_from_db()
    assert crowd.checked_by_eye_by == cast.alice and crowd.checked_by_eye_at is not None
    entry = AuditEntry.objects.get(action="media.checked_by_eye")
    assert entry.detail == {"face_doubts": crowd.face_doubts, "faces": 8}
    on = dateformat.format(timezone.localtime(crowd.checked_by_eye_at), "j F Y")
    shown = page(client, crowd)
    assert f"by {cast.alice} on {on}" in shown and "I have checked the whole photo by eye" not in shown

    actions.mark_checked_by_eye(crowd, by=cast.bob)  # a second check changes nothing
    crowd.refresh_from_db()
    assert crowd.checked_by_eye_by == cast.alice
    assert AuditEntry.objects.filter(action="media.checked_by_eye").count() == 1


def test_it_lets_only_those_who_decide_faces_check_a_photo_by_eye(client, cast, upload):
    item = upload(photos.small_faces_png(10), name="crowd.png")
    for someone in (cast.volunteer, cast.governor):
        with pytest.raises(PermissionDenied):
            actions.mark_checked_by_eye(item, by=someone)
    client.force_login(cast.volunteer)
    assert client.post(f"/s/{cast.school.slug}/media/{item.pk}/checked-by-eye/").status_code == 403
    item.refresh_from_db()
    assert item.checked_by_eye_at is None
    assert not AuditEntry.objects.filter(action="media.checked_by_eye").exists()
