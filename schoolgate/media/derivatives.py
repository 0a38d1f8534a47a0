"""The files made from an original: the publishable photo (pixels only, faces blurred) and its thumbnail."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageFilter

# Longest side of the publishable photo: large enough for every network, small enough to upload quickly.
MAX_SIDE = 2048
THUMBNAIL_SIDE = 480
# Bluesky refuses images over 1,000,000 bytes; a margin below it leaves room for any network that counts
# differently. Quality steps down from QUALITY until the file fits, then the photo is scaled down.
MAX_BYTES = 950_000
QUALITY = 85
MIN_QUALITY = 60
# Blurring: the face box is widened by this fraction on each side (hair, ears, the edge of a detector box),
# pixelated to at most this many blocks across, then Gaussian-blurred, so the face cannot be recovered.
BLUR_MARGIN = 0.2
BLUR_BLOCKS = 8

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@dataclass(frozen=True)
class Rendered:
    data: bytes
    mime_type: str
    width: int
    height: int


def _has_transparency(image: Image.Image) -> bool:
    if image.mode in {"RGBA", "LA", "PA", "RGBa", "La"} or "transparency" in image.info:
        alpha = image.convert("RGBA").getchannel("A")
        return alpha.getextrema()[0] < 255
    return False


def _resizable(image: Image.Image, mode: str) -> Image.Image:
    """The image in a mode Pillow resizes smoothly (palette and 1-bit images would be resized pixel by pixel)."""
    if image.mode in {"I;16", "I;16B", "I;16L", "I;16N", "I", "F"}:
        return image.point(lambda value: value * (1 / 256)).convert("L")  # 16-bit greyscale PNG
    if image.mode in {"RGB", "RGBA", "CMYK", "L"}:
        return image
    return image.convert(mode)


def _to_srgb(image: Image.Image, mode: str) -> Image.Image:
    """Pixels in sRGB in `mode` (RGB or RGBA): the embedded colour profile is applied, then left behind."""
    icc = image.info.get("icc_profile")
    if icc and image.mode in {"RGB", "RGBA", "CMYK", "L"}:
        try:
            # Display P3 (most phone photos) and Adobe RGB look washed out when the profile is just dropped.
            converted = ImageCms.profileToProfile(
                image,
                ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                _SRGB,
                outputMode="RGBA" if image.mode == "RGBA" else "RGB",
            )
            if converted is not None:
                image = converted
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # an unusable profile: the pixels are used as they are
    return image if image.mode == mode else image.convert(mode)


def _pixels_only(image: Image.Image) -> Image.Image:
    """A new image holding the pixels and nothing else: no EXIF, XMP, ICC, comments or text chunks to carry over."""
    return Image.frombytes(image.mode, image.size, image.tobytes())


def _blur(image: Image.Image, boxes: Iterable[tuple[float, float, float, float]]) -> Image.Image:
    """Each box (fractions of the image) pixelated then blurred, with a margin; not reversible."""
    width, height = image.size
    for left, top, box_width, box_height in boxes:
        margin_x, margin_y = box_width * BLUR_MARGIN, box_height * BLUR_MARGIN
        x1 = max(0, int((left - margin_x) * width))
        y1 = max(0, int((top - margin_y) * height))
        x2 = min(width, int(round((left + box_width + margin_x) * width)))
        y2 = min(height, int(round((top + box_height + margin_y) * height)))
        if x2 - x1 < 2 or y2 - y1 < 2:
            continue
        region = image.crop((x1, y1, x2, y2))
        block = max(2, max(x2 - x1, y2 - y1) // BLUR_BLOCKS)
        small = region.resize((max(1, (x2 - x1) // block), max(1, (y2 - y1) // block)), Image.Resampling.BOX)
        region = small.resize(region.size, Image.Resampling.NEAREST)
        region = region.filter(ImageFilter.GaussianBlur(radius=max(2, block / 2)))
        image.paste(region, (x1, y1))
    return image


def _encode(image: Image.Image, *, fmt: str, quality: int) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.save(buffer, format="JPEG", quality=quality, optimize=True, progressive=True, subsampling="4:2:0")
    else:
        image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _fit(image: Image.Image, side: int) -> Image.Image:
    width, height = image.size
    if max(width, height) <= side:
        return image
    ratio = side / max(width, height)
    size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def render_publishable(shown: Image.Image, *, blurred: Iterable[tuple[float, float, float, float]] = ()) -> Rendered:
    """The publishable photo from the decoded original (already turned the way people see it).

    1. Scale to MAX_SIDE on the longest side; colours converted to sRGB.
    2. Blur every face box given (fractions of the image, so they fit any scale).
    3. Copy the pixels into a fresh image, so no metadata of the original can be written out.
    4. JPEG (PNG only when the photo has transparency), quality stepped down and then the size, until it is
       at most MAX_BYTES.
    """
    transparent = _has_transparency(shown)
    mode, fmt, mime = ("RGBA", "PNG", "image/png") if transparent else ("RGB", "JPEG", "image/jpeg")
    image = _to_srgb(_fit(_resizable(shown, mode), MAX_SIDE), mode)
    image = _pixels_only(_blur(image.copy(), blurred))
    while True:
        qualities = range(QUALITY, MIN_QUALITY - 1, -5) if fmt == "JPEG" else [0]
        for quality in qualities:
            data = _encode(image, fmt=fmt, quality=quality)
            if len(data) <= MAX_BYTES:
                return Rendered(data=data, mime_type=mime, width=image.width, height=image.height)
        # Still too large: scale by the square root of the overshoot (bytes follow the pixel count), a bit more.
        ratio = min(0.9, (MAX_BYTES / len(data)) ** 0.5 * 0.95)
        image = _pixels_only(
            image.resize(
                (max(1, int(image.width * ratio)), max(1, int(image.height * ratio))), Image.Resampling.LANCZOS
            )
        )


def render_thumbnail(publishable: bytes) -> bytes:
    """A small JPEG of the publishable photo (blurs included) for the library's grid."""
    with Image.open(io.BytesIO(publishable)) as opened:
        opened.draft("RGB", (THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        image = opened.convert("RGBA") if opened.mode in {"RGBA", "LA", "P"} else opened.convert("RGB")
    if image.mode == "RGBA":
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        image = background
    image = _pixels_only(_fit(image, THUMBNAIL_SIDE))
    return _encode(image, fmt="JPEG", quality=80)
