"""In real Chromium, on a phone and a laptop: what the author, the reviewer and the headteacher are told when a
post cannot go out by itself (an account not connected) or cannot be agreed as it stands (blocking findings)."""

from __future__ import annotations

import pytest

from schoolgate.posts.models import DeliveryStatus, Post, PostStatus
from schoolgate.posts.tests.conftest import make_account
from schoolgate.pupils.models import Pupil
from schoolgate.schools.roles import Role
from schoolgate.testing import browser_log_in, browser_log_out, make_school

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def assert_no_sideways_scrolling(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide"


def raleigh(slug: str):
    cast = make_school("The Raleigh School", slug=slug)
    policy = cast.policy.settings
    policy.final_post_approver_role, policy.required_reviewers = Role.HEADTEACHER, 1
    policy.save()
    return cast


@pytest.mark.parametrize("width", [390, 1280])
def test_it_warns_at_every_step_that_a_post_will_not_go_out_on_an_unconnected_account(page, smtp_server, width):
    page.set_viewport_size({"width": width, "height": 900})
    cast = raleigh(f"raleigh-{width}")
    make_account(cast, name="Bluesky news", network="bluesky", staff=[cast.alice, cast.head])
    base = f"/s/{cast.school.slug}"

    # Drafting: the account is marked as not connected where it is chosen, and on the post's page.
    browser_log_in(page, cast.alice)
    page.goto(f"{base}/posts/new/")
    choice = page.get_by_label("Bluesky news")
    assert (
        "not connected: it will not go out there until the account is connected"
        in page.locator("label", has=choice).inner_text()
    )
    assert_no_sideways_scrolling(page)
    page.get_by_label("Text").fill("Harvest festival donations go to the food bank on Friday.")
    choice.check()
    page.get_by_role("button", name="Save and send for review").click()
    page.get_by_text("Sent for review.").wait_for()
    warning = page.get_by_role("region", name="Where it will not go out by itself")
    assert "Bluesky news is not connected to Schoolgate, so this post will not go out there" in warning.inner_text()
    assert_no_sideways_scrolling(page)
    browser_log_out(page)
    post = Post.objects.get(author=cast.alice)

    # The colleague reviewing it and the headteacher approving it read it above their decision.
    browser_log_in(page, cast.bob)
    page.goto(f"{base}/posts/")
    assert "Waiting for your review" in page.get_by_role("region", name="Waiting for you").inner_text()
    page.goto(f"{base}/posts/{post.pk}/")
    decision = page.get_by_role("region", name="Your review")
    assert "Before you agree it: Bluesky news is not connected" in decision.inner_text()
    assert_no_sideways_scrolling(page)
    page.get_by_label("Agreed").check()
    page.get_by_role("button", name="Record").click()
    page.get_by_text("Your decision is recorded.").wait_for()
    browser_log_out(page)
    review_email = next(m["message"] for m in smtp_server if "waiting for your review" in m["message"]["Subject"])
    assert "Bluesky news is not connected" in review_email.get_payload(decode=True).decode()

    browser_log_in(page, cast.head, with_code=True)
    page.goto(f"{base}/posts/")
    assert "Waiting for your final approval" in page.get_by_role("region", name="Waiting for you").inner_text()
    page.goto(f"{base}/posts/{post.pk}/")
    decision = page.get_by_role("region", name="Final approval")
    assert "Before you agree it: Bluesky news is not connected" in decision.inner_text()
    page.get_by_label("Agreed").check()
    page.get_by_role("button", name="Record").click()
    page.get_by_text("Your decision is recorded.").wait_for()

    # Once approved, the heading says what really happened, and the page offers to connect, not to retry.
    page.reload()
    assert post.deliveries.get().status == DeliveryStatus.FAILED
    heading = page.get_by_role("heading", level=1).inner_text()
    assert "Approved — failed to publish on Bluesky news" in heading
    assert page.get_by_role("link", name="Connect Bluesky news").is_visible()
    assert page.get_by_role("button", name="Retry now").count() == 0
    assert_no_sideways_scrolling(page)


@pytest.mark.parametrize("width", [390, 1280])
def test_it_tells_the_author_what_blocks_a_post_before_it_goes_to_anyone(page, smtp_server, width):
    page.set_viewport_size({"width": width, "height": 900})
    cast = raleigh(f"raleigh-blocked-{width}")
    make_account(cast, name="Parents page", staff=[cast.alice])
    Pupil.objects.create(school=cast.school, upn="R100", legal_forename="Amelia", legal_surname="Khan")
    base = f"/s/{cast.school.slug}"

    browser_log_in(page, cast.alice)
    page.goto(f"{base}/posts/new/")
    page.get_by_label("Text").fill("Well done to Amelia Khan for her reading award!")
    page.get_by_label("Parents page").check()
    page.get_by_role("button", name="Save and send for review").click()
    blocked = page.get_by_role("region", name="Not sent: this post cannot be agreed as it stands")
    blocked.wait_for()
    text = blocked.inner_text()
    assert "“Amelia Khan”" in text and "If they return it, it comes back to you" in text
    assert page.get_by_text("Sent for review.").count() == 0
    assert blocked.get_by_role("link", name="Fix it").is_visible()
    assert page.locator("mark.finding.blocking").inner_text() == "Amelia Khan"
    assert "AW-PUB-2" not in page.content()  # no clause codes in what people read
    assert_no_sideways_scrolling(page)
    post = Post.objects.get(author=cast.alice)
    assert post.status == PostStatus.DRAFT and smtp_server == []  # nobody was emailed

    # The author chooses to send it on: it goes to the headteacher, not to the colleagues.
    blocked.get_by_role("button", name="Send it to Hannah Head to decide").click()
    page.get_by_text("Sent to be decided").wait_for()
    assert "waits for Hannah Head to let it go ahead or return it" in page.content()
    assert_no_sideways_scrolling(page)
    browser_log_out(page)
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    emailed = {m["message"]["To"]: m["message"]["Subject"] for m in smtp_server}
    assert emailed.get(cast.head.email, "").endswith("A post needs your decision on its screening findings")
    assert cast.bob.email not in emailed

    browser_log_in(page, cast.bob)
    page.goto(f"{base}/posts/")
    assert "Well done to Amelia" not in page.get_by_role("region", name="Waiting for you").inner_text()
    assert_no_sideways_scrolling(page)
