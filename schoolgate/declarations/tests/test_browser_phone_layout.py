"""On a 390 px phone no declarations page scrolls sideways, for the member, the DSL and the headteacher."""

from __future__ import annotations

import pytest

from schoolgate.declarations.models import ContactException, PersonalAccount, RelationshipDeclaration
from schoolgate.home.tests.test_browser_phone_layout import CULPRITS, PHONE, log_in_browser
from schoolgate.schools.demo_data import seed_demo
from schoolgate.schools.models import School
from schoolgate.schools.roles import Role

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_it_never_scrolls_sideways_on_a_phone(page, live_server):
    seed_demo()
    # The longest unbroken thing people write here: a link to a profile.
    PersonalAccount.objects.update(handle="https://www.instagram.com/a.very.long.personal.account.name.for.teaching")
    school = School.objects.get(slug="applebee-wood")
    s = school.slug
    reviewed = RelationshipDeclaration.objects.filter(school=school, status="acknowledged").first()
    pending = RelationshipDeclaration.objects.filter(school=school, status="pending").first()
    exception = ContactException.objects.get(school=school)
    base = f"/s/{s}/declarations/"
    pages = {
        Role.STAFF: [base, f"{base}annual/", f"{base}accounts/new/", f"{base}relationships/new/",
                     f"{base}exceptions/new/", f"{base}relationships/{pending.pk}/"],
        Role.DSL: [base, f"{base}register/", f"{base}relationships/", f"{base}relationships/{reviewed.pk}/",
                   f"{base}relationships/{pending.pk}/", f"{base}exceptions/", f"/s/{s}/"],
        Role.HEADTEACHER: [base, f"{base}settings/", f"{base}exceptions/{exception.pk}/", f"/s/{s}/"],
    }  # fmt: skip
    page.set_viewport_size(PHONE)
    too_wide, not_shown = [], []
    for role, paths in pages.items():
        person = pending.declared_by if role == Role.STAFF else school.members_with_role(role).order_by("pk").first()
        log_in_browser(page, person, live_server.url)
        for path in paths:
            response = page.goto(path)
            if response.status != 200:
                not_shown.append(f"{path} as {role}: {response.status}")
                continue
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                too_wide.append(f"{path} as {role}: {width}px ({'; '.join(page.evaluate(CULPRITS, PHONE['width']))})")

    assert not_shown == []
    assert too_wide == [], "pages wider than a 390 px phone:\n" + "\n".join(too_wide)
