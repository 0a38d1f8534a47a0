"""One person's chronology as HTML and as a PDF (for a transfer to another school), from the same template."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from schoolgate.concerns import access
from schoolgate.concerns.actions.records import Person, chronology, retention_rows


def chronology_context(person: Person, concerns: list, *, school, reader) -> dict:
    return {
        "school": school,
        "person": person,
        "concerns": concerns,
        "items": chronology(concerns),
        "retention": retention_rows(concerns, access.concern_settings(school)),
        "reader": reader,
        "prepared_at": timezone.now(),
    }


def render_chronology_html(context: dict, *, standalone: bool = True, request=None) -> str:
    return render_to_string(
        "concerns/chronology_document.html" if standalone else "concerns/chronology_body.html",
        {**context, "standalone": standalone},
        request=request,
    )


def render_chronology_pdf(context: dict, *, base_url: str) -> bytes:
    from weasyprint import HTML  # imported here: loading Pango is slow and only PDF needs it

    return HTML(string=render_chronology_html(context), base_url=base_url).write_pdf()
