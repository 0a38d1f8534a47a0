"""Uploading photos: pixels-only publishable copies (AW-IMG-2), provenance, and refusing what cannot be processed."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from PIL import Image

from schoolgate.audit.models import AuditEntry
from schoolgate.media import actions
from schoolgate.media.derivatives import MAX_BYTES, MAX_SIDE
from schoolgate.media.images import open_upload, sniff_format
from schoolgate.media.models import Face, Licence, MediaItem, MediaStatus
from schoolgate.media.tests import photos
from schoolgate.media.tests.conftest import stored_files

pytestmark = pytest.mark.django_db

# Everything a JPEG may carry before its image data that is not needed to show the picture: APP1 (EXIF, XMP),
# APP2 (ICC), APP13 (IPTC), APP3-APP15 (maker data), COM (comments). The re-encoded file may hold only these.
JPEG_ALLOWED = {0xE0, 0xDB, 0xC0, 0xC1, 0xC2, 0xC4, 0xDD, 0xDA}
PNG_ALLOWED = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}


def read_back(item: MediaItem) -> bytes:
    """The publishable file as storage holds it, read back independently of the app."""
    with item.publishable.storage.open(item.publishable.name, "rb") as handle:
        return handle.read()


def assert_pixels_only(data: bytes) -> None:
    for secret in photos.SECRETS:
        assert secret not in data, secret
    assert b"Exif\x00\x00" not in data and b"GPS" not in data and b"http://ns.adobe.com/xap" not in data
    if data.startswith(b"\xff\xd8"):
        markers = {marker for marker, _ in photos.jpeg_segments(data)}
        assert markers <= JPEG_ALLOWED, sorted(hex(m) for m in markers - JPEG_ALLOWED)
    else:
        assert set(photos.png_chunks(data)) <= PNG_ALLOWED
    with Image.open(io.BytesIO(data)) as image:
        assert not image.getexif()
        assert not {"exif", "xmp", "icc_profile", "comment", "photoshop", "Comment", "Location"} & set(image.info)


@pytest.mark.clause("AW-IMG-2")
@pytest.mark.parametrize(
    ("maker", "name"),
    [
        (photos.jpeg_with_everything, "IMG_0001.JPG"),
        (photos.png_with_text, "scan.png"),
        (photos.webp_with_exif, "photo.webp"),
        (photos.heic_with_exif, "IMG_0002.HEIC"),
    ],
)
def test_it_strips_location_and_camera_metadata_from_the_publishable_file(upload, maker, name):
    data = maker()
    for secret in (b"Canon", b"MAKERNOTE-SECRET", b"xmpmeta"):
        assert secret in data  # the upload really carries them

    item = upload(data, name=name)

    published = read_back(item)
    assert_pixels_only(published)
    assert item.mime_type == "image/jpeg" and published.startswith(b"\xff\xd8")
    with Image.open(io.BytesIO(published)) as image:
        assert image.size == (item.width, item.height) == (640, 480)
    thumbnail = item.thumbnail.storage.open(item.thumbnail.name, "rb").read()
    assert_pixels_only(thumbnail)
    # The original is kept as received, privately.
    assert item.original.storage.open(item.original.name, "rb").read() == data
    assert item.original_sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.clause("AW-IMG-2")
def test_it_keeps_transparency_as_a_png_without_text_chunks(upload):
    image = photos.scene(mode="RGBA")
    image.putalpha(Image.linear_gradient("L").resize(image.size))
    item = upload(photos.png_with_text(image), name="logo.png")

    published = read_back(item)
    assert item.mime_type == "image/png"
    assert_pixels_only(published)
    with Image.open(io.BytesIO(published)) as opened:
        assert opened.mode == "RGBA" and opened.getchannel("A").getextrema()[0] < 255


def naive_resave(data: bytes, fmt: str) -> bytes:
    """What a derivative without the app's own stripping step would write: the decoded photo saved again."""
    shown = open_upload(data, kind=sniff_format(data[:64]))
    buffer = io.BytesIO()
    shown.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.clause("AW-IMG-2")
@pytest.mark.parametrize(
    ("maker", "name", "mime_type"),
    [
        (photos.jpeg_with_comment_and_no_profile, "IMG_0003.JPG", "image/jpeg"),
        (photos.transparent_png_with_identifying_profile, "badge.png", "image/png"),
    ],
)
def test_it_strips_what_the_image_library_would_carry_over_by_itself(upload, maker, name, mime_type):
    data = maker()
    # These inputs carry metadata through a plain re-save (a JPEG comment, a PNG colour-profile chunk): only the
    # app's own pixels-only step keeps it out of the publishable copy.
    with pytest.raises(AssertionError):
        assert_pixels_only(naive_resave(data, "JPEG" if mime_type == "image/jpeg" else "PNG"))

    item = upload(data, name=name)

    assert item.mime_type == mime_type
    assert_pixels_only(read_back(item))
    assert_pixels_only(item.thumbnail.storage.open(item.thumbnail.name, "rb").read())
    # Blurring makes the publishable copy again from the original: stripped again.
    actions.add_face(item, by=item.uploaded_by, box=(0.1, 0.1, 0.2, 0.2))
    actions.blur_face(item.faces.get(), by=item.uploaded_by)
    item.refresh_from_db()
    assert_pixels_only(read_back(item))


def test_it_publishes_photos_as_jpeg_when_a_png_has_no_real_transparency(upload):
    item = upload(photos.png_with_text(photos.scene(mode="RGBA")), name="opaque.png")

    assert item.mime_type == "image/jpeg"


def test_it_turns_the_photo_the_way_the_camera_says(upload):
    stored = Image.new("RGB", (300, 200), (220, 0, 0))
    stored.paste((0, 0, 220), (150, 0, 300, 200))  # left half red, right half blue, as the sensor saw it
    # Orientation 6: shown turned 90 degrees clockwise, so the left (red) half ends up on top.
    item = upload(photos.jpeg_with_everything(stored, orientation=6))

    with Image.open(io.BytesIO(read_back(item))) as image:
        assert image.size == (200, 300) == (item.width, item.height)
        red_top, blue_bottom = image.getpixel((100, 40)), image.getpixel((100, 260))
        assert red_top[0] > 180 and red_top[2] < 60
        assert blue_bottom[2] > 180 and blue_bottom[0] < 60
        assert not image.getexif().get(0x0112)


def test_it_caps_the_size_for_every_network(upload):
    noise = Image.effect_noise((3000, 2250), 120).convert("RGB")  # noise compresses worst of all
    item = upload(photos.jpeg_with_everything(noise))

    published = read_back(item)
    assert len(published) <= MAX_BYTES
    assert max(item.width, item.height) <= MAX_SIDE
    assert item.width / item.height == pytest.approx(3000 / 2250, rel=0.01)


def test_it_records_provenance_and_audits_the_upload(upload, cast):
    item = upload(
        photos.jpeg_with_everything(),
        name="sports-day.jpg",
        source="Supplied by a parent",
        photographer="Mrs Patel",
        licence=Licence.PERMISSION,
        permission_note="Mrs Patel agreed by email on 3 May",
        alt_text="Children running the egg-and-spoon race",
    )

    item.refresh_from_db()
    assert (item.source, item.photographer, item.licence) == ("Supplied by a parent", "Mrs Patel", "permission")
    assert item.permission_note == "Mrs Patel agreed by email on 3 May"
    assert item.alt_text == "Children running the egg-and-spoon race"
    assert item.uploaded_by == cast.alice and item.original_name == "sports-day.jpg"
    assert item.status == MediaStatus.READY and item.faces_scanned_at is not None  # no faces in the scene
    entry = AuditEntry.objects.get(action="media.uploaded")
    assert entry.actor == cast.alice and entry.object_id == str(item.pk)
    assert entry.detail["photographer"] == "Mrs Patel" and entry.detail["sha256"] == item.original_sha256
    assert entry.detail["licence"] == "permission" and entry.detail["faces_detected"] == 0


@pytest.mark.parametrize(
    ("provenance", "field"),
    [
        ({"source": " "}, "source"),
        ({"photographer": ""}, "photographer"),
        ({"licence": "stolen"}, "licence"),
        ({"licence": Licence.PERMISSION}, "permission_note"),
        ({"licence": Licence.LICENSED}, "permission_note"),
    ],
)
def test_it_requires_source_photographer_and_permission(upload, media_root, provenance, field):
    with pytest.raises(ValidationError) as error:
        upload(photos.jpeg_with_everything(), **provenance)

    assert field in error.value.message_dict
    assert not MediaItem.objects.exists() and stored_files(media_root) == []


def test_it_lets_only_staff_upload(upload, cast, media_root):
    for person in (cast.volunteer, cast.governor):
        with pytest.raises(PermissionDenied):
            upload(photos.jpeg_with_everything(), by=person)
    assert stored_files(media_root) == []


# Refusals: a clear message and nothing stored


def refused(upload, media_root, data: bytes, **kwargs) -> str:
    with pytest.raises(ValidationError) as error:
        upload(data, **kwargs)
    assert not MediaItem.objects.exists() and not Face.objects.exists()
    assert not AuditEntry.objects.filter(action="media.uploaded").exists()
    assert stored_files(media_root) == []
    return " ".join(error.value.message_dict["file"])


def test_it_refuses_a_decompression_bomb_from_its_header(upload, media_root):
    bomb = photos.png_bomb(100_000, 100_000)
    assert len(bomb) < 200

    message = refused(upload, media_root, bomb, name="tiny.png")

    assert message.startswith("This image is too large to process safely (10,000 megapixels")


@pytest.mark.parametrize("size", [(120, 100), (300, 300)])  # over the limit (Pillow warns); over twice it (error)
def test_it_refuses_images_over_the_pixel_limit(upload, media_root, monkeypatch, size):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)

    message = refused(upload, media_root, photos.jpeg_with_everything(photos.scene(size)))

    assert "too large to process safely" in message and "megapixels" in message


def test_it_refuses_a_truncated_photo(upload, media_root):
    whole = photos.jpeg_with_everything(Image.effect_noise((800, 600), 60).convert("RGB"))

    message = refused(upload, media_root, whole[: len(whole) // 2])

    assert "damaged or incomplete" in message


def test_it_refuses_a_truncated_photo_even_after_weasyprint_loosened_pillow(upload, media_root, monkeypatch):
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # what importing WeasyPrint does
    whole = photos.jpeg_with_everything(Image.effect_noise((800, 600), 60).convert("RGB"))

    assert "damaged or incomplete" in refused(upload, media_root, whole[: len(whole) // 2])


def test_it_refuses_corrupt_data_behind_a_photo_signature(upload, media_root):
    message = refused(upload, media_root, b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 50, name="photo.png")

    assert "damaged or incomplete" in message


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7 not a photo",
        b"GIF89a" + b"\x00" * 100,
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf",
    ],
)
def test_it_judges_the_type_by_content_not_by_name(upload, media_root, data):
    message = refused(upload, media_root, data, name="photo.jpg")

    assert message.startswith("This is not a JPEG, PNG, HEIC/HEIF or WebP photo")


def test_it_refuses_a_huge_file_before_reading_it(upload, media_root):
    huge = photos.jpeg_with_everything() + b"\x00" * (actions.MAX_UPLOAD_BYTES)

    message = refused(upload, media_root, huge)

    assert message.startswith("The file is 25 MB; photos up to 25 MB can be uploaded")


def test_it_refuses_an_empty_file(upload, media_root):
    assert refused(upload, media_root, b"") == "The file is empty."


def test_it_decodes_a_large_jpeg_at_a_reduced_scale_quickly(upload):
    import time

    big = photos.jpeg_with_everything(photos.scene((6000, 4000)))
    started = time.perf_counter()
    item = upload(big)
    elapsed = time.perf_counter() - started

    assert (item.width, item.height) == (2048, 1365)
    assert elapsed < 10  # 24 megapixels: decoded at half scale, then scanned for faces
