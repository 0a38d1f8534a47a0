"""The policy as HTML and PDF (AW-LIFE-1): rules from its settings, the school's text, approvals, dates."""

from __future__ import annotations

import datetime as dt
import re
import zlib
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from schoolgate.policy.actions import start_new_version
from schoolgate.policy.documents import render_document_html, render_document_pdf
from schoolgate.policy.models import Document, DocumentKind, DocumentVersion, VersionApproval, VersionStatus
from schoolgate.schools.roles import Role
from schoolgate.testing import make_school

pytestmark = pytest.mark.django_db

REPLY_RULE = "answered within 36 hours, even if only to acknowledge them"
APPROVER_RULE = "The headteacher approves every post before it goes live."


@pytest.fixture
def cast(db):
    """A school whose policy names a final approver and a 36-hour reply deadline, reviewed on 4 March 2025."""
    cast = make_school(
        "Applebee Wood",
        reviewed_on=dt.date(2025, 3, 4),
        settings={"reply_deadline_hours": 36, "final_post_approver_role": Role.HEADTEACHER},
    )
    approvals = VersionApproval.objects.filter(version=cast.policy)
    approvals.filter(role=Role.HEADTEACHER).update(approved_at=dt.datetime(2025, 3, 3, 10, tzinfo=dt.UTC))
    approvals.filter(role=Role.CHAIR_OF_GOVERNORS).update(approved_at=dt.datetime(2025, 3, 4, 18, tzinfo=dt.UTC))
    return cast


class _TextOnly(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)


def visible_text(html: str) -> str:
    """The words a reader sees, with markup and runs of whitespace collapsed to single spaces."""
    parser = _TextOnly()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def assert_complete_document(text: str) -> None:
    assert "Applebee Wood: Social media policy" in text
    assert REPLY_RULE in text
    assert APPROVER_RULE in text
    assert "Our policy." in text
    assert "Second paragraph." in text
    assert "Headteacher: Hannah Head, 3 March 2025" in text
    assert "Chair of governors: Cara Chair, 4 March 2025" in text
    assert "Last reviewed 4 March 2025" in text
    assert "Next review 4 March 2026" in text


def inflated(pdf: bytes) -> bytes:
    """The PDF with every Flate stream inflated (object streams included), so its objects can be searched."""
    parts = [pdf]
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            parts.append(zlib.decompressobj().decompress(raw))
        except zlib.error:
            continue
    return b"\n".join(parts)


def page_objects(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", inflated(pdf)))


@pytest.fixture
def pdf_sources(monkeypatch):
    """The HTML each PDF is made from, recorded on its way into WeasyPrint."""
    import weasyprint

    sources: list[str] = []
    real_html = weasyprint.HTML

    def recording_html(*args, **kwargs):
        sources.append(kwargs["string"])
        return real_html(*args, **kwargs)

    monkeypatch.setattr(weasyprint, "HTML", recording_html)
    return sources


# HTML


@pytest.mark.clause("AW-LIFE-1")
def test_it_writes_the_settings_as_rules_above_the_schools_text(cast):
    html = render_document_html(cast.policy)

    text = visible_text(html)
    assert_complete_document(text)
    assert text.index(REPLY_RULE) < text.index("Our policy.")
    for rule in cast.policy.settings.as_rules():
        assert rule in text


@pytest.mark.clause("AW-LIFE-1")
def test_it_shows_the_whole_document_on_the_version_page(client, cast):
    client.force_login(cast.alice)

    response = client.get(f"/s/{cast.school.slug}/policy/v/{cast.policy.pk}/")

    assert response.status_code == 200
    assert_complete_document(visible_text(response.content.decode()))


@pytest.mark.clause("AW-LIFE-1")
def test_it_publishes_the_version_in_force_to_anyone(client, cast):
    response = client.get(f"/p/{cast.school.slug}/policy/")

    assert response.status_code == 200
    assert_complete_document(visible_text(response.content.decode()))


@pytest.mark.clause("AW-LIFE-1")
def test_it_publishes_the_current_version_and_not_the_draft(client, cast):
    draft = start_new_version(cast.policy.document, by=cast.head)
    DocumentVersion.objects.filter(pk=draft.pk).update(text="Draft wording nobody has approved.")

    text = visible_text(client.get(f"/p/{cast.school.slug}/policy/").content.decode())

    assert_complete_document(text)
    assert "Draft wording nobody has approved." not in text
    assert "Version 1 (current)" in text


@pytest.mark.clause("AW-LIFE-1")
def test_it_publishes_nothing_while_there_is_only_a_draft(client, cast):
    DocumentVersion.objects.filter(pk=cast.policy.pk).update(status=VersionStatus.SUPERSEDED)
    start_new_version(cast.policy.document, by=cast.head)

    assert client.get(f"/p/{cast.school.slug}/policy/").status_code == 404
    assert client.get(f"/p/{cast.school.slug}/policy.pdf").status_code == 404


@pytest.mark.clause("AW-LIFE-1")
def test_it_publishes_nothing_for_a_related_document_that_is_only_drafted(client, cast):
    conduct = Document.objects.create(
        school=cast.school, kind=DocumentKind.CODE_OF_CONDUCT, title="Staff code of conduct"
    )
    start_new_version(conduct, by=cast.head)

    assert client.get(f"/p/{cast.school.slug}/documents/code_of_conduct/").status_code == 404
    assert client.get(f"/p/{cast.school.slug}/documents/code_of_conduct.pdf").status_code == 404


def test_it_answers_not_found_for_an_unknown_school_or_kind(client, cast):
    assert client.get("/p/no-such-school/policy/").status_code == 404
    assert client.get(f"/p/{cast.school.slug}/documents/diary/").status_code == 404


@pytest.mark.clause("AW-LIFE-1")
def test_it_shows_a_draft_as_not_yet_approved(client, cast):
    draft = start_new_version(cast.policy.document, by=cast.head)
    client.force_login(cast.alice)

    text = visible_text(client.get(f"/s/{cast.school.slug}/policy/v/{draft.pk}/").content.decode())

    assert "Version 2 (draft)" in text
    assert "Last reviewed not yet approved" in text
    assert "Next review 12 months after approval" in text
    assert "Headteacher: not yet" in text


def test_it_keeps_one_schools_document_from_another_schools_members(client, cast):
    other = make_school("Other School")
    client.force_login(other.alice)

    assert client.get(f"/s/{cast.school.slug}/policy/v/{cast.policy.pk}/").status_code == 403
    assert client.get(f"/s/{other.school.slug}/policy/v/{cast.policy.pk}/").status_code == 404
    assert client.get(f"/s/{cast.school.slug}/policy/v/{cast.policy.pk}/document.pdf").status_code == 403


# PDF


@pytest.mark.clause("AW-LIFE-1")
def test_it_makes_the_pdf_from_the_same_html_as_the_page(cast, pdf_sources):
    pdf = render_document_pdf(cast.policy, base_url="http://testserver/")

    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert pdf_sources == [render_document_html(cast.policy)]
    assert_complete_document(visible_text(pdf_sources[0]))
    # Headings become PDF bookmarks, stored as plain PDF strings: the rules section is in the file itself.
    assert b"The rules we follow" in inflated(pdf)


def test_it_lays_a_long_policy_over_several_pdf_pages(cast):
    DocumentVersion.objects.filter(pk=cast.policy.pk).update(
        text="\n\n".join(
            f"Paragraph {n}. " + "Staff use the school's official accounts only as this policy says. " * 6
            for n in range(60)
        )
    )
    version = DocumentVersion.objects.get(pk=cast.policy.pk)

    pdf = render_document_pdf(version, base_url="http://testserver/")

    pages = page_objects(pdf)
    assert pages > 1
    declared = re.search(rb"/Type\s*/Pages\b.*?/Count (\d+)", inflated(pdf), re.S)
    assert int(declared.group(1)) == pages


@pytest.mark.clause("AW-LIFE-1")
def test_it_serves_the_version_pdf_to_members(client, cast, pdf_sources):
    client.force_login(cast.alice)

    response = client.get(f"/s/{cast.school.slug}/policy/v/{cast.policy.pk}/document.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (f'inline; filename="{cast.school.slug}-social_media_policy-v1.pdf"')
    assert response.content.startswith(b"%PDF-")
    assert page_objects(response.content) >= 1
    assert len(pdf_sources) == 1
    assert_complete_document(visible_text(pdf_sources[0]))


@pytest.mark.clause("AW-LIFE-1")
def test_it_serves_the_public_pdf_of_the_version_in_force(client, cast, pdf_sources):
    draft = start_new_version(cast.policy.document, by=cast.head)
    DocumentVersion.objects.filter(pk=draft.pk).update(text="Draft wording nobody has approved.")

    response = client.get(f"/p/{cast.school.slug}/policy.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    source = visible_text(pdf_sources[0])
    assert_complete_document(source)
    assert "Draft wording nobody has approved." not in source


def test_it_serves_a_pdf_of_a_draft_only_to_members(client, cast, pdf_sources):
    draft = start_new_version(cast.policy.document, by=cast.head)
    url = f"/s/{cast.school.slug}/policy/v/{draft.pk}/document.pdf"

    assert client.get(url).status_code == 302  # to the login page
    client.force_login(cast.alice)
    response = client.get(url)

    assert response.status_code == 200
    assert "Version 2 (draft)" in visible_text(pdf_sources[0])


def test_it_leaves_the_rules_out_of_documents_without_settings(cast):
    conduct = Document.objects.create(
        school=cast.school, kind=DocumentKind.CODE_OF_CONDUCT, title="Staff code of conduct"
    )
    version = DocumentVersion.objects.create(
        document=conduct, number=1, status=VersionStatus.CURRENT, text="Be kind online.", drafted_at=timezone.now()
    )

    text = visible_text(render_document_html(version))

    assert "Applebee Wood: Staff code of conduct" in text
    assert "Be kind online." in text
    assert "The rules we follow" not in text


def test_it_styles_the_public_page_with_the_nonce_its_content_security_policy_names(client, cast):
    response = client.get(f"/p/{cast.school.slug}/policy/")

    (nonce,) = set(re.findall(r"'nonce-([^']+)'", response["Content-Security-Policy"]))
    styles = re.findall(r"<style([^>]*)>", response.content.decode())
    assert styles == [f' nonce="{nonce}"']
