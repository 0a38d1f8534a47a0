"""Admin for the media library: read-only, because deleting a photo must remove its files (delete_media)."""

from django.contrib import admin

from schoolgate.media.models import Face, MediaItem


class FaceInline(admin.TabularInline):
    model = Face
    extra = 0
    can_delete = False
    readonly_fields = [field.name for field in Face._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(MediaItem)
class MediaItemAdmin(admin.ModelAdmin):
    list_display = ["pk", "school", "original_name", "status", "uploaded_by", "uploaded_at"]
    list_filter = ["status", "licence"]
    readonly_fields = [field.name for field in MediaItem._meta.fields]
    inlines = [FaceInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting the row here would leave the files in storage; the library's delete removes both.
        return False
