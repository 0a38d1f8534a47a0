"""Render a policy or guidance version as HTML and PDF from the same template, so the two cannot drift apart."""

from __future__ import annotations

from django.template.loader import render_to_string

from schoolgate.policy.models import DocumentVersion
from schoolgate.policy.rules import describe_settings_by_enforcement
from schoolgate.schools.roles import Role


def text_blocks(text: str) -> list[dict]:
    """The text as paragraphs and bulleted lists: a block's lines starting "- " are a list, led by any before them."""
    blocks = []
    for block in (b.strip() for b in text.replace("\r\n", "\n").split("\n\n")):
        if not block:
            continue
        lines = block.split("\n")
        items = [line.strip()[2:].strip() for line in lines if line.strip().startswith("- ")]
        lead = "\n".join(line for line in lines if not line.strip().startswith("- ")).strip()
        blocks.append({"text": lead, "items": items})
    return blocks


def _approvals(version: DocumentVersion) -> list[tuple[str, object]]:
    """(who approves, their approval or None) as the document shows it."""
    document = version.document
    if not document.needs_every_approver:
        given = list(version.valid_approvals())
        if given:
            return [(Role(approval.role).label, approval) for approval in given]
        return [(" or ".join(Role(role).label for role in document.approver_roles), None)]
    approvals = {a.role: a for a in version.valid_approvals()}
    return [(Role(role).label, approvals.get(role)) for role in document.approver_roles]


def document_context(version: DocumentVersion) -> dict:
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
        "blocks": text_blocks(version.text),
        "approvals": _approvals(version),
    }


def render_document_html(version: DocumentVersion, *, standalone: bool = True, request=None) -> str:
    """The document as HTML; pass the request for a page served to a browser (its CSP nonce goes on the style)."""
    return render_to_string(
        "policy/document_body.html", {**document_context(version), "standalone": standalone}, request=request
    )


def render_document_pdf(version: DocumentVersion, *, base_url: str) -> bytes:
    from weasyprint import HTML  # imported here: loading Pango is slow and only PDF needs it

    return HTML(string=render_document_html(version), base_url=base_url).write_pdf()
