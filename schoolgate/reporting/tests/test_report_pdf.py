"""The governors' report as a PDF: the same figures as the page, readable when printed, no names or words, and
each download audited."""

from __future__ import annotations

import io

import pypdfium2
import pytest
from pypdf import PdfReader

from schoolgate.audit.models import AuditEntry
from schoolgate.reporting.tests.helpers import (
    COMMENT_TEXT,
    CONCERN_TEXT,
    PUPIL_FORENAME,
    PUPIL_SURNAME,
    REASON_TEXT,
    seed_year,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def pdf(client, cast):
    seed_year(cast, published=3, returned=1)
    client.force_login(cast.governor)
    response = client.get(f"/s/{cast.school.slug}/governors-report/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;") and "no-store" in response["Cache-Control"]
    return response.content


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.clause("AW-REP-1")
def test_it_puts_the_same_figures_in_the_pdf(pdf, cast):
    text = " ".join(text_of(pdf).split())

    assert f"{cast.school.name}: governors' report" in text
    assert "Posts published 3" in text and "Times a post was returned for changes 1" in text
    assert "50 % (2 of 4)" in text
    assert "Mentions found in the period" in text and "No tool can see" in text
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry.action == "reporting.governors_report.downloaded" and entry.actor_id == cast.governor.pk
    assert f"Newest entry #{entry.seq}" in text and "Verified:" in text
    assert entry.entry_hash in text.replace(" ", "")  # the fingerprint may wrap across lines


@pytest.mark.clause("AW-REP-1")
def test_it_keeps_names_and_words_out_of_the_pdf(pdf):
    text = text_of(pdf)

    for secret in (CONCERN_TEXT, PUPIL_FORENAME, PUPIL_SURNAME, COMMENT_TEXT, REASON_TEXT, "07700 900123"):
        assert secret not in text


def test_it_renders_the_first_page_with_its_charts_in_black_and_white(pdf):
    document = pypdfium2.PdfDocument(pdf)
    assert len(document) >= 2
    image = document[0].render(scale=1.5, grayscale=True).to_pil().convert("L")

    histogram = image.histogram()
    dark = sum(histogram[:128]) / sum(histogram)
    assert 0.005 < dark < 0.5  # text and bars on a white page: neither blank nor a black box
    # The posts chart's bars (grey #555) are on the first page: mid-grey pixels, not only black text.
    assert sum(histogram[70:110]) > 200
