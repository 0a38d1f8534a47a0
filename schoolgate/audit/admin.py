"""Read-only admin: the audit log itself, and the base every other app's admin uses.

The Django admin is for the people who host Schoolgate to look. Every change goes through an app's audited
actions (its pages, or an admin action that calls them), never through a bare form save.
"""

from __future__ import annotations

from django.contrib import admin

from schoolgate.audit.models import AuditEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never added, changed or deleted here: those happen through audited actions."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["seq", "at", "action", "actor_label", "object_repr", "restricted"]
    list_filter = ["action", "restricted"]
    search_fields = ["action", "actor_label", "object_repr"]
