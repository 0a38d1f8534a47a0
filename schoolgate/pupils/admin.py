"""Admin for pupil and carer records."""

from django.contrib import admin

from schoolgate.pupils.models import Carer, CarerLink, ImportMapping, ImportRun, Pupil


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
