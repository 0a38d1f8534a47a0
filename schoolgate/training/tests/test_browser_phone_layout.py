"""The training and guidance pages fit a 390 px phone, as the people who use them see them with the demo data."""

from __future__ import annotations

import pytest

from schoolgate.home.tests.test_browser_phone_layout import CULPRITS, PHONE, log_in_browser
from schoolgate.policy.models import DocumentVersion, GuidanceKind
from schoolgate.schools.demo_data import seed_demo
from schoolgate.schools.models import School
from schoolgate.schools.roles import Role
from schoolgate.training.models import Course

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pages_for(school) -> dict:
    s = school.slug
    course = Course.objects.filter(school=school).first()
    factsheet = DocumentVersion.objects.at_school(school).current().filter(document__kind=GuidanceKind.FACTSHEET)[0]
    mine = [f"/s/{s}/training/", f"/s/{s}/training/record/", f"/s/{s}/training/privacy-check/", f"/s/{s}/guidance/"]
    return {
        Role.VOLUNTEER: [*mine, f"/s/{s}/policy/v/{factsheet.pk}/", f"/s/{s}/"],
        Role.DSL: [
            *mine,
            f"/s/{s}/",
            f"/s/{s}/training/overdue/",
            f"/s/{s}/training/records/",
            f"/s/{s}/training/attendance/",
            f"/s/{s}/training/courses/",
            f"/s/{s}/training/courses/new/",
            f"/s/{s}/training/courses/{course.pk}/",
            f"/s/{s}/training/settings/",
            f"/s/{s}/guidance/acknowledgements/",
            f"/s/{s}/guidance/new/",
        ],
        "public": [f"/p/{s}/staying-safe-online/"],
    }


def test_it_never_scrolls_sideways_on_a_phone(page, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    seed_demo()
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
