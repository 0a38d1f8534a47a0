"""Admin for pupil and carer records, imports, and the consent register: all read-only.

Pupils, carers and their links change through the CSV import and the pupil pages; consent, "do not photograph"
and family links through the consent actions, which check permission, audit and open take-downs.
"""

from django.contrib import admin

from schoolgate.audit.admin import ReadOnlyAdmin, ReadOnlyInline
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


class CarerLinkInline(ReadOnlyInline):
    model = CarerLink


@admin.register(Pupil)
class PupilAdmin(ReadOnlyAdmin):
    list_display = ["upn", "legal_surname", "legal_forename", "year_group", "registration_group", "school"]
    list_filter = ["school", "year_group"]
    search_fields = ["upn", "legal_surname", "legal_forename", "preferred_forename"]
    inlines = [CarerLinkInline]


@admin.register(Carer)
class CarerAdmin(ReadOnlyAdmin):
    list_display = ["full_name", "email", "phone", "school"]
    list_filter = ["school"]
    search_fields = ["full_name", "email"]


@admin.register(ImportMapping)
class ImportMappingAdmin(ReadOnlyAdmin):
    list_display = ["school", "kind", "updated_at", "updated_by"]
    list_filter = ["kind"]


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin):
    list_display = ["filename", "kind", "school", "status", "rows", "created_at", "applied_at"]
    list_filter = ["kind", "status"]
    # The uploaded file and its preview, warnings and problems (pupils' names, dates of birth) are not shown.
    exclude = ["upload", "preview", "warnings", "problems"]


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
