"""In real Chromium: a teacher uploads a photo, sees the face the scan found, tags it as a pupil, blurs it, and
adds a face the scan missed by dragging across the photo."""

from __future__ import annotations

import re

import pytest

from schoolgate.media.models import FaceDecision, MediaItem
from schoolgate.media.tests import photos
from schoolgate.pupils.models import Pupil
from schoolgate.testing import browser_log_in, make_school

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_uploads_a_photo_then_tags_and_blurs_the_face(page):
    cast = make_school("The Raleigh School", slug="raleigh")
    Pupil.objects.create(
        school=cast.school, upn="R100", legal_forename="Amelia", legal_surname="Khan", registration_group="5B"
    )
    browser_log_in(page, cast.alice)

    page.goto("/s/raleigh/media/upload/")
    page.get_by_label("Photo:", exact=True).set_input_files(str(photos.ASTRONAUT))
    page.get_by_label("Where the photo came from").fill("Taken by staff on a school device")
    page.get_by_label("Who took it").fill("Alice Staff")
    page.get_by_label("School-owned (taken by staff)").check()
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("1 face found").wait_for()

    boxes = page.locator(".face-box")
    assert boxes.count() == 1
    image = page.locator("#photo-frame img").bounding_box()
    box = boxes.first.bounding_box()
    face = MediaItem.objects.get().faces.get()
    # The box is drawn where the face is, whatever size the photo is shown at.
    assert box["x"] - image["x"] == pytest.approx(face.left * image["width"], abs=4)
    assert box["width"] == pytest.approx(face.width * image["width"], abs=4)

    page.get_by_label("Pupil in face 1").select_option(label="Khan, Amelia (5B)")
    page.get_by_role("button", name="Tag face 1 as this pupil").click()
    page.get_by_text("Face tagged as Amelia Khan.").wait_for()
    assert "Pupil: Amelia Khan" in page.locator("#face-1").inner_text()
    item = MediaItem.objects.get()
    first_publishable = item.publishable.name
    assert [str(p) for p in item.pupils()] == ["Amelia Khan"] and item.is_ready

    page.get_by_role("button", name="Blur face 1").click()
    page.get_by_text("Face blurred in the photo that can be published.").wait_for()
    assert page.locator(".face-box.blurred").count() == 1
    item.refresh_from_db()
    assert item.faces.get().decision == FaceDecision.BLURRED and item.publishable.name != first_publishable
    assert not item.publishable.storage.exists(first_publishable)  # the unblurred copy is gone
    assert list(item.pupils()) == []

    # A face the scan missed: drag across it on the photo, then add it.
    image = page.locator("#photo-frame img").bounding_box()
    page.mouse.move(image["x"] + image["width"] * 0.1, image["y"] + image["height"] * 0.6)
    page.mouse.down()
    page.mouse.move(image["x"] + image["width"] * 0.2, image["y"] + image["height"] * 0.7, steps=5)
    page.mouse.move(image["x"] + image["width"] * 0.3, image["y"] + image["height"] * 0.85, steps=5)
    page.mouse.up()
    assert float(page.get_by_label("From the left (%)").input_value()) == pytest.approx(10, abs=1)
    assert float(page.get_by_label("Height (%)").input_value()) == pytest.approx(25, abs=1)
    page.get_by_role("button", name="Add face").click()
    page.get_by_text("Face added: now tag it or blur it.").wait_for()
    assert page.locator(".face-box").count() == 2
    assert re.search(r"Faces to tag or blur", page.locator("h1").inner_text())
    added = MediaItem.objects.get().faces.get(added_by=cast.alice)
    assert (added.left, added.top) == (pytest.approx(0.1, abs=0.01), pytest.approx(0.6, abs=0.01))
