"""In real Chromium: staff email a family their consent link, a parent withdraws consent through it without
an account, and staff see the withdrawal on the pupil's consent page (RS-IMG-1)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from schoolgate.pupils import actions
from schoolgate.pupils.models import ConsentChannel, ConsentDecision, ConsentRecord, ConsentUse
from schoolgate.testing import browser_log_in, browser_log_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.clause("RS-IMG-1")
def test_it_lets_a_parent_withdraw_consent_through_the_family_link(
    page, live_server, smtp_server, settings, cast, family
):
    settings.SITE_URL = live_server.url
    actions.record_consent(
        family.amy,
        by=cast.head,
        use=ConsentUse.SOCIAL_MEDIA_PHOTO,
        decision=ConsentDecision.GIVEN,
        given_by=family.pat,
        channel=ConsentChannel.PAPER,
        decided_on=timezone.localdate() - dt.timedelta(days=60),
    )
    pupil_page = f"/s/{cast.school.slug}/pupils/{family.amy.pk}/consent/"

    # The office (a leader) emails Pat a consent link from Amy's page.
    browser_log_in(page, cast.leader, with_code=True)
    page.goto(pupil_page)
    row = page.locator("#use-social_media_photo")
    assert "Given" in row.inner_text()
    page.get_by_role("button", name="Email a consent link to Pat Archer").click()
    page.get_by_text("Consent link emailed to Pat Archer").wait_for()
    browser_log_out(page)
    body = smtp_server[0]["message"].get_payload(decode=True).decode()
    link = re.search(rf"{re.escape(live_server.url)}/f/\S+/", body).group(0)

    # Pat opens the link with no account, reads what each use means, and says no to social media photos.
    page.goto(link)
    amy = page.get_by_role("region", name="Amy Archer")
    social = amy.get_by_role("group", name="Photo on the school's official social media")
    assert social.get_by_label("Yes, I agree").is_checked()
    assert "official social media accounts" in social.inner_text()
    social.get_by_label("No, I do not agree").check()
    page.get_by_role("button", name="Save my answers").click()
    page.get_by_text("Thank you: your answers are saved.").wait_for()
    assert (
        page.get_by_role("region", name="Amy Archer")
        .get_by_role("group", name="Photo on the school's official social media")
        .get_by_label("No, I do not agree")
        .is_checked()
    )

    # The DSL sees the withdrawal, from Pat, online, on Amy's page.
    browser_log_in(page, cast.dsl, with_code=True)
    page.goto(pupil_page)
    row = page.locator("#use-social_media_photo")
    assert "Withdrawn" in row.inner_text()
    assert "Withdrawn by Pat Archer" in row.inner_text()
    assert "online form (family link)" in row.inner_text()
    latest = ConsentRecord.objects.filter(pupil=family.amy, use=ConsentUse.SOCIAL_MEDIA_PHOTO).first()
    assert (latest.decision, latest.channel, latest.recorded_by) == ("withdrawn", "online", None)
