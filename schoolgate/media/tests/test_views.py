"""The media library pages: grid, upload form, a photo with its face boxes, decisions, deletion, and file access."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from schoolgate.audit.models import AuditEntry
from schoolgate.media.models import FaceDecision, MediaItem
from schoolgate.media.tests import photos
from schoolgate.media.tests.conftest import stored_files
from schoolgate.pupils.models import Pupil
from schoolgate.testing import make_school

pytestmark = pytest.mark.django_db

PROVENANCE = {"source": "Taken by staff on a school device", "photographer": "Alice Staff", "licence": "school_owned"}


def post_upload(client, slug, data, name="photo.jpg", **fields):
    return client.post(
        f"/s/{slug}/media/upload/",
        {**PROVENANCE, **fields, "file": SimpleUploadedFile(name, data, "image/jpeg")},
        follow=True,
    )


@pytest.fixture
def astronaut(upload):
    return upload(photos.ASTRONAUT.read_bytes(), name="astronaut.png")


def test_it_uploads_through_the_form_and_shows_the_face_boxes(client, cast):
    client.force_login(cast.alice)
    slug = cast.school.slug

    page = post_upload(client, slug, photos.ASTRONAUT.read_bytes(), name="astronaut.png").content.decode()

    item = MediaItem.objects.get()
    assert "1 face found: tag each one or blur it" in page
    assert page.count('class="face-box untagged"') == 1 and 'data-face="1"' in page
    face = item.faces.get()
    assert f"left: {round(face.left * 100, 3)}%;" in page
    assert f"/s/{slug}/media/{item.pk}/file/publishable/" in page
    assert "Download the file as uploaded" not in page  # staff cannot fetch originals
    library = client.get(f"/s/{slug}/media/").content.decode()
    assert f"/s/{slug}/media/{item.pk}/file/thumbnail/" in library and "1 of 1 face to decide" in library


def test_it_shows_refusals_on_the_form_and_stores_nothing(client, cast, media_root):
    client.force_login(cast.alice)
    slug = cast.school.slug

    page = post_upload(client, slug, photos.png_bomb(), name="photo.png").content.decode()
    assert "This image is too large to process safely" in page
    page = post_upload(client, slug, b"%PDF-1.4", name="photo.jpg").content.decode()
    assert "This is not a JPEG, PNG, HEIC/HEIF or WebP photo" in page
    page = post_upload(client, slug, photos.jpeg_with_everything(), licence="permission").content.decode()
    assert "Say who holds the copyright and how they gave permission." in page

    assert not MediaItem.objects.exists() and stored_files(media_root) == []


def test_it_refuses_an_oversized_request_before_reading_it(client, cast):
    client.force_login(cast.alice)

    response = client.post(
        f"/s/{cast.school.slug}/media/upload/",
        data=b"x",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(40 * 1024 * 1024),
    )

    assert response.status_code == 413 and "photos up to 25 MB can be uploaded" in response.content.decode()


def test_it_records_face_decisions_from_the_photo_page(client, cast, astronaut):
    amelia = Pupil.objects.create(school=cast.school, upn="A1", legal_forename="Amelia", legal_surname="Khan")
    Pupil.objects.create(
        school=cast.school, upn="A2", legal_forename="Old", legal_surname="Leaver", leaving_date="2020-07-20"
    )
    client.force_login(cast.bob)
    url = f"/s/{cast.school.slug}/media/{astronaut.pk}/"
    face = astronaut.faces.get()

    page = client.get(url).content.decode()
    assert "Khan, Amelia" in page and "Leaver" not in page  # current pupils only
    page = client.post(f"{url}faces/{face.pk}/", {"decision": "pupil", "pupil": ""}, follow=True).content.decode()
    assert "Choose the pupil." in page
    page = client.post(
        f"{url}faces/{face.pk}/", {"decision": "pupil", "pupil": amelia.pk}, follow=True
    ).content.decode()
    assert "Face tagged as Amelia Khan." in page and "Pupil: Amelia Khan" in page
    page = client.post(f"{url}faces/{face.pk}/", {"decision": "not_pupil", "note": ""}, follow=True).content.decode()
    assert "Say who it is" in page
    client.post(f"{url}faces/{face.pk}/", {"decision": "blurred"})
    face.refresh_from_db()
    assert face.decision == FaceDecision.BLURRED
    page = client.post(
        f"{url}faces/add/", {"left": 5, "top": 5, "width": 20, "height": 25}, follow=True
    ).content.decode()
    assert "Face added: now tag it or blur it." in page and page.count('class="face-box') == 2


def test_it_hides_pupil_names_and_controls_from_volunteers(client, cast, astronaut):
    amelia = Pupil.objects.create(school=cast.school, upn="A1", legal_forename="Amelia", legal_surname="Khan")
    face = astronaut.faces.get()
    from schoolgate.media import actions

    actions.tag_face(face, by=cast.alice, pupil=amelia)
    client.force_login(cast.volunteer)
    url = f"/s/{cast.school.slug}/media/{astronaut.pk}/"

    page = client.get(url).content.decode()
    assert "A pupil" in page and "Amelia" not in page and "Tag face 1" not in page
    assert client.post(f"{url}faces/{face.pk}/", {"decision": "blurred"}).status_code == 403
    assert client.get(f"{url}file/publishable/").status_code == 200


def test_it_serves_files_only_to_members_and_originals_only_to_those_who_may_delete(client, cast, astronaut):
    base = f"/s/{cast.school.slug}/media/{astronaut.pk}/file"
    client.force_login(cast.alice)
    response = client.get(f"{base}/publishable/")
    assert response.status_code == 200 and response["Content-Type"] == astronaut.mime_type
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == astronaut.publishable.storage.open(astronaut.publishable.name).read()
    assert client.get(f"{base}/original/").status_code == 403
    assert client.get(f"{base}/secret/").status_code == 404

    client.force_login(cast.dsl)
    response = client.get(f"{base}/original/")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == photos.ASTRONAUT.read_bytes()
    assert AuditEntry.objects.filter(action="media.original_downloaded", actor=cast.dsl).exists()

    outsider = make_school("Other School").head
    client.force_login(outsider)
    assert client.get(f"{base}/thumbnail/").status_code == 403
    assert client.get(f"/s/{cast.school.slug}/media/").status_code == 403
    client.logout()
    assert client.get(f"{base}/thumbnail/").status_code == 302  # to the login page


@pytest.mark.clause("RS-IMG-4")
def test_it_deletes_from_the_photo_page_with_a_reason(
    client, cast, astronaut, media_root, django_capture_on_commit_callbacks
):
    client.force_login(cast.alice)
    assert client.get(f"/s/{cast.school.slug}/media/{astronaut.pk}/delete/").status_code == 403
    client.force_login(cast.head)
    url = f"/s/{cast.school.slug}/media/{astronaut.pk}/delete/"

    page = client.post(url, {"reason": ""}, follow=True).content.decode()
    assert "This field is required." in page and MediaItem.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(url, {"reason": "Compromising picture"}, follow=True).content.decode()

    assert "The photo and every copy made from it have been deleted." in page
    assert not MediaItem.objects.exists() and stored_files(media_root) == []
    assert client.get(f"/s/{cast.school.slug}/media/{astronaut.pk}/file/publishable/").status_code == 404
