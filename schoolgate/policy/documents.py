"""Render a policy version as HTML and PDF from the same template, so the two cannot drift apart."""

from __future__ import annotations

from django.template.loader import render_to_string

from schoolgate.policy.models import REQUIRED_APPROVER_ROLES, DocumentVersion
from schoolgate.policy.rules import describe_settings_by_enforcement
from schoolgate.schools.roles import Role


def document_context(version: DocumentVersion) -> dict:
    approvals = {a.role: a for a in version.valid_approvals()}
    enforced, recorded = (
        describe_settings_by_enforcement(version.settings) if version.document.has_settings else ([], [])
    )
    return {
        "version": version,
        "document": version.document,
        "school": version.school,
        "rules": enforced + recorded,
        "enforced_rules": enforced,
        "recorded_rules": recorded,
        "paragraphs": [p.strip() for p in version.text.split("\n\n") if p.strip()],
        "approvals": [(Role(role).label, approvals.get(role)) for role in REQUIRED_APPROVER_ROLES],
    }


def render_document_html(version: DocumentVersion, *, standalone: bool = True, request=None) -> str:
    """The document as HTML; pass the request for a page served to a browser (its CSP nonce goes on the style)."""
    return render_to_string(
        "policy/document_body.html", {**document_context(version), "standalone": standalone}, request=request
    )


def render_document_pdf(version: DocumentVersion, *, base_url: str) -> bytes:
    from weasyprint import HTML  # imported here: loading Pango is slow and only PDF needs it

    return HTML(string=render_document_html(version), base_url=base_url).write_pdf()
