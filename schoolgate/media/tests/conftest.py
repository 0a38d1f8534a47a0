"""Fixtures for the media library: an empty storage folder per test, and uploading through the action."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from schoolgate.media import actions
from schoolgate.media.models import Licence


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Each test writes photos under its own folder, so "nothing stored" and "every file gone" can be checked."""
    root = tmp_path / "media-root"
    root.mkdir()
    settings.MEDIA_ROOT = root
    return root


def stored_files(root) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


@pytest.fixture
def upload(cast):
    def upload(data: bytes, *, name: str = "photo.jpg", by=None, **provenance):
        values = {
            "source": "Taken by staff on a school device",
            "photographer": "Alice Staff",
            "licence": Licence.SCHOOL_OWNED,
            **provenance,
        }
        return actions.upload_media(
            cast.school, by=by or cast.alice, file=SimpleUploadedFile(name, data, "application/octet-stream"), **values
        )

    return upload
