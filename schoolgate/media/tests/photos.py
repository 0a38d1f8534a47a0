"""Test photos made in code, each carrying the metadata a phone or camera writes (location, camera, notes)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pillow_heif
from PIL import Image, ImageCms, ImageDraw
from PIL.PngImagePlugin import PngInfo

FACES = Path(__file__).resolve().parents[3] / "bench" / "data" / "faces"
ASTRONAUT = FACES / "astronaut.png"

SECRETS = [b"Canon", b"EOS 5D", b"MAKERNOTE-SECRET", b"xmpmeta", b"Rainham", b"Photoshop", b"secret comment"]
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:City="Rainham"/>'
    b"</rdf:RDF></x:xmpmeta>"
)


def scene(size=(640, 480), *, mode="RGB") -> Image.Image:
    """A picture with detail (so JPEG sizes are realistic) and no faces: gradients and shapes."""
    width, height = size
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    for i in range(0, width, 40):
        draw.rectangle((i, height // 3, i + 20, height // 3 + 60), fill=(200, 40 + i % 200, 30))
    draw.ellipse((width // 2, height // 2, width // 2 + 100, height // 2 + 80), fill=(20, 90, 200))
    return image.convert(mode)


def exif_bytes(*, orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0110] = "EOS 5D"  # Model
    exif[0x0112] = orientation
    exif[0x0131] = "Rainham Photo Tool"  # Software
    exif[0x8769] = {0x927C: b"MAKERNOTE-SECRET", 0x9003: "2026:05:01 10:00:00"}  # maker note, date taken
    exif[0x8825] = {1: "N", 2: (51.0, 31.0, 12.5), 3: "E", 4: (0.0, 11.0, 2.0)}  # GPS: latitude, longitude
    return exif.tobytes()


def _srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _with_iptc(jpeg: bytes) -> bytes:
    """An APP13 Photoshop/IPTC segment (city: Rainham) inserted after SOI, as photo desks write it."""
    city = b"Rainham"
    iptc = b"\x1c\x02\x5a" + struct.pack(">H", len(city)) + city
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(iptc)) + iptc
    payload = b"Photoshop 3.0\x00" + resource
    segment = b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + segment + jpeg[2:]


def jpeg_with_everything(image: Image.Image | None = None, *, orientation: int = 1) -> bytes:
    buffer = io.BytesIO()
    (image or scene()).save(
        buffer,
        format="JPEG",
        quality=92,
        exif=exif_bytes(orientation=orientation),
        xmp=XMP,
        icc_profile=_srgb_icc(),
        comment=b"secret comment",
    )
    return _with_iptc(buffer.getvalue())


def png_with_text(image: Image.Image | None = None) -> bytes:
    info = PngInfo()
    info.add_text("Comment", "secret comment")
    info.add_text("Location", "Rainham", zip=True)  # zTXt
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())  # iTXt
    buffer = io.BytesIO()
    (image or scene()).save(buffer, format="PNG", pnginfo=info, exif=exif_bytes(), icc_profile=_srgb_icc())
    return buffer.getvalue()


def webp_with_exif(image: Image.Image | None = None) -> bytes:
    buffer = io.BytesIO()
    (image or scene()).save(buffer, format="WEBP", quality=90, exif=exif_bytes(), xmp=XMP, icc_profile=_srgb_icc())
    return buffer.getvalue()


def heic_with_exif(image: Image.Image | None = None) -> bytes:
    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    (image or scene()).save(buffer, format="HEIF", quality=90, exif=exif_bytes(), xmp=XMP)
    return buffer.getvalue()


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG whose header claims `width` x `height` pixels, in a few dozen bytes: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload) of every segment before the image data of a JPEG."""
    assert data[:2] == b"\xff\xd8"
    segments, at = [], 2
    while at < len(data):
        assert data[at] == 0xFF, f"not a marker at {at}"
        marker = data[at + 1]
        length = struct.unpack(">H", data[at + 2 : at + 4])[0]
        segments.append((marker, data[at + 4 : at + 2 + length]))
        if marker == 0xDA:  # start of scan: the compressed image follows
            break
        at += 2 + length
    return segments


def png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    kinds, at = [], 8
    while at < len(data):
        length = struct.unpack(">I", data[at : at + 4])[0]
        kinds.append(data[at + 4 : at + 8])
        at += 12 + length
    return kinds


def jpeg_with_comment_and_no_profile(image: Image.Image | None = None) -> bytes:
    """EXIF with GPS, XMP, IPTC and a comment but no colour profile: no colour conversion makes a fresh image, so
    a derivative that merely re-saved the decoded photo would carry the comment (Pillow keeps it by default)."""
    buffer = io.BytesIO()
    (image or scene()).save(
        buffer, format="JPEG", quality=92, exif=exif_bytes(), xmp=XMP, comment=b"secret comment, Rainham"
    )
    return _with_iptc(buffer.getvalue())


def transparent_png_with_identifying_profile() -> bytes:
    """A transparent PNG whose colour-profile chunk holds identifying text and cannot be used as a profile, plus
    text and EXIF chunks: a derivative that merely re-saved the decoded photo would carry the profile chunk (PNG
    saving keeps `icc_profile` by default)."""
    image = scene(mode="RGBA")
    image.putalpha(Image.linear_gradient("L").resize(image.size))
    info = PngInfo()
    info.add_text("Comment", "secret comment")
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    buffer = io.BytesIO()
    image.save(
        buffer, format="PNG", pnginfo=info, exif=exif_bytes(), icc_profile=b"Photoshop profile, Rainham Photo Tool"
    )
    return buffer.getvalue()


def small_faces_png(face: int = 10) -> bytes:
    """Eight astronauts with faces about `face` pixels wide on a 640x480 photo: a crowd at the detector's limit."""
    side = round(512 * face / 105)  # the astronaut's face is ~105 px of her 512-pixel portrait
    portrait = Image.open(ASTRONAUT).convert("RGB").resize((side, side))
    canvas = Image.new("RGB", (640, 480), (90, 110, 140))
    for row in range(2):
        for column in range(4):
            canvas.paste(portrait, (40 + column * (side + 30), 60 + row * (side + 60)))
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return buffer.getvalue()
