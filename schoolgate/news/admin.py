"""Read-only admin for the digest. Subscribers are searchable by address, so operators can answer a family's data
request; "Unsubscribe" and "Forget now" do it through the audited actions."""

from django.contrib import admin, messages

from schoolgate.audit.admin import ReadOnlyAdmin
from schoolgate.news import actions
from schoolgate.news.models import DigestDelivery, DigestIssue, DigestSubscriber


@admin.register(DigestSubscriber)
class DigestSubscriberAdmin(ReadOnlyAdmin):
    list_display = ["pk", "school", "status", "created_at", "confirmed_at", "unsubscribed_at"]
    list_filter = ["status", "school"]
    search_fields = ["email"]
    actions = ["unsubscribe", "forget"]

    def has_audited_action_permission(self, request):
        return request.user.is_superuser

    @admin.action(description="Unsubscribe the selected addresses", permissions=["audited_action"])
    def unsubscribe(self, request, queryset):
        stopped = sum(actions.unsubscribe(subscriber) for subscriber in queryset.select_related("school"))
        self.message_user(request, f"Unsubscribed {stopped} address(es).", messages.SUCCESS)

    @admin.action(description="Forget the selected addresses now (delete them)", permissions=["audited_action"])
    def forget(self, request, queryset):
        forgotten = actions.forget_addresses(queryset, by=request.user)
        self.message_user(request, f"Deleted {forgotten} address(es).", messages.SUCCESS)


@admin.register(DigestIssue)
class DigestIssueAdmin(ReadOnlyAdmin):
    list_display = ["school", "week_start", "covers_from", "covers_until", "created_at"]
    list_filter = ["school"]


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["issue", "subscriber", "claimed_at", "sent_at", "attempts"]
