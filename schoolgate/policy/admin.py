"""Read-only admin for policy documents; they change through the policy pages, so every change is audited."""

from django.contrib import admin

from schoolgate.audit.admin import ReadOnlyAdmin
from schoolgate.policy.models import Document, DocumentVersion


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ["title", "school", "kind"]
    list_filter = ["school", "kind"]


@admin.register(DocumentVersion)
class DocumentVersionAdmin(ReadOnlyAdmin):
    list_display = ["document", "number", "status", "reviewed_on", "next_review_on"]
    list_filter = ["status", "document__school"]
