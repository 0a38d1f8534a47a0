"""Read-only admin for the media library: tagging and deleting go through the library (delete_media removes files)."""

from django.contrib import admin

from schoolgate.audit.admin import ReadOnlyAdmin, ReadOnlyInline
from schoolgate.media.models import Face, MediaItem


class FaceInline(ReadOnlyInline):
    model = Face


@admin.register(MediaItem)
class MediaItemAdmin(ReadOnlyAdmin):
    list_display = ["pk", "school", "original_name", "status", "uploaded_by", "uploaded_at"]
    list_filter = ["status", "licence"]
    inlines = [FaceInline]
