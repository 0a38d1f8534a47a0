"""Read-only admin for schools, trusts, memberships and closures, for the people who host Schoolgate.

A school's details change on its details page, its members on its Members page and its closures on its
Closures page, each permission-checked and audited; schools are added with the trust's "Add a school" or
`manage.py create_school`, and trust administrators (who hold rights at every school of the trust) are
appointed with `manage.py trust_admins`, which is audited too.
"""

from django.contrib import admin

from schoolgate.audit.admin import ReadOnlyAdmin, ReadOnlyInline
from schoolgate.schools.models import Closure, Membership, School, Trust


class MembershipInline(ReadOnlyInline):
    """Shown, not edited: roles change on the school's Members page, which checks permission and audits."""

    model = Membership
    verbose_name_plural = "memberships (change them on the school's Members page, where every change is audited)"


@admin.register(School)
class SchoolAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "trust"]
    inlines = [MembershipInline]


@admin.register(Trust)
class TrustAdmin(ReadOnlyAdmin):
    list_display = ["name"]
    # A trust administrator holds rights at every school of the trust: appointed with `manage.py trust_admins`.
    readonly_fields = ["administrators"]
    fields = ["name", "administrators"]

    @admin.display(description="trust administrators")
    def administrators(self, trust):
        return ", ".join(f"{user.full_name} <{user.email}>" for user in trust.admins.all()) or "—"


@admin.register(Closure)
class ClosureAdmin(ReadOnlyAdmin):
    list_display = ["school", "label", "starts_on", "ends_on"]
    list_filter = ["school"]
