"""The governors' report as HTML and as a PDF, from the same template (as the policy documents are)."""

from __future__ import annotations

from django.template.loader import render_to_string

from schoolgate.reporting.actions import Report


def report_context(report: Report) -> dict:
    return {"report": report, "school": report.school, "f": report.figures, "charts": report.charts}


def render_report_html(report: Report, *, standalone: bool = True, request=None) -> str:
    """The whole document (for the PDF), or its body for the page; pass the request for its CSP nonce."""
    return render_to_string(
        "reporting/report_document.html" if standalone else "reporting/_report_body.html",
        {**report_context(report), "standalone": standalone},
        request=request,
    )


def render_report_pdf(report: Report, *, base_url: str) -> bytes:
    from weasyprint import HTML  # imported here: loading Pango is slow and only PDF needs it

    return HTML(string=render_report_html(report), base_url=base_url).write_pdf()
