"""Admin for schools, trusts and memberships, for the people who host Schoolgate."""

from django.contrib import admin

from schoolgate.schools.models import Closure, Membership, School, Trust


class MembershipInline(admin.TabularInline):
    """Shown, not edited: roles change on the school's Members page, which checks permission and audits."""

    model = Membership
    extra = 0
    verbose_name_plural = "memberships (change them on the school's Members page, where every change is audited)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "trust"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def has_add_permission(self, request):
        # A school starts with its headteacher, first policy drafts and an audit entry: the trust's "Add a
        # school" page or `manage.py create_school` make all of those; a bare row here would make none.
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting would cascade through posts, consent and media rows but leave the photo files in storage,
        # and the audit log must keep naming the school. There is no school off-boarding yet.
        return False


@admin.register(Trust)
class TrustAdmin(admin.ModelAdmin):
    list_display = ["name"]
    filter_horizontal = ["admins"]


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    list_display = ["school", "label", "starts_on", "ends_on"]
    list_filter = ["school"]
