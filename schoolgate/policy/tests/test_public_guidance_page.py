"""The public page for pupils and families: safe use, the minimum ages of common sites, and how to tell the school
about a worry, without a login (AW-PUPIL-1)."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError

from schoolgate.policy.actions import acknowledge_version, approve_version, save_draft, start_pupil_guidance
from schoolgate.policy.models import DocumentVersion
from schoolgate.schools.roles import Role

pytestmark = pytest.mark.django_db


def public_page(client, cast) -> str:
    response = client.get(f"/p/{cast.school.slug}/staying-safe-online/")
    assert response.status_code == 200
    return response.content.decode()


def ages(page: str) -> dict[str, str]:
    table = page[page.index('id="ages"') :]
    table = table[: table.index("</table>")]
    return dict(re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td>", table))


@pytest.mark.clause("AW-PUPIL-1")
def test_it_shows_the_guidance_page_to_anyone_without_a_login(client, cast):
    page = public_page(client, cast)

    assert f"{cast.school.name}: staying safe online" in page
    assert "Only accept friends you know in real life" in page  # the standard wording until the school has its own


@pytest.mark.clause("AW-PUPIL-1")
def test_it_lists_the_minimum_age_of_common_sites(client, cast):
    limits = ages(public_page(client, cast))

    for site in ["Facebook", "Instagram", "TikTok", "Snapchat", "X (Twitter)", "WhatsApp", "YouTube"]:
        assert limits[site] == "13", site
    assert "under 13" in public_page(client, cast)


@pytest.mark.clause("AW-PUPIL-1")
def test_it_tells_pupils_and_families_how_to_report_a_worry(client, cast):
    page = public_page(client, cast)
    worries = page[page.index('id="worries"') :]

    assert "Designated Safeguarding Lead" in worries
    assert "tell your class teacher" in worries
    assert "https://www.ceop.police.uk/Safety-Centre/" in worries and "Childline, 0800 1111" in worries


@pytest.mark.clause("AW-PUPIL-1")
def test_it_shows_the_schools_own_wording_once_approved(client, cast):
    draft = start_pupil_guidance(cast.school, by=cast.leader)
    assert "Only accept friends you know in real life" in draft.text  # starts from the standard wording
    save_draft(draft, by=cast.leader, fields={"text": "Our pupils learn online safety every term.\n\n- Ask first."})

    assert "every term" not in public_page(client, cast)  # not until approved
    approve_version(draft, by=cast.dsl, role=Role.DSL)

    page = public_page(client, cast)
    assert "Our pupils learn online safety every term." in page and "<li>Ask first.</li>" in page
    assert "Only accept friends you know in real life" not in page
    assert ages(page)["Facebook"] == "13"  # the ages and the ways to report stay whatever the wording


def test_it_links_the_guidance_page_from_the_schools_public_pages(client, cast):
    link = f'href="/p/{cast.school.slug}/staying-safe-online/"'

    assert link in client.get(f"/p/{cast.school.slug}/news/").content.decode()
    assert link in client.get(f"/p/{cast.school.slug}/social-media/").content.decode()


def test_it_answers_not_found_for_a_school_that_does_not_exist(client, db):
    assert client.get("/p/no-such-school/staying-safe-online/").status_code == 404


def test_it_asks_nobody_to_confirm_reading_the_pupils_page(cast):
    draft = start_pupil_guidance(cast.school, by=cast.leader)
    approve_version(draft, by=cast.head, role=Role.HEADTEACHER)
    version = DocumentVersion.objects.get(pk=draft.pk)

    assert version not in DocumentVersion.objects.unacknowledged_by(cast.alice, cast.school)
    with pytest.raises(ValidationError):
        acknowledge_version(version, by=cast.alice)
