"""Admin for logins, for the people who host Schoolgate: read-only, with three audited actions.

Nobody's email, name, password, staff or superuser flag changes here: people are added on a school's Members
page, set their own password with "Forgotten your password", and superusers are made with
`manage.py createsuperuser`. What hosting people do need is here as actions, each written to the audit log:
deactivate a login (a leaver, a lost laptop), reactivate it, and remove a second factor when the person has lost
their authenticator and recovery codes (they set up a new one at their next login).
"""

from allauth.account.admin import EmailAddressAdmin
from allauth.account.models import EmailAddress
from allauth.mfa.admin import AuthenticatorAdmin
from allauth.mfa.models import Authenticator
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.db import transaction

from schoolgate.accounts.models import User
from schoolgate.audit import actions as audit
from schoolgate.audit.admin import ReadOnlyAdmin


@admin.register(User)
class UserAdmin(ReadOnlyAdmin, BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_superuser", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "full_name"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    actions = ["deactivate", "reactivate", "remove_second_factor"]

    def has_audited_action_permission(self, request):
        return request.user.is_superuser

    @admin.action(description="Deactivate the selected logins (they are logged out)", permissions=["audited_action"])
    def deactivate(self, request, queryset):
        self._set_active(request, queryset.exclude(pk=request.user.pk), active=False)
        if queryset.filter(pk=request.user.pk).exists():
            self.message_user(request, "You cannot deactivate your own login.", messages.WARNING)

    @admin.action(description="Reactivate the selected logins", permissions=["audited_action"])
    def reactivate(self, request, queryset):
        self._set_active(request, queryset, active=True)

    @transaction.atomic
    def _set_active(self, request, queryset, *, active: bool) -> None:
        # The backends refuse an inactive user on their next request, so deactivating ends every session too.
        changed = list(queryset.select_for_update().exclude(is_active=active))
        for user in changed:
            user.is_active = active
            user.save(update_fields=["is_active"])
            audit.log(
                "accounts.user.reactivated" if active else "accounts.user.deactivated",
                actor=request.user,
                target=user,
                detail={"user": user.email},
            )
        verb = "Reactivated" if active else "Deactivated"
        self.message_user(request, f"{verb} {len(changed)} login(s).", messages.SUCCESS)

    @admin.action(
        description="Remove the second factor of the selected logins (they set up a new one)",
        permissions=["audited_action"],
    )
    @transaction.atomic
    def remove_second_factor(self, request, queryset):
        users = list(queryset.filter(authenticator__isnull=False).distinct())
        for user in users:
            Authenticator.objects.filter(user=user).delete()
            audit.log("accounts.second_factor.removed", actor=request.user, target=user, detail={"user": user.email})
        self.message_user(request, f"Removed the second factor of {len(users)} login(s).", messages.SUCCESS)


# Django's groups and permissions are not used (roles live on school memberships): not offered at all.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


# allauth's own registrations would let an address or an authenticator be changed without an audit entry.
class ReadOnlyEmailAddressAdmin(ReadOnlyAdmin, EmailAddressAdmin):
    actions = []  # allauth's "mark as verified" changes rows without an audit entry


class ReadOnlyAuthenticatorAdmin(ReadOnlyAdmin, AuthenticatorAdmin):
    exclude = ["data"]  # the (encrypted) secret and recovery codes are nobody's business here


for model, model_admin in [(EmailAddress, ReadOnlyEmailAddressAdmin), (Authenticator, ReadOnlyAuthenticatorAdmin)]:
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
