"""Admin for pupil and carer records, and the consent register (read-only)."""

from django.contrib import admin

from schoolgate.pupils.models import (
    Carer,
    CarerLink,
    ConsentRecord,
    DoNotPhotograph,
    FamilyLink,
    ImportMapping,
    ImportRun,
    Pupil,
)


class CarerLinkInline(admin.TabularInline):
    model = CarerLink
    extra = 0


@admin.register(Pupil)
class PupilAdmin(admin.ModelAdmin):
    list_display = ["upn", "legal_surname", "legal_forename", "year_group", "registration_group", "school"]
    list_filter = ["school", "year_group"]
    search_fields = ["upn", "legal_surname", "legal_forename", "preferred_forename"]
    inlines = [CarerLinkInline]


@admin.register(Carer)
class CarerAdmin(admin.ModelAdmin):
    list_display = ["full_name", "email", "phone", "school"]
    list_filter = ["school"]
    search_fields = ["full_name", "email"]


@admin.register(ImportMapping)
class ImportMappingAdmin(admin.ModelAdmin):
    list_display = ["school", "kind", "updated_at", "updated_by"]
    list_filter = ["kind"]


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["filename", "kind", "school", "status", "rows", "created_at", "applied_at"]
    list_filter = ["kind", "status"]
    # Runs are a record of what was imported; they change only through the import actions.
    readonly_fields = [field.name for field in ImportRun._meta.fields]
    exclude = ["content"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """The consent register changes only through the consent actions, which check, audit and call the hooks."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = ["pupil", "use", "decision", "channel", "decided_on", "expires_on", "recorded_at"]
    list_filter = ["use", "decision", "channel"]
    search_fields = ["pupil__upn", "pupil__legal_surname"]


@admin.register(DoNotPhotograph)
class DoNotPhotographAdmin(ReadOnlyAdmin):
    list_display = ["pupil", "requested_on", "lifted_on"]


@admin.register(FamilyLink)
class FamilyLinkAdmin(ReadOnlyAdmin):
    list_display = ["carer", "school", "created_at", "expires_at", "used_at", "revoked_at"]
    exclude = ["token_hash"]
