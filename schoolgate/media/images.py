"""Opening photos strictly: a truncated or corrupt file is refused, never half-decoded."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

from PIL import Image, ImageFile, ImageOps

logger = logging.getLogger(__name__)
_strict = threading.Lock()


@contextlib.contextmanager
def truncated_images_refused() -> Iterator[None]:
    # WeasyPrint (policy PDFs) sets Pillow's process-wide LOAD_TRUNCATED_IMAGES when imported; a half-uploaded
    # photo must still fail here rather than be decoded with grey where the missing data was.
    with _strict:
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


def open_as_shown(source) -> Image.Image:
    """The whole image decoded, turned the way people see it (EXIF orientation applied)."""
    with truncated_images_refused(), Image.open(source) as opened:
        image = ImageOps.exif_transpose(opened)
        image.load()
    return image


# --- Uploads: what a photo really is, and decoding it with every guard on ---------------------------------------

# Pillow plugin names to try for each type we accept; MPO is how Pillow opens phone JPEGs with a depth map.
PILLOW_FORMATS = {"jpeg": ["JPEG"], "png": ["PNG"], "webp": ["WEBP"], "heif": ["HEIF"]}
OPENED_AS = {"jpeg": {"JPEG", "MPO"}, "png": {"PNG"}, "webp": {"WEBP"}, "heif": {"HEIF"}}
EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "heif": "heic"}
# HEIF brands for still images coded with HEVC (the photos iPhones and many Androids take); "mif1"/"msf1" are
# the generic HEIF brands, accepted unless the file says it is AVIF, which pillow-heif does not decode.
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
GENERIC_HEIF_BRANDS = {b"mif1", b"msf1"}
AVIF_BRANDS = {b"avif", b"avis"}


class ImageRefused(ValueError):
    """An upload that will not be processed, with a message to show the person who uploaded it."""


def sniff_format(head: bytes) -> str | None:
    """The photo type from the file's first bytes (never its name): "jpeg", "png", "webp", "heif" or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and len(head) >= 16:
        box_size = int.from_bytes(head[:4], "big")
        major = head[8:12]
        compatible = {head[i : i + 4] for i in range(16, min(box_size, len(head)) - 3, 4)}
        if major in HEIF_BRANDS:
            return "heif"
        if major in GENERIC_HEIF_BRANDS and not compatible & AVIF_BRANDS:
            return "heif"
    return None


def _register_heif() -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()


def open_upload(data: bytes, *, kind: str, draft_side: int | None = None) -> Image.Image:
    """The photo decoded strictly and turned the way people see it, or ImageRefused saying why.

    1. Only the Pillow plugin for the sniffed type is tried, so a file cannot pose as another format.
    2. The pixel count is checked from the header, before any decoding: a decompression bomb (Pillow's
       DecompressionBombError, its warning, or our own check of Image.MAX_IMAGE_PIXELS) is refused.
    3. A JPEG is decoded at the smallest DCT scale still at least `draft_side` on its longest side (fast).
    4. Truncated or corrupt data fails (truncated_images_refused), never decodes half grey.
    """
    import io
    import warnings

    if kind == "heif":
        _register_heif()
    limit = Image.MAX_IMAGE_PIXELS
    try:
        with truncated_images_refused(), warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=PILLOW_FORMATS[kind]) as opened:
                if opened.format not in OPENED_AS[kind]:
                    raise ImageRefused(NOT_A_PHOTO)
                width, height = opened.size
                if limit and width * height > limit:
                    raise ImageRefused(too_large_message(width * height, limit))
                if draft_side and opened.format in {"JPEG", "MPO"} and max(width, height) > draft_side:
                    ratio = draft_side / max(width, height)
                    opened.draft(None, (max(1, int(width * ratio)), max(1, int(height * ratio))))
                image = _turned(opened)
                image.load()
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRefused(too_large_message(_pixels_in(str(error)), limit)) from error
    except Image.UnidentifiedImageError as error:
        raise ImageRefused(_DAMAGED) from error
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as error:  # corrupt data in a known format
        raise ImageRefused(_DAMAGED) from error
    except Exception as error:
        # The decoders meet untrusted bytes: damaged data can surface as any error (TypeError, IndexError,
        # struct.error…). Whatever it is, the file cannot be read; the person is told so, never shown a 500.
        logger.warning("A %s upload could not be decoded: %s", kind, type(error).__name__)
        raise ImageRefused(_DAMAGED) from error
    return image


def _turned(opened: Image.Image) -> Image.Image:
    """The image turned as its EXIF orientation says; as stored when the EXIF block itself is damaged (the
    pixels may be sound, and a wrong orientation is visible to the person tagging it, a crash is not)."""
    try:
        return ImageOps.exif_transpose(opened)
    except Exception:  # Pillow's EXIF parser raises TypeError, KeyError, struct.error… on broken tags
        logger.warning("Ignored a damaged EXIF block while turning an upload")
        return opened.copy()


NOT_A_PHOTO = "This is not a JPEG, PNG, HEIC/HEIF or WebP photo (the file's contents were checked, not its name)."
_DAMAGED = (
    "The photo could not be read: the file is damaged or incomplete. Copy or export it from the camera or phone "
    "again and upload the new copy."
)


def too_large_message(pixels: int | None, limit: int | None) -> str:
    size = f"{pixels / 1e6:,.0f} megapixels" if pixels else "too many pixels"
    allowed = f"; photos up to {limit / 1e6:,.0f} megapixels can be uploaded" if limit else ""
    return f"This image is too large to process safely ({size}{allowed})."


def _pixels_in(message: str) -> int | None:
    import re

    found = re.search(r"\((\d+) pixels\)", message)
    return int(found.group(1)) if found else None
