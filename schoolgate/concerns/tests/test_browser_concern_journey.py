"""In real Chromium: a teacher reports a concern from a phone; the DSL is told without its content, opens it,
routes it to the allegations procedure, records the LADO referral and a parent contact, and the pupil's
chronology PDF shows it all; a concern about the headteacher is never shown to the headteacher."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from pypdf import PdfReader

from schoolgate.audit.models import AuditEntry
from schoolgate.concerns.models import ClockKind, Concern
from schoolgate.notifications.models import Notification
from schoolgate.pupils.models import Pupil
from schoolgate.testing import browser_log_in, browser_log_out, make_school

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "Mr Brown sent Jay Patel private messages on Instagram late at night"
ABOUT_HEAD = "The headteacher shared a pupil's photo from a personal account"


def assert_no_sideways_scrolling(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide"


def report(page, base: str, *, category: str, text: str, staff: str, pupil: str = "") -> None:
    page.goto(f"{base}/concerns/report/")
    page.get_by_label("What is it about?").select_option(label=category)
    page.get_by_label("What did you see or were you told?").fill(text)
    page.locator("input[name=happened_on]").fill(timezone.localdate().isoformat())
    page.get_by_label("On a personal account").check()
    page.get_by_label("Which site or app").select_option(label="Instagram")
    if pupil:
        page.get_by_label("Pupils it is about").select_option(label=pupil)
    page.get_by_label("A member of staff it is about").select_option(label=staff)
    assert_no_sideways_scrolling(page)
    page.get_by_role("button", name="Send to the safeguarding leads").click()
    page.wait_for_url(re.compile(r"/concerns/\d+/receipt/"))


def record(page, kind_label: str, fill) -> None:
    page.get_by_role("link", name=kind_label, exact=True).click()
    fill()
    page.get_by_role("button", name="Record", exact=True).click()
    page.get_by_text("Recorded.").wait_for()


@pytest.mark.clause("AW-CON-1")
@pytest.mark.clause("RS-ROLE-1")
@pytest.mark.clause("AW-CON-4")
def test_it_takes_a_concern_from_a_phone_report_to_the_lado_referral_and_the_chronology_pdf(page, smtp_server):
    page.set_viewport_size({"width": 390, "height": 844})
    cast = make_school("The Raleigh School", slug="raleigh-concerns")
    pupil = Pupil.objects.create(
        school=cast.school, upn="R100", legal_forename="Jay", legal_surname="Patel", year_group="Year 9"
    )
    base = f"/s/{cast.school.slug}"

    # A teacher reports, on a phone, a concern about a colleague and a pupil; they get a receipt.
    browser_log_in(page, cast.alice)
    report(
        page,
        base,
        category="Online conduct of a member of staff",
        text=SECRET,
        staff="Bob Staff",
        pupil=f"{pupil} ({pupil.year_group})",
    )
    receipt = page.locator("main").inner_text()
    assert "recorded" in receipt.lower() and SECRET not in receipt
    browser_log_out(page)
    concern = Concern.objects.get(school=cast.school)

    # The DSL is told, by notification and email, that a concern needs attention: never what it says.
    told = Notification.objects.filter(user=cast.dsl, url__endswith=f"/concerns/{concern.pk}/")
    assert told.count() == 1 and SECRET not in told.get().subject + told.get().body
    mail = [m for m in smtp_server if cast.dsl.email in m["to"]]
    assert mail and all(SECRET not in m["message"].as_string() for m in smtp_server)
    assert "A new concern needs your attention" in mail[0]["message"]["Subject"]

    # The DSL opens it from the notification, reads it, and routes it to the allegations procedure.
    browser_log_in(page, cast.dsl, with_code=True)
    page.goto("/notifications/")
    page.get_by_role("button", name=re.compile("A new concern needs your attention")).first.click()
    page.wait_for_url(re.compile(rf"/concerns/{concern.pk}/$"))
    assert SECRET in page.locator("main").inner_text()
    assert page.locator("#clock-lado").is_visible()  # an allegation against staff starts the LADO clock
    record(
        page,
        "Routed to a procedure",
        lambda: page.get_by_label("Procedure").select_option(label="Allegations against staff"),
    )
    assert page.locator("#concern-procedure").inner_text().startswith("Allegations against staff")

    # The LADO referral stops the clock; the parents are told, and the contact recorded.
    def lado():
        page.get_by_label("Agency").select_option(label="Local authority designated officer (LADO)")
        page.get_by_label("Referred or notified").check()
        page.get_by_label("Their reference").fill("LADO-2026-117")

    record(page, "Agency referral or decision", lado)
    assert concern.clocks.get(kind=ClockKind.LADO).stopped_at is not None

    def parents():
        page.get_by_label("Who you spoke to").fill("Mrs Patel, Jay's mother")
        page.get_by_label("When it happened").fill(timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("How").select_option(label="Phone")
        page.get_by_label("What was shared").fill("That the school has referred a concern about messages to Jay.")
        page.get_by_label("Outcome").fill("Mrs Patel will keep Jay's phone downstairs at night.")

    record(page, "Contact with a parent or carer", parents)
    assert_no_sideways_scrolling(page)

    # The pupil's chronology, and its PDF for a transfer, show the whole handling; the download is audited.
    page.get_by_role("link", name="chronology").first.click()
    page.wait_for_url(re.compile(rf"/concerns/pupils/{pupil.pk}/chronology/"))
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as PDF").click()
    pdf = PdfReader(download.value.path())
    text = " ".join(" ".join(p.extract_text().split()) for p in pdf.pages)
    for shown in ("Allegations against staff", "LADO-2026-117", "Mrs Patel, Jay's mother", "Jay Patel"):
        assert shown in text, shown
    assert AuditEntry.objects.filter(action__startswith="concerns.chronology", actor=cast.dsl).exists()
    browser_log_out(page)

    # A concern about the headteacher goes to the chair of governors: the headteacher never sees it.
    browser_log_in(page, cast.alice)
    report(page, base, category="Online conduct of a member of staff", text=ABOUT_HEAD, staff=cast.head.full_name)
    browser_log_out(page)
    about_head = Concern.objects.get(school=cast.school, pk__gt=concern.pk)
    browser_log_in(page, cast.head, with_code=True)
    page.goto(f"{base}/concerns/")
    log = page.locator("main").inner_text()
    assert about_head.reference not in log and concern.reference in log
    response = page.goto(f"{base}/concerns/{about_head.pk}/")
    assert response.status == 404 and ABOUT_HEAD not in page.content()
    assert not Notification.objects.filter(user=cast.head, url__endswith=f"/concerns/{about_head.pk}/").exists()
    assert Notification.objects.filter(user=cast.chair, url__endswith=f"/concerns/{about_head.pk}/").exists()
