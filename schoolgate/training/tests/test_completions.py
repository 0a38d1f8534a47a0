"""Recording training: attendance by leaders and safeguarding leads, self-records confirmed by them (RS-ROLE-3)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from schoolgate.audit.models import AuditEntry
from schoolgate.notifications.models import Notification
from schoolgate.training.actions import (
    confirm_completion,
    decline_completion,
    record_attendance,
    record_own_completion,
)
from schoolgate.training.models import Completion, CompletionStatus
from schoolgate.training.tests.helpers import days, due_of, induction, set_up

pytestmark = pytest.mark.django_db


@pytest.mark.clause("RS-ROLE-3")
def test_it_records_attendance_for_several_people_with_an_audit_entry_each(cast):
    set_up(cast)

    made = record_attendance(
        induction(cast), by=cast.dsl, users=[cast.alice, cast.bob], completed_on=days(-2), note="Run by the DSL"
    )

    assert {(c.user, c.status, c.decided_by) for c in made} == {
        (cast.alice, CompletionStatus.CONFIRMED, cast.dsl),
        (cast.bob, CompletionStatus.CONFIRMED, cast.dsl),
    }
    entries = AuditEntry.objects.filter(action="training.completion.recorded", school=cast.school)
    assert entries.count() == 2
    assert {e.detail["user"] for e in entries} == {cast.alice.email, cast.bob.email}
    assert due_of(cast, cast.alice, induction(cast)).due_on is None


@pytest.mark.clause("RS-ROLE-3")
def test_it_lets_only_leaders_and_safeguarding_leads_record_attendance(cast):
    set_up(cast)

    for person in (cast.alice, cast.volunteer, cast.governor, cast.chair):
        with pytest.raises(PermissionDenied):
            record_attendance(induction(cast), by=person, users=[cast.bob], completed_on=days(-1))
    assert not Completion.objects.exists()


@pytest.mark.clause("RS-ROLE-3")
def test_it_keeps_a_leaders_own_record_waiting_for_a_colleague_to_confirm(cast):
    set_up(cast)
    (own,) = record_attendance(induction(cast), by=cast.leader, users=[cast.leader], completed_on=days(-1))

    assert own.status == CompletionStatus.PENDING
    with pytest.raises(PermissionDenied):
        confirm_completion(own, by=cast.leader)
    confirm_completion(own, by=cast.head)
    own.refresh_from_db()
    assert (own.status, own.decided_by) == (CompletionStatus.CONFIRMED, cast.head)


def test_it_asks_the_record_keepers_to_confirm_a_self_record_and_clears_the_ask_once_done(cast):
    set_up(cast)
    completion = record_own_completion(induction(cast), by=cast.alice, completed_on=days(-3))

    asked = Notification.objects.filter(about=f"training:completion:{completion.pk}:confirm")
    assert {n.user for n in asked} == {cast.head, cast.dsl, cast.deputy_dsl, cast.leader}
    confirm_completion(completion, by=cast.deputy_dsl)
    assert not asked.filter(resolved_at__isnull=True).exists()


def test_it_turns_down_a_self_record_with_a_reason_and_tells_the_person(cast):
    set_up(cast)
    completion = record_own_completion(induction(cast), by=cast.alice, completed_on=days(-3))

    with pytest.raises(ValidationError):
        decline_completion(completion, by=cast.dsl, reason="   ")
    decline_completion(completion, by=cast.dsl, reason="That session was cancelled; please book the next one.")

    completion.refresh_from_db()
    assert completion.status == CompletionStatus.DECLINED
    told = Notification.objects.get(user=cast.alice)
    assert "cancelled" in told.body
    with pytest.raises(ValidationError):
        confirm_completion(completion, by=cast.head)  # decided already
    assert due_of(cast, cast.alice, induction(cast)).due_on is not None


def test_it_refuses_a_date_in_the_future_and_saves_nothing(cast):
    set_up(cast)

    with pytest.raises(ValidationError) as error:
        record_attendance(induction(cast), by=cast.head, users=[cast.alice], completed_on=days(3))
    assert "future" in str(error.value)
    assert not Completion.objects.exists()


def test_it_records_the_same_session_once_when_it_is_submitted_twice(cast):
    set_up(cast)
    record_attendance(induction(cast), by=cast.head, users=[cast.alice], completed_on=days(-1))

    made = record_attendance(induction(cast), by=cast.dsl, users=[cast.alice, cast.bob], completed_on=days(-1))

    assert [c.user for c in made] == [cast.bob]
    with pytest.raises(ValidationError):
        record_attendance(induction(cast), by=cast.dsl, users=[cast.alice], completed_on=days(-1))


def test_it_refuses_to_record_someone_from_another_school(cast):
    from schoolgate.testing import make_school

    set_up(cast)
    other = make_school("Other School")

    with pytest.raises(ValidationError):
        record_attendance(induction(cast), by=cast.head, users=[cast.alice, other.bob], completed_on=days(-1))
    assert not Completion.objects.exists()


# The pages


def test_it_records_attendance_from_the_form(client, cast):
    set_up(cast)
    client.force_login(cast.dsl)
    url = f"/s/{cast.school.slug}/training/attendance/"

    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {"course": induction(cast).pk, "completed_on": days(-1).isoformat(), "users": [cast.alice.pk], "note": "Hall"},
    )

    assert response.status_code == 302
    assert Completion.objects.get().user == cast.alice


def test_it_keeps_what_was_typed_when_the_attendance_form_is_refused(client, cast):
    set_up(cast)
    client.force_login(cast.dsl)

    response = client.post(
        f"/s/{cast.school.slug}/training/attendance/",
        {"course": induction(cast).pk, "completed_on": days(5).isoformat(), "users": [cast.alice.pk], "note": "Hall B"},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "future" in page and 'value="Hall B"' in page
    assert not Completion.objects.exists()


def test_it_lets_a_member_record_their_own_training_and_a_leader_confirm_it_on_the_records_page(client, cast):
    set_up(cast)
    client.force_login(cast.alice)
    response = client.post(
        f"/s/{cast.school.slug}/training/record/",
        {"course": induction(cast).pk, "completed_on": days(-1).isoformat(), "note": "Online module"},
    )
    assert response.status_code == 302
    completion = Completion.objects.get()

    client.force_login(cast.head)
    page = client.get(f"/s/{cast.school.slug}/training/records/").content.decode()
    assert "Online module" in page and f"/completions/{completion.pk}/confirm/" in page
    client.post(f"/s/{cast.school.slug}/training/completions/{completion.pk}/confirm/")

    completion.refresh_from_db()
    assert completion.status == CompletionStatus.CONFIRMED


def test_it_refuses_confirmation_by_someone_who_does_not_keep_the_records(client, cast):
    set_up(cast)
    completion = record_own_completion(induction(cast), by=cast.alice, completed_on=days(-1))
    client.force_login(cast.bob)

    response = client.post(f"/s/{cast.school.slug}/training/completions/{completion.pk}/confirm/")

    assert response.status_code == 403
    completion.refresh_from_db()
    assert completion.status == CompletionStatus.PENDING
