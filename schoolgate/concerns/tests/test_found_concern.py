"""Concerns that no person typed in (AW-CON-1): found by Schoolgate's screening of an official account. They are
recorded and their readers told exactly like a report; the pages name what found them where they would name the
reporter, and nobody gets a receipt."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from schoolgate.concerns import actions
from schoolgate.concerns.models import Category, Concern, WhereKind
from schoolgate.notifications.models import Notification

pytestmark = pytest.mark.django_db

SOURCE = "Found by Schoolgate's screening of Year 6 news (Bluesky)"


def found(cast, **kwargs):
    fields = {
        "source": SOURCE,
        "category": Category.DISCLOSURE,
        "text": "Reply on Year 6 news: nobody believes me",
        "happened_at": timezone.now() - dt.timedelta(minutes=10),
        "where_kind": WhereKind.OFFICIAL_ACCOUNT,
        "network": "bluesky",
        "evidence": [("reply.json", "application/json", json.dumps({"text": "nobody believes me"}).encode())],
    }
    fields.update(kwargs)
    return actions.record_found_concern(cast.school, **fields)


@pytest.mark.clause("AW-CON-1")
def test_it_records_a_found_concern_and_tells_its_readers_without_its_content(client, cast):
    concern = found(cast)
    assert concern.reported_by is None and concern.source == SOURCE
    told = Notification.objects.filter(subject="A new concern needs your attention")
    assert {n.user for n in told} == {cast.dsl, cast.deputy_dsl, cast.head}
    assert not Notification.objects.filter(subject="Your concern has been received").exists()
    assert all("believes" not in n.body for n in Notification.objects.all())

    client.force_login(cast.dsl)
    page = client.get(f"/s/{cast.school.slug}/concerns/{concern.pk}/").content.decode()
    assert "Found by Schoolgate&#x27;s screening of Year 6 news (Bluesky)" in page and "nobody believes me" in page
    # The first read tells a reporter who read it; here there is no one to tell, and nothing breaks.
    assert not Notification.objects.filter(subject="Your concern has been read").exists()
    evidence = concern.evidence.get()
    download = client.get(f"/s/{cast.school.slug}/concerns/{concern.pk}/evidence/{evidence.pk}/")
    assert download["Content-Type"] == "application/json" and download["Content-Disposition"].startswith("attachment")
    assert json.loads(download.content) == {"text": "nobody believes me"}


def test_it_shows_the_source_in_a_staff_members_chronology(client, cast):
    found(cast, category=Category.COLLEAGUE_ABUSE, staff=[cast.bob], text="A reply by a colleague")
    client.force_login(cast.dsl)
    page = client.get(f"/s/{cast.school.slug}/concerns/staff/{cast.bob.pk}/chronology/").content.decode()
    assert "Found by Schoolgate&#x27;s screening of Year 6 news" in page


def test_it_needs_a_person_or_a_source_and_something_to_record(cast):
    with pytest.raises(ValidationError) as refused:
        found(cast, source=" ", text="")
    assert set(refused.value.message_dict) == {"source", "text"}
    with transaction.atomic(), pytest.raises(IntegrityError):
        Concern.objects.create(
            school=cast.school,
            happened_on=timezone.localdate(),
            category=Category.OTHER,
            where_kind=WhereKind.OFFICIAL_ACCOUNT,
            content_encrypted="x",
        )


def test_it_never_dates_a_found_concern_in_the_future(cast):
    concern = found(cast, happened_at=timezone.now() + dt.timedelta(minutes=5))
    assert dt.datetime.combine(concern.happened_on, concern.happened_time) <= timezone.localtime().replace(tzinfo=None)
