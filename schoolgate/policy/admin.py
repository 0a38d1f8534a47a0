"""Read-mostly admin for policy documents; changes go through the policy pages so they are audited."""

from django.contrib import admin

from schoolgate.policy.models import Document, DocumentVersion


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "school", "kind"]
    list_filter = ["school", "kind"]


@admin.register(DocumentVersion)
class DocumentVersionAdmin(admin.ModelAdmin):
    list_display = ["document", "number", "status", "reviewed_on", "next_review_on"]
    list_filter = ["status", "document__school"]
    readonly_fields = [f.name for f in DocumentVersion._meta.fields]

    def has_add_permission(self, request):
        return False
