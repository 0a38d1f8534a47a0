"""On a 390 px phone no page scrolls sideways: wide tables scroll inside their own box, long addresses and
handles wrap, forms fit. Every main page is visited as the person who uses it, and every failure is listed."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from schoolgate.accounts.testing import record_test_second_factor
from schoolgate.inbox.models import InboxItem
from schoolgate.media.models import MediaItem
from schoolgate.official_accounts.models import OfficialAccount
from schoolgate.policy.models import DocumentVersion, VersionStatus
from schoolgate.posts.models import Post
from schoolgate.pupils.models import Pupil
from schoolgate.schools.demo_data import seed_demo
from schoolgate.schools.models import School
from schoolgate.schools.roles import Role

PHONE = {"width": 390, "height": 844}
# The innermost elements that stick out past the right edge, to say what to fix.
CULPRITS = """(limit) => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > limit + 0.5
               || (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX == 'visible'))
  .slice(0, 8)
  .map(e => `<${e.tagName.toLowerCase()} class="${e.className}"> is ${e.scrollWidth}px: `
            + e.textContent.trim().slice(0, 40))"""


def log_in_browser(page, user, base_url: str) -> None:
    """Force-login: a real session (with its second-factor record) set as the browser's cookie."""
    client = Client()
    client.force_login(user)
    record_test_second_factor(client, user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
          "url": base_url}]
    )  # fmt: skip


def pages_for(school: School) -> dict[str, list[str]]:
    """The pages to visit, grouped by the role that uses them."""
    s = school.slug
    account = OfficialAccount.objects.filter(school=school).order_by("pk").first()
    post = Post.objects.filter(school=school).order_by("-pk").first()
    photo = MediaItem.objects.filter(school=school).order_by("pk").first()
    pupil = Pupil.objects.filter(school=school).order_by("pk").first()
    # The longest item the demo inbox holds (its words wrap; nothing pushes the page sideways).
    inbox_item = max(InboxItem.objects.filter(school=school), key=lambda i: len(i.text))
    draft = DocumentVersion.objects.filter(document__school=school, status=VersionStatus.DRAFT).first()
    current = DocumentVersion.objects.filter(document__school=school, status=VersionStatus.CURRENT).first()
    head = [
        f"/s/{s}/",
        f"/s/{s}/accounts/",
        f"/s/{s}/accounts/{account.pk}/",
        f"/s/{s}/accounts/propose/",
        f"/s/{s}/accounts/health/",
        f"/s/{s}/posts/",
        f"/s/{s}/posts/{post.pk}/",
        f"/s/{s}/posts/new/",
        f"/s/{s}/posts/takedowns/",
        f"/s/{s}/media/",
        f"/s/{s}/media/{photo.pk}/",
        f"/s/{s}/media/upload/",
        f"/s/{s}/pupils/",
        f"/s/{s}/pupils/consent/",
        f"/s/{s}/pupils/{pupil.pk}/consent/",
        f"/s/{s}/pupils/import/",
        f"/s/{s}/policy/",
        f"/s/{s}/policy/v/{current.pk}/",
        f"/s/{s}/policy/acknowledgements/",
        f"/s/{s}/audit/",
        f"/s/{s}/members/",
        f"/s/{s}/closures/",
        f"/s/{s}/details/",
        f"/s/{s}/news/subscribers/",
        f"/s/{s}/inbox/",
        f"/s/{s}/inbox/?status=all",
        f"/s/{s}/inbox/{inbox_item.pk}/",
        f"/s/{s}/inbox/settings/",
        f"/s/{s}/inbox/templates/",
        f"/s/{s}/inbox/response-times/",
        "/notifications/",
        "/",
    ]
    if draft:
        head += [f"/s/{s}/policy/v/{draft.pk}/", f"/s/{s}/policy/v/{draft.pk}/edit/"]
    staff = [f"/s/{s}/", f"/s/{s}/posts/", f"/s/{s}/posts/new/", f"/s/{s}/accounts/{account.pk}/", "/notifications/"]
    teacher = school.members_with_role(Role.STAFF).order_by("pk").first()
    if OfficialAccount.objects.approved().filter(school=school, authorised_staff=teacher).exists():
        staff.append(f"/s/{s}/inbox/")  # the inbox of the accounts the teacher runs
    public = [
        f"/p/{s}/social-media/",
        f"/p/{s}/news/",
        f"/p/{s}/policy/",
        f"/p/{s}/news/digest/",
        "/accounts/login/",
    ]
    if post.published_at:
        public.append(f"/p/{s}/news/{post.pk}/")
    return {Role.HEADTEACHER: head, Role.STAFF: staff, "public": public}


@pytest.mark.django_db(transaction=True)
def test_it_never_scrolls_sideways_on_a_phone(page, live_server):
    seed_demo()
    # The longest unbroken things people write: a handle, an instance address, a link in a post.
    OfficialAccount.objects.filter(school__slug="raleigh").update(
        handle="the-raleigh-school-west-horsley-official-news.bsky.social",
        instance_url="https://social.an-unusually-long-mastodon-server-name.example/",
    )
    Post.objects.filter(school__slug="raleigh", published_at__isnull=True).update(
        text="Read the newsletter: https://www.raleigh.example/news/2026/autumn-term/newsletter-number-seven.pdf"
    )
    page.set_viewport_size(PHONE)
    too_wide, not_shown = [], []
    for school in School.objects.filter(slug__in=["raleigh", "applebee-wood"]):
        for role, paths in pages_for(school).items():
            if role == "public":
                page.context.clear_cookies()
            else:
                log_in_browser(page, school.members_with_role(role).order_by("pk").first(), live_server.url)
            for path in paths:
                response = page.goto(path)
                if response.status != 200:
                    not_shown.append(f"{path} as {role}: {response.status}")
                    continue
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > PHONE["width"]:
                    culprits = "; ".join(page.evaluate(CULPRITS, PHONE["width"]))
                    too_wide.append(f"{path} as {role}: {width}px ({culprits})")

    assert not_shown == []
    assert too_wide == [], "pages wider than a 390 px phone:\n" + "\n".join(too_wide)
