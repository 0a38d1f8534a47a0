"""Read-only admin view of the audit log."""

from django.contrib import admin

from schoolgate.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["seq", "at", "action", "actor_label", "object_repr", "restricted"]
    list_filter = ["action", "restricted"]
    search_fields = ["action", "actor_label", "object_repr"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
