"""Short-lived signed links to a photo's publishable copy, for networks that fetch images by URL."""

from __future__ import annotations

import pytest
from django.core import signing

from schoolgate.media import actions
from schoolgate.media.models import SIGNED_LINK_SALT, publishable_bytes, signed_link
from schoolgate.media.tests.photos import jpeg_with_everything


@pytest.fixture
def ready_photo(cast, upload):
    item = upload(jpeg_with_everything())
    for face in item.faces.all():
        actions.blur_face(face, by=cast.alice)
    item.refresh_from_db()
    return item


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_it_serves_the_publishable_copy_behind_a_signed_link_without_login(client, ready_photo):
    response = client.get(path_of(signed_link(ready_photo)))
    assert response.status_code == 200
    assert response.content == publishable_bytes(ready_photo)[0]


def test_it_refuses_a_tampered_expired_or_outdated_link(client, cast, ready_photo, settings):
    good = path_of(signed_link(ready_photo))
    assert client.get(good[:-3] + "abc/").status_code == 404
    forged = signing.dumps({"item": ready_photo.pk, "file": ready_photo.original.name}, salt="something else")
    assert client.get(f"/m/{forged}/").status_code == 404
    actions.add_face(ready_photo, by=cast.alice, box=(0.1, 0.1, 0.1, 0.1))  # an undecided face: not publishable
    assert client.get(good).status_code == 404
    stale = signing.dumps({"item": ready_photo.pk, "file": "media/old.jpg"}, salt=SIGNED_LINK_SALT, compress=True)
    assert client.get(f"/m/{stale}/").status_code == 404
