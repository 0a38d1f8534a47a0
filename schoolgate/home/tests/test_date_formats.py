"""One way of writing dates ("2 December 2026") and date-times ("2 December 2026, 14:05") across the product."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone

from schoolgate.policy.actions import approve_version, start_new_version
from schoolgate.pupils.models import Pupil
from schoolgate.testing import make_school

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
MACHINE_FORMATS = {"c", "Y-m-d", "U", "r"}  # ISO values for <time datetime> and <input type=date>, feeds


@pytest.fixture
def cast(db):
    return make_school()


def test_it_writes_dates_and_date_times_one_way():
    when = dt.datetime(2026, 12, 2, 14, 5, tzinfo=ZoneInfo("Europe/London"))
    rendered = Template('{{ when|date }} | {{ when|date:"DATETIME_FORMAT" }} | {{ when|date:"SHORT_DATE_FORMAT" }}')

    assert rendered.render(Context({"when": when})) == "2 December 2026 | 2 December 2026, 14:05 | 2 December 2026"


def test_it_shows_approval_times_and_leaving_dates_in_the_same_formats(client, cast):
    draft = start_new_version(cast.policy.document, by=cast.head)
    with timezone.override("Europe/London"):
        approve_version(draft, by=cast.head, role="headteacher")
    approved_at = timezone.localtime(draft.approvals.get().approved_at)
    Pupil.objects.create(
        school=cast.school,
        upn="A1",
        legal_forename="Amy",
        legal_surname="Archer",
        year_group="3",
        leaving_date=dt.date(2026, 7, 22),
    )
    client.force_login(cast.head)

    policy_page = client.get(f"/s/{cast.school.slug}/policy/v/{draft.pk}/").content.decode()
    pupils_page = client.get(f"/s/{cast.school.slug}/pupils/?status=former").content.decode()

    assert f"on {approved_at.day} {approved_at:%B %Y, %H:%M}" in policy_page
    assert "22 July 2026" in pupils_page and "22/07/2026" not in pupils_page


def test_it_uses_no_other_human_date_format_in_page_templates():
    formats = set()
    for path in TEMPLATES.rglob("*.*"):
        formats |= set(re.findall(r"\|date:[\"']([^\"']+)[\"']", path.read_text()))
    # "l" is the day's name alone, put before a deadline's date ("Monday 7 December 2026, 16:00"); a month on its
    # own (reports) is Django's YEAR_MONTH_FORMAT ("December 2026").
    assert formats - MACHINE_FORMATS <= {"DATE_FORMAT", "DATETIME_FORMAT", "YEAR_MONTH_FORMAT", "j F Y", "l"}
