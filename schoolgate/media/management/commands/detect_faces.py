"""`manage.py detect_faces PATH...`: one JSON line per image with its face boxes, in the orientation it is shown."""

from __future__ import annotations

import json
import time

from django.core.management.base import BaseCommand, CommandError
from PIL import UnidentifiedImageError

from schoolgate.media.faces import detect_faces_in_file, detector


class Command(BaseCommand):
    help = (
        'Writes {"path", "width", "height", "faces": [{"left", "top", "width", "height", "score"}], "detector", "ms"} '
        'per image; an unreadable file gives {"path", "error"} and the command exits non-zero after the last image.'
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="Image files (JPEG, PNG, WebP, ...).")

    def handle(self, *args, paths: list[str], **options):
        failures = 0
        for path in paths:
            result = detect_file(path)
            failures += "error" in result
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        if failures:
            raise CommandError(f"{failures} of {len(paths)} images could not be read.", returncode=1)


def detect_file(path: str) -> dict:
    """One output object for one file; an error object rather than an exception for a bad file."""
    started = time.perf_counter()
    try:
        # Boxes refer to the picture as people see it (EXIF rotation applied), in full-size pixels.
        using = detector()
        found = detect_faces_in_file(path, using=using)
    except FileNotFoundError:
        return {"path": path, "error": "No such file."}
    except UnidentifiedImageError:
        return {"path": path, "error": "Not an image this server can read."}
    except (OSError, SyntaxError, ValueError) as error:  # truncated or corrupt data inside a known format
        return {"path": path, "error": f"The image could not be decoded: {error}"}
    return {
        "path": path,
        "width": found.width,
        "height": found.height,
        "faces": [face.as_dict() for face in found.faces],
        "detector": using.name,
        "ms": round((time.perf_counter() - started) * 1000, 1),
    }
