"""Opening photos strictly: a truncated or corrupt file is refused, never half-decoded."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from PIL import Image, ImageFile, ImageOps

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
