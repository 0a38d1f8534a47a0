"""Media jobs: scan a photo for faces when the detector could not run at upload time."""

from __future__ import annotations

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
