"""Media jobs: scan a photo for faces when the detector could not run at upload time; finish a deletion's files."""

from __future__ import annotations

import contextlib

from huey.contrib.djhuey import db_task

from schoolgate.media.models import MediaItem


@db_task(retries=3, retry_delay=60)
def scan_faces(media_item_id: int) -> int:
    """Faces found in the photo; a photo already scanned (or deleted) is left alone, so running twice is safe."""
    from schoolgate.media.actions import scan_item

    item = MediaItem.objects.filter(pk=media_item_id, faces_scanned_at=None).first()
    if item is None:
        return 0
    return scan_item(item)


@db_task(retries=24, retry_delay=300)
def remove_media_files(folder: str, names: list[str]) -> int:
    """Delete the files storage kept when a photo was deleted (the row is already gone); retried for two hours.
    Deleting a file that is already gone does nothing, so running twice is safe."""
    from schoolgate.media.actions import MediaDeleteError

    if MediaItem.objects.filter(folder=folder).exists():
        return 0  # never touch the files of a photo that exists
    storage = MediaItem._meta.get_field("original").storage
    for name in names:
        storage.delete(name)
    remaining = [name for name in names if storage.exists(name)]
    if remaining:
        raise MediaDeleteError(f"Storage still holds {len(remaining)} file(s) of a deleted photo in {folder}.")
    with contextlib.suppress(OSError):  # a folder not yet empty on local disk (nothing to do on S3)
        storage.delete(folder)
    return len(names)
