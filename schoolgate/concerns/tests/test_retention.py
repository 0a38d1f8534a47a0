"""Retention: each concern's review date from the school's rules (a pupil's date of birth + 25 years; an allegation
against staff until pension age or 10 years, whichever is longer), the retention list, and review decisions.
Nothing is ever deleted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from schoolgate.concerns import actions
from schoolgate.concerns.models import Category, Concern, ConcernSettings
from schoolgate.concerns.retention import add_years, retention_of
from schoolgate.concerns.tests.helpers import report
from schoolgate.pupils.models import Pupil

pytestmark = pytest.mark.django_db


def settings_of(cast):
    return ConcernSettings.objects.filter(school=cast.school).first() or ConcernSettings(school=cast.school)


def review_on(concern):
    concern.refresh_from_db()
    return concern.review_on


def test_it_keeps_a_pupils_record_until_their_date_of_birth_plus_25_years(client, cast):
    born = dt.date(2016, 2, 29)
    pupil = Pupil.objects.create(
        school=cast.school, upn="R1", legal_forename="Ria", legal_surname="R", date_of_birth=born
    )
    concern = report(cast, pupils=[pupil])
    assert review_on(concern) == dt.date(2041, 2, 28)
    client.force_login(cast.dsl)
    page = client.get(f"/s/{cast.school.slug}/concerns/{concern.pk}/").content.decode()
    assert 'id="concern-retention">28 February 2041' in page and "date of birth + 25 years" in page


def test_it_falls_back_to_the_longest_safe_rule_without_a_date_of_birth(client, cast):
    pupil = Pupil.objects.create(school=cast.school, upn="R2", legal_forename="Noah", legal_surname="N")
    concern = report(cast, pupils=[pupil])
    assert review_on(concern) == add_years(timezone.localdate(), 25)
    client.force_login(cast.dsl)
    page = client.get(f"/s/{cast.school.slug}/concerns/{concern.pk}/").content.decode()
    assert "Noah N&#x27;s date of birth is not recorded" in page
    # The pupil's date of birth arrives (an import): the nightly refresh moves the date.
    Pupil.objects.filter(pk=pupil.pk).update(date_of_birth=dt.date(2014, 9, 1))
    from schoolgate.concerns.tasks import refresh_concern_review_dates

    refresh_concern_review_dates.call_local()
    assert review_on(concern) == dt.date(2039, 9, 1)


def test_it_keeps_an_allegation_until_pension_age_or_ten_years_whichever_is_longer(client, cast):
    concern = report(cast, staff=[cast.bob], category=Category.STAFF_CONDUCT)
    subject = concern.subjects.get()
    ten_years = add_years(timezone.localdate(), 10)
    assert review_on(concern) == ten_years
    assert "pension date is not known" in retention_of(concern, settings_of(cast)).unknown[0]
    # Born 1980: pension age 67 in 2047, later than ten years from now.
    actions.record_staff_dates(subject, by=cast.head, date_of_birth=dt.date(1980, 4, 2))
    assert review_on(concern) == dt.date(2047, 4, 2)
    # A pension date sooner than ten years: the ten years hold.
    actions.record_staff_dates(subject, by=cast.head, pension_on=timezone.localdate() + dt.timedelta(days=400))
    assert review_on(concern) == ten_years
    client.force_login(cast.head)
    url = f"/s/{cast.school.slug}/concerns/{concern.pk}/subjects/{subject.pk}/dates/"
    response = client.post(url, {f"subject-{subject.pk}-date_of_birth": "2024-01-01"})
    assert response.status_code == 400 and "cannot be right for a member of staff" in response.content.decode()
    response = client.post(url, {f"subject-{subject.pk}-date_of_birth": "1990-01-01"})
    assert response.status_code == 302
    assert review_on(concern) == dt.date(2057, 1, 1)
    # Only readers of the concern record the dates.
    client.force_login(cast.deputy_dsl)
    assert client.post(url, {f"subject-{subject.pk}-date_of_birth": "1970-01-01"}).status_code == 404
    assert review_on(concern) == dt.date(2057, 1, 1)


def test_it_reads_the_retention_rules_from_the_settings(cast):
    pupil = Pupil.objects.create(
        school=cast.school, upn="R3", legal_forename="S", legal_surname="S", date_of_birth=dt.date(2015, 1, 10)
    )
    concern = report(cast, pupils=[pupil])
    settings = settings_of(cast)
    settings.retention_pupil_years = 30
    settings.save()
    cast.school._concern_settings = settings
    assert retention_of(concern, settings).review_on == dt.date(2045, 1, 10)


def test_it_lists_the_records_due_for_review_and_records_the_decision_to_keep(client, cast):
    old_pupil = Pupil.objects.create(
        school=cast.school, upn="R4", legal_forename="Olly", legal_surname="Old", date_of_birth=dt.date(1998, 5, 1)
    )
    due = report(cast, pupils=[old_pupil])
    soon_pupil = Pupil.objects.create(
        school=cast.school,
        upn="R5",
        legal_forename="Sue",
        legal_surname="Soon",
        date_of_birth=add_years(timezone.localdate(), -25) + dt.timedelta(days=60),
    )
    soon = report(cast, pupils=[soon_pupil])
    later = report(cast)
    client.force_login(cast.dsl)
    url = f"/s/{cast.school.slug}/concerns/retention/"
    now_only = client.get(f"{url}?within=0").content.decode()
    assert due.reference in now_only and soon.reference not in now_only and later.reference not in now_only
    six_months = client.get(url).content.decode()
    assert due.reference in six_months and soon.reference in six_months and later.reference not in six_months
    client.force_login(cast.alice)
    assert client.get(url).status_code == 403

    client.force_login(cast.dsl)
    entries = f"/s/{cast.school.slug}/concerns/{due.pk}/entries/"
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    refused = client.post(entries, {"kind": "retention", "keep_until": yesterday, "reason": "Sibling on roll."})
    assert refused.status_code == 400 and "Choose a date in the future" in refused.content.decode()
    assert "Sibling on roll." in refused.content.decode()
    refused = client.post(entries, {"kind": "retention", "keep_until": "2099-01-01"})
    assert refused.status_code == 400 and "Say why the record is kept" in refused.content.decode()
    keep = add_years(timezone.localdate(), 2)
    response = client.post(entries, {"kind": "retention", "keep_until": keep.isoformat(), "reason": "Sibling on roll."})
    assert response.status_code == 302
    assert review_on(due) == keep
    assert due.reference not in client.get(f"{url}?within=12").content.decode()
    # Nothing was deleted, nor will be: the record and its entries are all there.
    assert Concern.objects.count() == 3 and due.entries.get(kind="retention").keep_until == keep


def test_it_refuses_a_review_that_would_keep_a_record_less_long_than_the_rules(cast):
    concern = report(cast)  # about nobody on the roll: 25 years from now
    with pytest.raises(actions.ValidationError, match="The retention rules keep this record until"):
        actions.add_entry(
            concern, by=cast.dsl, kind="retention", keep_until=add_years(timezone.localdate(), 3), reason="Enough."
        )


def test_it_counts_the_records_due_on_the_dashboard(client, cast):
    pupil = Pupil.objects.create(
        school=cast.school, upn="R6", legal_forename="D", legal_surname="D", date_of_birth=dt.date(1990, 1, 1)
    )
    report(cast, pupils=[pupil])
    client.force_login(cast.dsl)
    page = client.get(f"/s/{cast.school.slug}/").content.decode()
    assert "1 record due for a retention review" in page
