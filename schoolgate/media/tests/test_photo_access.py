"""Who sees which photos: undecided photos only to those who tag faces; buttons only for what a role may do; and a
clear page, never a server error, when storage has lost a photo's file."""

from __future__ import annotations

import pytest

from schoolgate.media import actions
from schoolgate.media.models import MediaStatus
from schoolgate.media.tests import photos
from schoolgate.pupils.models import Pupil
from schoolgate.schools.models import Trust
from schoolgate.testing import make_user

pytestmark = pytest.mark.django_db

# Those who tag faces ("media.upload"): staff, the leaders and the safeguarding leads.
SEE_UNDECIDED = ["head", "dsl", "deputy_dsl", "leader", "alice"]
READY_ONLY = ["volunteer", "governor", "chair", "trust_admin"]


@pytest.fixture
def people(cast):
    trust = Trust.objects.create(name="Test Trust")
    cast.school.trust = trust
    cast.school.save(update_fields=["trust"])
    admin = make_user("Tess Trust", totp=True)
    trust.admins.add(admin)
    return {**{name: getattr(cast, name) for name in SEE_UNDECIDED + READY_ONLY[:-1]}, "trust_admin": admin}


@pytest.fixture
def undecided(upload):
    item = upload(photos.ASTRONAUT.read_bytes(), name="astronaut.png")
    assert item.status == MediaStatus.NEEDS_REVIEW
    return item


@pytest.fixture
def ready(upload, cast):
    item = upload(photos.jpeg_with_everything(), name="trip.jpg")
    assert item.status == MediaStatus.READY  # no faces in the picture
    return item


def urls(slug, item) -> list[str]:
    base = f"/s/{slug}/media/{item.pk}/"
    return [base, f"{base}file/publishable/", f"{base}file/thumbnail/"]


@pytest.mark.parametrize("role", SEE_UNDECIDED + READY_ONLY)
def test_it_shows_undecided_photos_only_to_those_who_tag_faces(client, cast, people, undecided, ready, role):
    client.force_login(people[role])
    slug = cast.school.slug
    library = client.get(f"/s/{slug}/media/").content.decode()

    assert f"/media/{ready.pk}/file/thumbnail/" in library
    for url in urls(slug, ready):
        assert client.get(url).status_code == 200, url
    if role in SEE_UNDECIDED:
        assert f"/media/{undecided.pk}/file/thumbnail/" in library
        for url in urls(slug, undecided):
            assert client.get(url).status_code == 200, url
    else:
        assert f"/media/{undecided.pk}/" not in library
        assert "shown only to staff who tag faces" in library
        for url in urls(slug, undecided):
            response = client.get(url)
            assert response.status_code == 403, url
        assert "have not all been tagged or blurred yet" in client.get(urls(slug, undecided)[0]).content.decode()


def test_it_shows_a_photo_to_everyone_once_every_face_is_decided(client, cast, undecided):
    actions.blur_face(undecided.faces.get(), by=cast.alice)
    client.force_login(cast.volunteer)
    for url in urls(cast.school.slug, undecided):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", SEE_UNDECIDED + READY_ONLY)
def test_it_offers_the_upload_button_only_to_those_who_may_upload(client, cast, people, role):
    client.force_login(people[role])
    slug = cast.school.slug
    library = client.get(f"/s/{slug}/media/").content.decode()
    offered = f'href="/s/{slug}/media/upload/"' in library
    allowed = client.get(f"/s/{slug}/media/upload/").status_code == 200
    assert offered == allowed == (role in SEE_UNDECIDED)


def test_it_says_plainly_when_storage_has_lost_a_photos_files(client, cast, upload):
    item = upload(photos.ASTRONAUT.read_bytes(), name="astronaut.png")
    for name in item.file_names():
        item.original.storage.delete(name)
    face = item.faces.get()
    client.force_login(cast.dsl)
    base = f"/s/{cast.school.slug}/media/{item.pk}/"

    page = client.get(base)
    assert page.status_code == 200 and "file is missing from storage" in page.content.decode()
    for kind in ("publishable", "thumbnail", "original"):
        response = client.get(f"{base}file/{kind}/")
        assert response.status_code == 404 and "file is missing from storage" in response.content.decode(), kind
    # Blurring remakes the publishable copy from the original: refused with the same explanation, not a 500.
    page = client.post(f"{base}faces/{face.pk}/", {"decision": "blurred"}, follow=True).content.decode()
    assert "file is missing from storage" in page
    face.refresh_from_db()
    assert face.decision == "untagged"
    pupil = Pupil.objects.create(school=cast.school, upn="A1", legal_forename="Amelia", legal_surname="Khan")
    assert client.post(f"{base}faces/{face.pk}/", {"decision": "pupil", "pupil": pupil.pk}).status_code == 302


@pytest.mark.parametrize("role", ["alice", "volunteer", "trust_admin"])
def test_it_offers_only_photos_a_person_may_see_when_writing_a_post(client, cast, people, undecided, ready, role):
    client.force_login(people[role])

    page = client.get(f"/s/{cast.school.slug}/posts/new/").content.decode()

    assert f"/media/{ready.pk}/file/thumbnail/" in page
    may_upload = role == "alice"
    assert (f"/media/{undecided.pk}/file/thumbnail/" in page) is may_upload
    assert (f"/s/{cast.school.slug}/media/upload/" in page) is may_upload
