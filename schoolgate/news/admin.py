"""Admin registrations: subscribers are searchable by address so operators can answer data requests."""

from django.contrib import admin

from schoolgate.news.models import DigestDelivery, DigestIssue, DigestSubscriber


@admin.register(DigestSubscriber)
class DigestSubscriberAdmin(admin.ModelAdmin):
    list_display = ["pk", "school", "status", "created_at", "confirmed_at", "unsubscribed_at"]
    list_filter = ["status", "school"]
    search_fields = ["email"]
    readonly_fields = ["token", "created_at", "confirmation_requested_at", "confirmed_at", "unsubscribed_at"]


@admin.register(DigestIssue)
class DigestIssueAdmin(admin.ModelAdmin):
    list_display = ["school", "week_start", "covers_from", "covers_until", "created_at"]
    list_filter = ["school"]


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(admin.ModelAdmin):
    list_display = ["issue", "subscriber", "claimed_at", "sent_at", "attempts"]
    readonly_fields = ["issue", "subscriber"]
