"""In real Chromium at phone width, against the local Bluesky network: a parent's reply is read by the poll job and
shows in the inbox with its due time; a teacher acknowledges it from a template and answers it; an abusive reply is
hidden with the evidence kept and the explanation posted; a disclosure goes to the DSL and nobody else sees it."""

from __future__ import annotations

import re

import pytest

from schoolgate.concerns.models import Concern
from schoolgate.connectors.tests.test_bluesky import eventually, reply_from
from schoolgate.inbox.actions.configure import ensure_default_templates
from schoolgate.inbox.actions.ingest import poll_account
from schoolgate.inbox.models import InboxItem, ItemStatus, ModerationAction, ResponseTemplate, Visibility
from schoolgate.inbox.tests.peer import bluesky_thread
from schoolgate.testing import browser_log_in, browser_log_out, make_school

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUESTION = "What time does the Christmas fair open on Saturday?"
ABUSE = "this school is run by idiots and Mr Hale is a useless disgrace"
DISCLOSURE = "my stepdad hits me when mum is out and I am scared to go home"


def arrives(thread, text: str) -> InboxItem:
    """Someone on the network replies to our post; the poll job reads it (as the worker's schedule would)."""
    uri = reply_from(thread.other_client, thread.other.did, text, to=thread.post_uri)

    def stored():
        poll_account(thread.account.pk)
        return InboxItem.objects.filter(account=thread.account, remote_id=uri).first()

    return eventually(stored, what=f"the reply {text[:20]!r} in the inbox")


def assert_no_sideways_scrolling(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide"


@pytest.mark.clause("RS-MON-1")
@pytest.mark.clause("RS-MON-2")
@pytest.mark.clause("RS-ABU-1")
@pytest.mark.clause("RS-ABU-2")
def test_it_answers_a_parent_hides_abuse_and_sends_a_disclosure_to_the_dsl(page, bsky_peer, smtp_server):
    page.set_viewport_size({"width": 390, "height": 844})
    cast = make_school("Applebee Wood", slug="applebee-inbox")
    ensure_default_templates(cast.school)
    thread = bluesky_thread(cast, bsky_peer, text="Our Christmas fair is this Saturday!")
    base = f"/s/{cast.school.slug}/inbox"

    # A parent's question arrives and shows in the queue with the time it must be answered by.
    question = arrives(thread, QUESTION)
    browser_log_in(page, cast.alice)
    page.goto(f"{base}/")
    row = page.locator("[data-inbox-row]", has_text=QUESTION)
    assert "Due by" in row.inner_text()
    assert_no_sideways_scrolling(page)

    # Opened from the keyboard (j to the first item, Enter); acknowledged from a template (the clock stops), then
    # answered in the teacher's own words.
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"{base}/{question.pk}/"))
    assert QUESTION in page.locator("#item-body").inner_text()
    form = page.locator("#reply-form")
    form.get_by_label("Kind").select_option(label="Acknowledgement")
    form.get_by_label("Template").select_option(label="Acknowledgement: Thank you, we will reply")
    form.get_by_role("button", name="Send reply").click()
    page.get_by_text("The reply went out.").wait_for()
    question.refresh_from_db()
    assert question.status == ItemStatus.ANSWERED and question.first_answered_at is not None
    form = page.locator("#reply-form")
    form.get_by_label("Kind").select_option(label="Answer")
    form.get_by_label("Reply").fill("The fair opens at 10am in the hall.")
    form.get_by_role("button", name="Send reply").click()
    page.get_by_text("The reply went out.").wait_for()
    said = sorted(r.value.text for r in thread.replies_on_network())
    assert said[0].startswith("Thank you for your message.") and said[1] == "The fair opens at 10am in the hall."
    assert_no_sideways_scrolling(page)

    # An abusive reply: hidden on the network with the evidence kept first and the audience told why.
    abuse = arrives(thread, ABUSE)
    page.goto(f"{base}/{abuse.pk}/")
    hide = page.locator(f"#moderate-hide-{abuse.pk}")
    hide.locator("summary").click()
    hide.get_by_label("Why (for the record)").fill("Insults a teacher by name")
    offensive = ResponseTemplate.objects.get(school=cast.school, name="Offensive language")
    hide.locator("select[name=explain_with]").select_option(value=str(offensive.pk))
    hide.get_by_role("button", name="Hide").click()
    page.get_by_text("Hide: done on Bluesky.").wait_for()
    assert thread.hidden_replies() == [abuse.remote_id]
    action = ModerationAction.objects.get(item=abuse, kind="hide")
    assert action.evidence["text"] == ABUSE and action.evidence["raw"]
    abuse.refresh_from_db()
    assert abuse.visibility == Visibility.HIDDEN
    assert any(
        r.value.text.startswith("We have removed a comment because it was offensive")
        for r in thread.replies_on_network()
    )

    # A possible disclosure: straight to the DSL; the teacher sees only that it went there.
    disclosure = arrives(thread, DISCLOSURE)
    disclosure.refresh_from_db()
    assert disclosure.status == ItemStatus.WITH_DSL
    page.goto(f"{base}/?status=all")
    listed = page.locator("#inbox-rows").inner_text()
    assert "Passed to the safeguarding lead." in listed and "stepdad" not in listed
    page.goto(f"{base}/{disclosure.pk}/")
    assert "stepdad" not in page.content()
    browser_log_out(page)

    browser_log_in(page, cast.dsl, with_code=True)
    concern = Concern.objects.get(school=cast.school)
    page.goto(f"/s/{cast.school.slug}/concerns/{concern.pk}/")
    page.get_by_text("stepdad hits me", exact=False).first.wait_for()
