"""Shared helpers for the concern tests: a concern reported through the action, small evidence files."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from schoolgate.concerns import actions
from schoolgate.concerns.models import Category, WhereKind

SECRET = "Jamie-said-the-coach-messaged-him-at-night-7Q"


def png(name: str = "screenshot.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def report(cast, *, by=None, text: str = SECRET, category: str = Category.DISCLOSURE, **kwargs):
    fields = {
        "category": category,
        "text": text,
        "happened_on": timezone.localdate(),
        "where_kind": WhereKind.IN_PERSON,
    }
    fields.update(kwargs)
    return actions.report_concern(cast.school, by=by or cast.alice, **fields)
