"""Admin for pupil and carer records."""

from django.contrib import admin

from schoolgate.pupils.models import Carer, CarerLink, Pupil


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
