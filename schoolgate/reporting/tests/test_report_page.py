"""The governors' report page: the period's real figures from every app, counts only, for those who may read it,
never counting another school's records."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from schoolgate.audit.models import AuditEntry, ChainHead
from schoolgate.reporting.figures import default_period
from schoolgate.reporting.tests.helpers import (
    COMMENT_TEXT,
    CONCERN_TEXT,
    PUPIL_FORENAME,
    PUPIL_SURNAME,
    REASON_TEXT,
    seed_year,
)
from schoolgate.testing import make_school

pytestmark = pytest.mark.django_db


def url(cast) -> str:
    return f"/s/{cast.school.slug}/governors-report/"


def figure(html: str, label: str) -> str:
    """The number in the table row labelled `label`."""
    found = re.search(rf"<td>{re.escape(label)}</td><td class=\"num\">([^<]*)</td>", html)
    assert found, f"no row {label!r}"
    return found.group(1)


@pytest.mark.clause("AW-REP-1")
def test_it_shows_the_periods_figures_from_every_app(client, cast):
    seed_year(cast, published=3, returned=1)
    client.force_login(cast.chair)

    html = client.get(url(cast)).content.decode()

    assert figure(html, "Posts published") == "3"
    assert figure(html, "Times a post was returned for changes") == "1"
    assert figure(html, "Posts returned for changes at least once") == "1"
    assert figure(html, "Approved") == "1"  # the accounts
    assert '<td>Pupil name</td><td class="num">1</td>' in html and '<td>Phone</td><td class="num">1</td>' in html
    assert figure(html, "Take-downs asked for") == "1"
    assert figure(html, "Completed by the deadline") == "1"
    assert figure(html, "Median time to take down") == "2 h 0 min"
    # Inbox: 4 items needed an answer, 2 in time (1 h and 3 h; one took 30 h, one is still open).
    assert "<strong>50 %</strong> (2 of 4)" in html
    assert figure(html, "Moderation") == "3" and figure(html, "Hide") == "2" and figure(html, "Block the author") == "1"
    # The concern, counted in its category as not yet read; no other category has one.
    disclosure = re.search(r"<td>A child told me something \(a disclosure\)</td>((?:<td[^>]*>\d+</td>)+)", html)
    assert re.findall(r">(\d+)<", disclosure.group(1)) == ["1", "0", "0", "1"]
    # Consent for photos on social media: Year 3 has two pupils, one with consent.
    year_3 = re.search(r"<tr><td>Year 3</td>((?:<td[^>]*>\d+</td>)+)", html)
    assert re.findall(r">(\d+)<", year_3.group(1)) == ["2", "1", "0", "1", "0"]
    assert "Social media policy" in html and "In date" in html  # the cast's policy, reviewed 100 days ago
    assert "2 keywords watched on 1 source not read yet" in html
    listening = html[html.index("<h2>Listening</h2>") :]
    assert figure(listening, "Passed to the safeguarding lead") == "1" and figure(listening, "New") == "1"
    assert "someone posted a photo of year 6" not in html and "Not watched:" in html


@pytest.mark.clause("AW-REP-1")
def test_it_never_shows_a_pupils_name_a_concerns_words_or_a_commenters_words(client, cast):
    seed_year(cast)
    client.force_login(cast.head)

    html = client.get(url(cast)).content.decode()

    for secret in (CONCERN_TEXT, PUPIL_FORENAME, PUPIL_SURNAME, COMMENT_TEXT, REASON_TEXT, "07700 900123"):
        assert secret not in html


@pytest.mark.clause("AW-REP-1")
def test_it_counts_nothing_from_another_school(client, cast):
    other = make_school("Other School")
    seed_year(other, published=5, returned=2)
    seed_year(cast, published=1, returned=0)
    client.force_login(cast.governor)

    html = client.get(url(cast)).content.decode()

    assert figure(html, "Posts published") == "1"
    assert figure(html, "Times a post was returned for changes") == "0"
    assert figure(html, "Take-downs asked for") == "1"
    assert "(2 of 4)" in html
    assert figure(html, "Hide") == "2"


@pytest.mark.clause("AW-REP-1")
def test_it_keeps_the_report_from_staff_volunteers_and_other_schools(client, cast):
    other = make_school("Other School")
    for person, status in [(cast.alice, 403), (cast.volunteer, 403), (other.chair, 403), (other.head, 403)]:
        client.force_login(person)
        assert client.get(url(cast)).status_code == status
        assert client.get(url(cast) + "pdf/").status_code == status
    client.logout()
    assert client.get(url(cast)).status_code == 302  # to the login page
    for person in (cast.head, cast.leader, cast.dsl, cast.deputy_dsl, cast.governor, cast.chair):
        client.force_login(person)
        assert client.get(url(cast)).status_code == 200


def test_it_covers_the_last_twelve_months_unless_dates_are_chosen(client, cast):
    today = timezone.localdate()
    period = default_period(today)
    assert period.end == today and period.start.day == 1 and len(period.months()) == 12
    old = timezone.now() - dt.timedelta(days=500)
    seed_year(cast, now=old, published=2, returned=0)
    client.force_login(cast.head)

    assert figure(client.get(url(cast)).content.decode(), "Posts published") == "0"
    chosen = client.get(url(cast), {"start": (old - dt.timedelta(days=2)).date(), "end": today}).content.decode()
    assert figure(chosen, "Posts published") == "2"


def test_it_refuses_a_period_that_ends_before_it_starts_or_after_today(client, cast):
    client.force_login(cast.head)
    today = timezone.localdate()

    backwards = client.get(url(cast), {"start": today, "end": today - dt.timedelta(days=3)})
    future = client.get(url(cast), {"start": today, "end": today + dt.timedelta(days=3)})

    assert backwards.status_code == 400 and "must start before it ends" in backwards.content.decode()
    assert future.status_code == 400 and "cannot end after today" in future.content.decode()


@pytest.mark.clause("AW-REP-1")
def test_it_audits_each_report_and_prints_the_verified_chain_head_after_that_entry(client, cast):
    client.force_login(cast.chair)

    html = client.get(url(cast)).content.decode()

    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry.action == "reporting.governors_report.viewed" and entry.actor_id == cast.chair.pk
    assert entry.school_id == cast.school.pk and entry.detail["output"] == "page"
    head = ChainHead.objects.get(pk=1)
    assert (head.last_seq, head.last_hash) == (entry.seq, entry.entry_hash)
    assert f"#{entry.seq}" in html and entry.entry_hash in html
    assert "Verified:" in html


def test_it_says_when_the_audit_chain_does_not_verify(client, cast):
    client.force_login(cast.head)
    client.get(url(cast))
    # Someone edits an entry in the database, behind the application's back.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET actor_label = 'someone else' WHERE seq = 1")

    html = client.get(url(cast)).content.decode()

    assert "Not verified: entry #1 is not as it was written" in html


def test_it_serves_the_page_with_no_inline_style_attribute_or_script(client, cast):
    seed_year(cast)
    client.force_login(cast.head)

    response = client.get(url(cast))

    html = response.content.decode()
    assert not re.search(r"\sstyle=", html) and "<script>" not in html
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    assert all(f'nonce="{nonce}"' in attributes for attributes in re.findall(r"<style([^>]*)>", html))
    assert html.count("<svg") >= 4 and 'fill="url(#hatch-consent)"' in html


def test_it_links_the_report_from_the_navigation_for_those_who_may_read_it(client, cast):
    client.force_login(cast.chair)
    assert url(cast) in client.get(f"/s/{cast.school.slug}/").content.decode()
    client.force_login(cast.alice)
    assert url(cast) not in client.get(f"/s/{cast.school.slug}/").content.decode()


def test_it_checks_the_chain_from_the_newest_signed_checkpoint(client, cast):
    from schoolgate.audit.actions import write_checkpoint

    client.force_login(cast.head)
    client.get(url(cast))
    checkpoint = write_checkpoint()

    html = client.get(url(cast)).content.decode()

    assert "the 1 entry since the last signed checkpoint, unbroken" in html
    assert f"#{checkpoint.seq}," in html
