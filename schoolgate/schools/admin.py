"""Admin for schools, trusts and memberships, for the people who host Schoolgate."""

from django.contrib import admin

from schoolgate.schools.models import Closure, Membership, School, Trust


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "trust"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Trust)
class TrustAdmin(admin.ModelAdmin):
    list_display = ["name"]
    filter_horizontal = ["admins"]


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    list_display = ["school", "label", "starts_on", "ends_on"]
    list_filter = ["school"]
