"""In real Chromium: a Raleigh teacher's post naming a pupil is blocked by screening, fixed, agreed by a
colleague, approved by the headteacher, published to the local Bluesky network, and shown to families."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from schoolgate.posts.models import DeliveryStatus, Post
from schoolgate.posts.tests.test_publishing import connect_bluesky, records_on
from schoolgate.pupils.models import Pupil
from schoolgate.schools.roles import Role
from schoolgate.screening.engine import NO_NAMES_WITH_PHOTOS
from schoolgate.testing import browser_log_in, browser_log_out, make_school

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.clause("AW-PUB-1")
@pytest.mark.clause("AW-PUB-2")
@pytest.mark.clause("RS-ROLE-2")
@pytest.mark.clause("AW-PUB-4")
def test_it_takes_a_post_from_a_blocked_draft_to_bluesky_and_the_news_page(page, bsky_peer, smtp_server):
    cast = make_school("The Raleigh School", slug="raleigh")
    policy = cast.policy.settings
    policy.final_post_approver_role, policy.final_approver_deputy_role = Role.HEADTEACHER, Role.LEADERSHIP
    policy.required_reviewers, policy.pupil_naming_rule = 1, NO_NAMES_WITH_PHOTOS
    policy.save()
    Pupil.objects.create(school=cast.school, upn="R100", legal_forename="Amelia", legal_surname="Khan")
    account, remote = connect_bluesky(cast, bsky_peer)

    # A teacher writes a post that names a pupil in full; screening stops it before it goes to anyone.
    browser_log_in(page, cast.alice)
    page.goto("/s/raleigh/posts/new/")
    page.get_by_label("Text").fill("Well done to Amelia Khan for her reading award!")
    page.get_by_label(account.name).check()
    page.get_by_role("button", name="Save and send for review").click()
    blocked_card = page.get_by_role("region", name="Not sent: this post cannot be agreed as it stands")
    blocked_card.wait_for()
    blocked = page.locator("mark.finding.blocking")
    assert blocked.inner_text() == "Amelia Khan"
    assert "first names only" in page.get_by_role("region", name="Screening").inner_text()
    post = Post.objects.get(author=cast.alice)

    # The teacher fixes it (first name only) and sends it for review.
    blocked_card.get_by_role("link", name="Fix it").click()
    page.get_by_label("Text").fill("Well done to Amelia for her reading award!")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Saved.").wait_for()
    assert page.locator("mark.finding.blocking").count() == 0
    page.get_by_role("button", name="Send for review").click()
    page.get_by_text("Sent for review.").wait_for()
    browser_log_out(page)

    # The colleague agrees it; the headteacher gives final approval and it goes out.
    browser_log_in(page, cast.bob)
    page.goto(f"/s/raleigh/posts/{post.pk}/")
    page.get_by_label("Agreed").check()
    page.get_by_role("button", name="Record").click()
    page.get_by_text("Your decision is recorded.").wait_for()
    browser_log_out(page)
    browser_log_in(page, cast.head, with_code=True)
    page.goto(f"/s/raleigh/posts/{post.pk}/")
    page.get_by_label("Agreed").check()
    page.get_by_role("button", name="Record").click()
    page.get_by_text("Your decision is recorded.").wait_for()
    page.reload()  # the publishing job ran as the approval committed
    link = page.get_by_role("link", name="View on Bluesky")
    link.wait_for()

    [record] = records_on(bsky_peer, remote)
    assert record.value.text == "Well done to Amelia for her reading award!"
    delivery = post.deliveries.get()
    assert delivery.status == DeliveryStatus.PUBLISHED and delivery.remote_id == record.uri
    assert link.get_attribute("href") == delivery.url
    history = page.locator("ol.history").inner_text()
    assert "Final decision (approved) by Hannah Head" in history and "Published on Bluesky news" in history
    browser_log_out(page)

    # Families without social media see it on the news page and in the feed.
    page.goto("/p/raleigh/news/")
    assert page.get_by_text("Well done to Amelia for her reading award!").is_visible()
    feed = ET.fromstring(page.request.get("/p/raleigh/news/rss/").body())  # noqa: S314 - our own feed
    [item] = feed.iter("item")
    assert "<p>Well done to Amelia for her reading award!</p>" in item.findtext("description")
    assert delivery.url in item.findtext("description")
