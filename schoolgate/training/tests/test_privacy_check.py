"""The personal-account privacy self-check: on the school's schedule, answers kept for the person (AW-STAFF-2)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from schoolgate.audit.models import AuditEntry
from schoolgate.notifications.models import Notification
from schoolgate.policy.models import add_months
from schoolgate.training.actions import complete_privacy_check, own_privacy_checks, save_settings
from schoolgate.training.models import PrivacyCheck
from schoolgate.training.privacy import ITEMS, Answer
from schoolgate.training.tests.helpers import all_answers, due_of, set_up

pytestmark = pytest.mark.django_db

# What a leader's page would show if it showed anyone's answers.
ANSWER_WORDS = [item.question for item in ITEMS] + [Answer.NOT_YET.label, Answer.NOT_APPLICABLE.label]


@pytest.mark.clause("AW-STAFF-2")
def test_it_schedules_the_next_self_check_from_the_schools_setting(cast):
    set_up(cast)
    assert due_of(cast, cast.alice, None).state(timezone.localdate(), soon_days=14) == "overdue"

    complete_privacy_check(cast.school, by=cast.alice, answers=all_answers())
    today = timezone.localdate()
    assert due_of(cast, cast.alice, None).due_on == add_months(today, 12)

    save_settings(cast.school, by=cast.head, privacy_check_months=6)
    assert due_of(cast, cast.alice, None).due_on == add_months(today, 6)


@pytest.mark.clause("AW-STAFF-2")
def test_it_covers_each_piece_of_advice_the_policy_gives_staff(client, cast):
    set_up(cast)
    client.force_login(cast.alice)

    page = client.get(f"/s/{cast.school.slug}/training/privacy-check/").content.decode()
    questions = " ".join(re.findall(r"<legend>(.*?)</legend>", page, flags=re.DOTALL)).lower()

    for words in ["privacy settings", "location sharing", "publicly list", "log out", "passwords", "personal views"]:
        assert words in questions, words


@pytest.mark.clause("AW-STAFF-2")
def test_it_shows_leaders_who_has_done_the_check_and_when_but_never_the_answers(client, cast):
    set_up(cast)
    complete_privacy_check(cast.school, by=cast.alice, answers=all_answers(Answer.NOT_YET))
    complete_privacy_check(cast.school, by=cast.bob, answers=all_answers(Answer.NOT_APPLICABLE))
    PrivacyCheck.objects.filter(user=cast.bob).update(completed_at=timezone.now() - dt.timedelta(days=400))
    today = timezone.localdate()

    for person in (cast.head, cast.dsl, cast.governor):
        client.force_login(person)
        for page in ("records", "overdue"):
            html = client.get(f"/s/{cast.school.slug}/training/{page}/").content.decode()
            assert not [words for words in ANSWER_WORDS if words in html], (person, page)
        records = client.get(f"/s/{cast.school.slug}/training/records/").content.decode()
        privacy_part = records[records.index('id="privacy-h"') :]
        assert "Alice Staff" in privacy_part and f"{today:%-d %B %Y}" in privacy_part
        overdue = client.get(f"/s/{cast.school.slug}/training/overdue/").content.decode()
        assert "Bob Staff" in overdue  # his check is overdue
    with pytest.raises(PermissionDenied):
        own_privacy_checks(cast.school, user=cast.alice, by=cast.head)


@pytest.mark.clause("AW-STAFF-2")
def test_it_keeps_the_answers_out_of_the_audit_log_and_notifications(cast):
    set_up(cast)
    complete_privacy_check(cast.school, by=cast.alice, answers=all_answers(Answer.NOT_YET))

    entry = AuditEntry.objects.get(action="training.privacy_check.completed")
    assert entry.detail == {} and entry.changes == {}
    assert "not_yet" not in entry.object_repr
    assert not Notification.objects.filter(body__icontains="not yet").exists()


def test_it_shows_the_person_their_own_answers_and_what_is_still_to_do(client, cast):
    set_up(cast)
    answers = {**all_answers(), "location_sharing": Answer.NOT_YET}
    client.force_login(cast.alice)

    response = client.post(f"/s/{cast.school.slug}/training/privacy-check/", answers)

    assert response.status_code == 302
    page = client.get(f"/s/{cast.school.slug}/training/privacy-check/").content.decode()
    assert "Still to do from your last check" in page and "Location sharing" in page
    assert re.search(r'name="location_sharing" value="not_yet"[^>]*checked', page)


def test_it_refuses_a_check_with_an_item_unanswered_and_saves_nothing(client, cast):
    set_up(cast)
    answers = all_answers()
    del answers["passwords"]
    client.force_login(cast.alice)

    response = client.post(f"/s/{cast.school.slug}/training/privacy-check/", answers)

    assert response.status_code == 400
    assert not PrivacyCheck.objects.exists()
    with pytest.raises(ValidationError):
        complete_privacy_check(cast.school, by=cast.alice, answers=answers)


def test_it_asks_only_staff_and_volunteers_to_do_the_check(cast):
    set_up(cast)

    assert due_of(cast, cast.volunteer, None) is not None
    assert due_of(cast, cast.governor, None) is None
    with pytest.raises(ValidationError):
        complete_privacy_check(cast.school, by=cast.governor, answers=all_answers())
