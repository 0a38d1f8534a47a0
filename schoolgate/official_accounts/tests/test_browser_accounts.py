"""In real Chromium: staff propose a Bluesky account, the headteacher approves and connects it to a real
local Bluesky network, families see it on the public page, and a leader breaks the glass on its login."""

from __future__ import annotations

import re

import pytest

from schoolgate.official_accounts.models import Connection, OfficialAccount
from schoolgate.testing import browser_log_in, browser_log_out, make_school, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.clause("RS-ACC-1")
@pytest.mark.clause("AW-ACC-2")
@pytest.mark.clause("AW-ACC-3")
@pytest.mark.clause("AW-ACC-6")
@pytest.mark.clause("AW-PUB-5")
def test_it_takes_an_account_from_proposal_to_connected_and_breaks_the_glass(page, bsky_peer, smtp_server, settings):
    # The leader logs in and then re-enters a code within one 30-second step: accept the next step's code
    # too, as an authenticator app would show it moments later (a used code is still refused).
    settings.MFA_TOTP_TOLERANCE = 1
    cast = make_school("The Raleigh School", slug="raleigh")
    cast.school.email_domains = "raleigh.example"
    cast.school.save(update_fields=["email_domains"])
    bluesky = bsky_peer.create_account("raleigh")

    # A member of staff proposes the account.
    browser_log_in(page, cast.alice)
    page.goto("/s/raleigh/accounts/propose/")
    page.get_by_label("Name").fill("Raleigh class news")
    page.get_by_label("Network").select_option("bluesky")
    page.get_by_label("Email address the account is registered with").fill("office@raleigh.example")
    page.get_by_label("Aim of the account").fill("Share class news and celebrations with families.")
    page.get_by_label("Intended audience").fill("Parents and carers of Raleigh pupils")
    page.get_by_label("How the account will be promoted").fill("Newsletter and the school website")
    page.get_by_label("Visibility").select_option("open")
    page.get_by_label("Educational or community objectives").fill("Community engagement")
    page.get_by_label("Intended outcomes").fill("Families feel involved in school life")
    page.get_by_label(re.compile(r"^Risks:?$")).fill("Unkind replies; a pupil identified")
    page.get_by_label("Likelihood of harm").select_option("medium")
    page.get_by_label("Mitigations").fill("Colleague review, consent checks, daily monitoring")
    page.get_by_role("button", name="Send the proposal").click()
    page.get_by_text("Proposal recorded").wait_for()
    browser_log_out(page)

    # The headteacher approves it and connects it with an app password.
    browser_log_in(page, cast.head, with_code=True)
    page.get_by_role("link", name="Raleigh class news").click()
    page.get_by_label("Approve").check()
    page.get_by_role("button", name="Record decision").click()
    page.get_by_text("Raleigh class news is approved.").wait_for()
    page.get_by_label("Bluesky handle").fill(bluesky.handle)
    page.get_by_label("App password").fill(bluesky.app_password)
    page.get_by_label("Bluesky server address").fill(bsky_peer.pds_url)
    page.get_by_role("button", name="Connect").click()
    page.get_by_text(f"Connected to Bluesky as {bluesky.handle}").wait_for()
    account = OfficialAccount.objects.get(name="Raleigh class news")
    assert Connection.objects.get(account=account).remote_id == bluesky.did

    # The headteacher puts the login in escrow.
    page.get_by_text("Store login details").click()
    page.get_by_label("Login (username or email)").fill(bluesky.handle)
    page.get_by_label(re.compile(r"^Password:?$")).fill(bluesky.password)
    page.get_by_role("button", name="Store encrypted").click()
    page.get_by_text("Login details stored, encrypted.").wait_for()
    browser_log_out(page)

    # Families see the account on the public page.
    page.goto("/p/raleigh/social-media/")
    assert page.get_by_role("heading", name="Raleigh class news").is_visible()
    assert page.get_by_text(bluesky.handle).first.is_visible()

    # Another leader breaks the glass; the headteacher is emailed at once.
    browser_log_in(page, cast.leader, with_code=True)
    page.goto(f"/s/raleigh/accounts/{account.pk}/")
    page.get_by_role("link", name="Break glass: reveal login details").click()
    page.get_by_label("Reason").fill("Offensive post on our account; head is on a trip")
    page.get_by_label("Your authenticator code").fill(totp_code(offset=1))
    page.get_by_role("button", name="Reveal").click()
    page.get_by_text(bluesky.password).wait_for()
    reveals = [m for m in smtp_server if "Login details revealed" in m["message"]["Subject"]]
    assert [message["to"] for message in reveals] == [[cast.head.email]]  # the other leader, not the revealer
    body = reveals[0]["message"].get_payload(decode=True).decode()
    assert "Offensive post on our account" in body and bluesky.password not in body
