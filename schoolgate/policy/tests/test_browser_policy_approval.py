"""In real Chromium: the Raleigh headteacher (with MFA) and the chair approve a policy version; staff confirm it."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from schoolgate.policy.actions import start_new_version
from schoolgate.policy.models import Acknowledgement, DocumentVersion, VersionStatus, add_months
from schoolgate.schools.roles import Role
from schoolgate.testing import browser_log_in, browser_log_out, make_school

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.clause("AW-LIFE-1")
@pytest.mark.clause("RS-LIFE-1")
@pytest.mark.clause("RS-ROLE-3")
def test_it_takes_a_policy_version_from_draft_to_acknowledged_in_the_browser(page):
    raleigh = make_school("The Raleigh School", slug="raleigh", settings={"final_post_approver_role": Role.HEADTEACHER})
    draft = start_new_version(raleigh.policy.document, by=raleigh.head)

    # The headteacher logs in with password and authenticator code, and finds the draft waiting.
    browser_log_in(page, raleigh.head, with_code=True)
    page.get_by_role("link", name=re.compile(r"Social media policy — draft v2")).click()
    page.get_by_role("button", name="Approve as headteacher").click()
    page.get_by_text("Waiting for: chair of governors").wait_for()
    browser_log_out(page)

    # The chair of governors gives the second approval: the version comes into force.
    browser_log_in(page, raleigh.chair)
    page.goto(f"/s/raleigh/policy/v/{draft.pk}/")
    page.get_by_role("button", name="Approve as chair of governors").click()
    next_review = add_months(timezone.localdate(), 12)
    page.get_by_text(f"next review {next_review:%-d %B %Y}").first.wait_for()
    page.goto("/s/raleigh/policy/")
    assert page.get_by_text(f"{next_review:%-d %B %Y}").first.is_visible()
    assert page.get_by_text("Up to date").first.is_visible()
    browser_log_out(page)

    draft.refresh_from_db()
    assert draft.status == VersionStatus.CURRENT
    assert DocumentVersion.objects.get(pk=raleigh.policy.pk).status == VersionStatus.SUPERSEDED

    # A member of staff is asked to read it and confirms, in place (htmx).
    browser_log_in(page, raleigh.alice)
    page.get_by_role("link", name=re.compile(r"Social media policy \(version 2\)")).click()
    page.get_by_role("button", name="I have read and understood this version").click()
    page.get_by_text("You have confirmed that you have read this version.").wait_for()
    assert Acknowledgement.objects.filter(version=draft, user=raleigh.alice).exists()
