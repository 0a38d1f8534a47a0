"""Drafting, editing, approving versions (AW-LIFE-1): start_new_version, save_draft, approve_version."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from schoolgate.audit.models import AuditEntry
from schoolgate.notifications.models import Notification
from schoolgate.policy.actions import approve_version, save_draft, start_new_version
from schoolgate.policy.models import (
    DocumentVersion,
    PolicySettings,
    VersionStatus,
    add_months,
)
from schoolgate.schools.models import Membership
from schoolgate.schools.roles import Role
from schoolgate.testing import make_school

pytestmark = [pytest.mark.django_db, pytest.mark.clause("AW-LIFE-1")]


def audit_entries(action: str, version: DocumentVersion):
    return AuditEntry.objects.filter(action=action, object_type="policy.documentversion", object_id=str(version.pk))


def reload(version: DocumentVersion) -> DocumentVersion:
    return DocumentVersion.objects.select_related("settings").get(pk=version.pk)


# start_new_version


def test_it_copies_the_current_text_and_settings_into_a_new_draft(cast):
    PolicySettings.objects.filter(version=cast.policy).update(
        required_reviewers=2,
        reply_deadline_hours=36,
        final_post_approver_role=Role.HEADTEACHER,
        final_approver_deputy_role=Role.LEADERSHIP,
        clock_pauses_weekends=False,
        bank_holiday_nation="WLS",
    )
    DocumentVersion.objects.filter(pk=cast.policy.pk).update(review_cycle_months=24)

    draft = start_new_version(cast.policy.document, by=cast.head)

    draft = reload(draft)
    assert draft.number == 2
    assert draft.status == VersionStatus.DRAFT
    assert draft.text == "Our policy.\n\nSecond paragraph."
    assert draft.review_cycle_months == 24
    assert draft.drafted_by == cast.head
    assert (draft.reviewed_on, draft.next_review_on, draft.became_current_at) == (None, None, None)
    assert not draft.approvals.exists()
    copied = draft.settings
    assert copied.pk != cast.policy.settings.pk
    assert (copied.required_reviewers, copied.reply_deadline_hours) == (2, 36)
    assert copied.final_post_approver_role == "headteacher"
    assert copied.final_approver_deputy_role == "leadership"
    assert copied.clock_pauses_weekends is False
    assert copied.bank_holiday_nation == "WLS"
    # The version in force is untouched until the draft is approved.
    assert reload(cast.policy).status == VersionStatus.CURRENT
    entry = audit_entries("policy.version.drafted", draft).get()
    assert entry.actor == cast.head
    assert entry.detail == {"copied_from": 1}


def test_it_lets_the_leadership_team_start_a_draft(cast):
    draft = start_new_version(cast.policy.document, by=cast.leader)

    assert draft.is_draft
    assert draft.drafted_by == cast.leader


@pytest.mark.parametrize("person", ["dsl", "deputy_dsl", "alice", "volunteer", "governor", "chair"])
def test_it_refuses_a_draft_from_anyone_who_does_not_lead_the_school(cast, person):
    with pytest.raises(PermissionDenied):
        start_new_version(cast.policy.document, by=getattr(cast, person))

    assert not cast.policy.document.versions.filter(status=VersionStatus.DRAFT).exists()
    assert not AuditEntry.objects.filter(action="policy.version.drafted").exists()


def test_it_refuses_a_draft_from_a_headteacher_of_another_school(cast):
    other = make_school("Other School")

    with pytest.raises(PermissionDenied):
        start_new_version(cast.policy.document, by=other.head)


def test_it_keeps_only_one_draft_open_at_a_time(cast):
    first = start_new_version(cast.policy.document, by=cast.head)

    with pytest.raises(ValidationError, match="already open"):
        start_new_version(cast.policy.document, by=cast.leader)

    assert list(cast.policy.document.versions.filter(status=VersionStatus.DRAFT)) == [first]
    # The database refuses a second draft even if the check in the action were bypassed.
    with pytest.raises(IntegrityError), transaction.atomic():
        DocumentVersion.objects.create(document=cast.policy.document, number=3, text="x", drafted_at=timezone.now())


def test_it_numbers_the_next_draft_after_the_highest_version(cast):
    draft = start_new_version(cast.policy.document, by=cast.head)
    approve_version(draft, by=cast.head, role=Role.HEADTEACHER)
    approve_version(draft, by=cast.chair, role=Role.CHAIR_OF_GOVERNORS)

    third = start_new_version(cast.policy.document, by=cast.head)

    assert third.number == 3


# save_draft


def test_it_saves_text_and_settings_together_and_audits_the_diff(cast):
    draft = start_new_version(cast.policy.document, by=cast.head)

    save_draft(
        draft,
        by=cast.leader,
        fields={"text": "New wording.", "change_summary": "Annual review"},
        settings={"reply_deadline_hours": 48, "final_post_approver_role": Role.HEADTEACHER},
    )

    draft = reload(draft)
    assert draft.text == "New wording."
    assert draft.change_summary == "Annual review"
    assert draft.settings.reply_deadline_hours == 48
    assert draft.settings.final_post_approver_role == "headteacher"
    entry = audit_entries("policy.version.edited", draft).get()
    assert entry.actor == cast.leader
    assert entry.changes == {
        "text": ["Our policy.\n\nSecond paragraph.", "New wording."],
        "change_summary": ["", "Annual review"],
        "reply_deadline_hours": [24, 48],
        "final_post_approver_role": ["", "headteacher"],
    }
    assert entry.detail == {"voided_approvals": []}


def test_it_writes_nothing_and_audits_nothing_when_nothing_changed(cast):
    draft = start_new_version(cast.policy.document, by=cast.head)
    approve_version(draft, by=cast.head, role=Role.HEADTEACHER)

    save_draft(draft, by=cast.leader, fields={"text": draft.text}, settings={"reply_deadline_hours": 24})

    assert not audit_entries("policy.version.edited", draft).exists()
    assert reload(draft).approval_for(Role.HEADTEACHER) is not None


def test_it_refuses_to_edit_a_version_that_is_in_force(cast):
    with pytest.raises(ValidationError, match="Only a draft"):
        save_draft(cast.policy, by=cast.head, fields={"text": "Rewritten in place."})

    assert reload(cast.policy).text == "Our policy.\n\nSecond paragraph."


@pytest.mark.parametrize("person", ["dsl", "alice", "chair"])
def test_it_refuses_edits_from_people_who_cannot_draft(cast, person):
    draft = start_new_version(cast.policy.document, by=cast.head)

    with pytest.raises(PermissionDenied):
        save_draft(draft, by=getattr(cast, person), fields={"text": "Sneaky edit."})

    assert reload(draft).text == "Our policy.\n\nSecond paragraph."


def test_it_refuses_an_unknown_setting_and_saves_nothing(cast):
    draft = start_new_version(cast.policy.document, by=cast.head)

    with pytest.raises(ValidationError, match="Unknown policy setting"):
        save_draft(draft, by=cast.head, fields={"text": "Changed."}, settings={"version_id": 999})

    assert reload(draft).text == "Our policy.\n\nSecond paragraph."


def test_it_voids_approvals_on_edit_and_tells_the_approvers(cast):
    draft = start_new_version(cast.policy.document, by=cast.leader)
    approve_version(draft, by=cast.head, role=Role.HEADTEACHER)
    Notification.objects.all().delete()

    save_draft(draft, by=cast.leader, fields={"text": "Wording changed after approval."})

    draft = reload(draft)
    assert draft.approval_for(Role.HEADTEACHER) is None
    assert draft.missing_approver_roles() == [Role.HEADTEACHER, Role.CHAIR_OF_GOVERNORS]
    voided = draft.approvals.get()
    assert voided.approved_by == cast.head
    assert voided.voided_at is not None  # kept, so the history shows the approval was given and voided
    assert audit_entries("policy.version.edited", draft).get().detail == {"voided_approvals": ["headteacher"]}
    notice = Notification.objects.get()
    assert notice.user == cast.head
    assert "approval was voided" in notice.subject
    assert notice.url == f"/s/{cast.school.slug}/policy/v/{draft.pk}/"
    # The draft stays a draft: the voided approval no longer counts towards making it current.
    approve_version(draft, by=cast.chair, role=Role.CHAIR_OF_GOVERNORS)
    assert reload(draft).is_draft


def test_it_does_not_notify_the_editor_about_their_own_voided_approval(cast):
    draft = start_new_version(cast.policy.document, by=cast.head)
    approve_version(draft, by=cast.head, role=Role.HEADTEACHER)
    Notification.objects.all().delete()

    save_draft(draft, by=cast.head, fields={"text": "The head changed their mind."})

    assert reload(draft).approval_for(Role.HEADTEACHER) is None
    assert not Notification.objects.exists()


def test_it_lets_the_approver_approve_again_after_their_approval_was_voided(cast):
    draft = start_new_version(cast.policy.document, by=cast.leader)
    approve_version(draft, by=cast.head, role=Role.HEADTEACHER)
    save_draft(draft, by=cast.leader, fields={"text": "Changed."})

    approve_version(draft, by=cast.head, role=Role.HEADTEACHER)
    approve_version(draft, by=cast.chair, role=Role.CHAIR_OF_GOVERNORS)

    draft = reload(draft)
    assert draft.is_current
    assert draft.approvals.count() == 3
    assert draft.valid_approvals().count() == 2


# approve_version


def test_it_tells_the_chair_when_a_draft_waits_only_for_their_approval(cast):
    draft = start_new_version(cast.policy.document, by=cast.leader)
    save_draft(draft, by=cast.leader, fields={"text": "Reviewed wording."})

    approve_version(draft, by=cast.head, role=Role.HEADTEACHER)

    waiting = Notification.objects.filter(subject__contains="waits for your approval")
    assert [n.user for n in waiting] == [cast.chair]
    assert waiting.get().url == f"/s/{cast.school.slug}/policy/v/{draft.pk}/"


def test_it_makes_the_version_current_once_the_headteacher_and_the_chair_have_approved(cast):
    draft = start_new_version(cast.policy.document, by=cast.leader)
    save_draft(draft, by=cast.leader, fields={"text": "Reviewed wording.", "review_cycle_months": 24})
    before = timezone.now()

    approve_version(draft, by=cast.head, role=Role.HEADTEACHER)

    draft = reload(draft)
    assert draft.is_draft
    assert draft.missing_approver_roles() == [Role.CHAIR_OF_GOVERNORS]
    assert reload(cast.policy).is_current

    approve_version(draft, by=cast.chair, role=Role.CHAIR_OF_GOVERNORS)

    after = timezone.now()
    draft = reload(draft)
    today = timezone.localdate()
    assert draft.status == VersionStatus.CURRENT
    assert draft.reviewed_on == today
    assert draft.next_review_on == add_months(today, 24)
    assert before <= draft.became_current_at <= after
    head_approval = draft.approval_for(Role.HEADTEACHER)
    chair_approval = draft.approval_for(Role.CHAIR_OF_GOVERNORS)
    assert head_approval.approved_by == cast.head
    assert chair_approval.approved_by == cast.chair
    assert before <= head_approval.approved_at <= chair_approval.approved_at <= after
    previous = reload(cast.policy)
    assert previous.status == VersionStatus.SUPERSEDED
    assert cast.policy.document.current_version() == draft
    assert [e.detail["role"] for e in audit_entries("policy.version.approved", draft)] == [
        "headteacher",
        "chair_of_governors",
    ]
    assert audit_entries("policy.version.became_current", draft).get().detail == {
        "superseded": 1,
        "next_review_on": add_months(today, 24).isoformat(),
    }


def test_it_asks_every_member_to_read_the_new_version(cast):
    draft = start_new_version(cast.policy.document, by=cast.leader)
    approve_version(draft, by=cast.head, role=Role.HEADTEACHER)
    approve_version(draft, by=cast.chair, role=Role.CHAIR_OF_GOVERNORS)

    asked = Notification.objects.filter(subject__startswith="Please read", school=cast.school)
    assert {n.user for n in asked} == set(cast.everyone())


def test_it_takes_approvals_in_either_order(cast):
    draft = start_new_version(cast.policy.document, by=cast.head)

    approve_version(draft, by=cast.chair, role=Role.CHAIR_OF_GOVERNORS)
    assert reload(draft).is_draft
    approve_version(draft, by=cast.head, role=Role.HEADTEACHER)

    assert reload(draft).is_current


@pytest.mark.parametrize(
    ("person", "role"),
    [
        ("alice", Role.HEADTEACHER),
        ("alice", Role.CHAIR_OF_GOVERNORS),
        ("leader", Role.HEADTEACHER),
        ("dsl", Role.HEADTEACHER),
        ("governor", Role.CHAIR_OF_GOVERNORS),
        ("head", Role.CHAIR_OF_GOVERNORS),
        ("chair", Role.HEADTEACHER),
    ],
)
def test_it_lets_only_the_holder_of_the_role_approve_in_it(cast, person, role):
    draft = start_new_version(cast.policy.document, by=cast.head)

    with pytest.raises(PermissionDenied):
        approve_version(draft, by=getattr(cast, person), role=role)

    assert not draft.approvals.exists()
    assert not audit_entries("policy.version.approved", draft).exists()


def test_it_refuses_the_headteacher_of_another_school(cast):
    other = make_school("Other School")
    draft = start_new_version(cast.policy.document, by=cast.head)

    with pytest.raises(PermissionDenied):
        approve_version(draft, by=other.head, role=Role.HEADTEACHER)


@pytest.mark.parametrize("role", [Role.STAFF, Role.LEADERSHIP, Role.GOVERNOR])
def test_it_refuses_approval_in_a_role_that_does_not_approve_policy(cast, role):
    draft = start_new_version(cast.policy.document, by=cast.head)
    person = {Role.STAFF: cast.alice, Role.LEADERSHIP: cast.leader, Role.GOVERNOR: cast.governor}[role]

    with pytest.raises(ValidationError, match="headteacher and the chair of governors"):
        approve_version(draft, by=person, role=role)

    assert not draft.approvals.exists()


def test_it_refuses_to_approve_twice_in_the_same_role(cast):
    draft = start_new_version(cast.policy.document, by=cast.head)
    approve_version(draft, by=cast.head, role=Role.HEADTEACHER)

    with pytest.raises(ValidationError, match="already approved"):
        approve_version(draft, by=cast.head, role=Role.HEADTEACHER)

    assert draft.approvals.count() == 1
    assert audit_entries("policy.version.approved", draft).count() == 1


def test_it_needs_two_different_people_even_when_one_holds_both_roles(cast):
    Membership.objects.create(school=cast.school, user=cast.head, role=Role.CHAIR_OF_GOVERNORS)
    draft = start_new_version(cast.policy.document, by=cast.head)
    approve_version(draft, by=cast.head, role=Role.HEADTEACHER)

    with pytest.raises(ValidationError, match="someone else"):
        approve_version(draft, by=cast.head, role=Role.CHAIR_OF_GOVERNORS)

    assert reload(draft).status == VersionStatus.DRAFT
    approve_version(draft, by=cast.chair, role=Role.CHAIR_OF_GOVERNORS)
    assert reload(draft).status == VersionStatus.CURRENT


def test_it_refuses_approval_of_a_version_that_is_no_longer_a_draft(cast):
    draft = start_new_version(cast.policy.document, by=cast.head)
    approve_version(draft, by=cast.head, role=Role.HEADTEACHER)
    approve_version(draft, by=cast.chair, role=Role.CHAIR_OF_GOVERNORS)

    for version in (draft, cast.policy):
        with pytest.raises(ValidationError, match="no longer a draft"):
            approve_version(version, by=cast.chair, role=Role.CHAIR_OF_GOVERNORS)

    assert reload(cast.policy).status == VersionStatus.SUPERSEDED


def test_it_refuses_to_approve_an_empty_policy(cast):
    draft = start_new_version(cast.policy.document, by=cast.head)
    DocumentVersion.objects.filter(pk=draft.pk).update(text="  \n ")

    with pytest.raises(ValidationError, match="empty"):
        approve_version(draft, by=cast.head, role=Role.HEADTEACHER)


def test_it_approves_through_the_version_page(client, cast):
    draft = start_new_version(cast.policy.document, by=cast.head)
    url = f"/s/{cast.school.slug}/policy/v/{draft.pk}/approve/"

    client.force_login(cast.alice)
    assert client.post(url + "headteacher/").status_code == 403
    client.force_login(cast.head)
    response = client.post(url + "headteacher/", follow=True)
    assert "Waiting for: chair of governors" in response.content.decode()
    client.force_login(cast.chair)
    response = client.post(url + "chair_of_governors/", follow=True)

    next_review = add_months(timezone.localdate(), 12)
    assert f"next review {next_review:%-d %B %Y}" in response.content.decode()
    assert reload(draft).is_current


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (dt.date(2025, 9, 1), 12, dt.date(2026, 9, 1)),
        (dt.date(2025, 11, 15), 3, dt.date(2026, 2, 15)),
        (dt.date(2024, 1, 31), 1, dt.date(2024, 2, 29)),
        (dt.date(2025, 1, 31), 1, dt.date(2025, 2, 28)),
        (dt.date(2024, 2, 29), 12, dt.date(2025, 2, 28)),
        (dt.date(2025, 12, 31), 36, dt.date(2028, 12, 31)),
    ],
)
def test_it_adds_the_review_cycle_in_calendar_months(start, months, expected):
    assert add_months(start, months) == expected
