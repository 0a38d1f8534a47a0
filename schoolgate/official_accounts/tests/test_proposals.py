"""Proposing an official account and the approver's decision (RS-ACC-1, AW-ACC-1, AW-ACC-2, AW-ACC-4, AW-SCOPE-2)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from schoolgate.audit.models import AuditEntry
from schoolgate.notifications.models import Notification
from schoolgate.official_accounts.actions import approve_account, propose_account, reject_account
from schoolgate.official_accounts.models import AccountStatus, ChannelKind, OfficialAccount
from schoolgate.schools.roles import Role


@pytest.mark.clause("RS-ACC-1")
@pytest.mark.parametrize("missing", ["aim", "intended_audience", "promotion", "visibility"])
def test_it_refuses_a_proposal_without_aim_audience_promotion_or_openness(cast, proposal_data, missing):
    proposal_data[missing] = ""
    with pytest.raises(ValidationError) as error:
        propose_account(cast.school, by=cast.alice, data=proposal_data)
    assert missing in error.value.message_dict
    assert not OfficialAccount.objects.exists()


@pytest.mark.clause("AW-ACC-1")
@pytest.mark.parametrize("missing", ["objectives", "intended_outcomes"])
def test_it_refuses_a_proposal_without_objectives_and_outcomes(cast, proposal_data, missing):
    proposal_data[missing] = ""
    with pytest.raises(ValidationError) as error:
        propose_account(cast.school, by=cast.alice, data=proposal_data)
    assert missing in error.value.message_dict


@pytest.mark.clause("AW-ACC-2")
@pytest.mark.parametrize("missing", ["risks", "likelihood", "mitigations"])
def test_it_refuses_a_proposal_without_a_risk_assessment(cast, proposal_data, missing):
    proposal_data[missing] = ""
    with pytest.raises(ValidationError) as error:
        propose_account(cast.school, by=cast.alice, data=proposal_data)
    assert missing in error.value.message_dict


def test_it_records_the_proposal_audits_it_and_tells_the_approver(cast, proposal_data):
    account = propose_account(cast.school, by=cast.volunteer, data=proposal_data)
    assert account.status == AccountStatus.PROPOSED and account.proposed_by == cast.volunteer
    entry = AuditEntry.objects.get(action="accounts.proposed")
    assert entry.detail["aim"] == proposal_data["aim"] and entry.actor == cast.volunteer
    assert Notification.objects.filter(user=cast.head, subject__contains="Test School news").exists()
    assert not Notification.objects.filter(user=cast.alice).exists()


@pytest.mark.clause("AW-ACC-4")
def test_it_refuses_a_registration_email_outside_the_schools_domains(cast, proposal_data):
    proposal_data["registration_email"] = "teacher.personal@gmail.com"
    with pytest.raises(ValidationError) as error:
        propose_account(cast.school, by=cast.alice, data=proposal_data)
    assert "school address" in error.value.message_dict["registration_email"][0]
    assert not OfficialAccount.objects.exists()


@pytest.mark.clause("AW-ACC-4")
def test_it_accepts_any_of_several_school_domains(cast, proposal_data):
    cast.school.email_domains = "testschool.sch.uk, friends-of-test.org.uk"
    cast.school.save(update_fields=["email_domains"])
    proposal_data["registration_email"] = "chair@Friends-of-Test.org.uk"
    assert propose_account(cast.school, by=cast.alice, data=proposal_data).pk


@pytest.mark.clause("AW-ACC-4")
def test_it_checks_the_domain_again_at_approval(cast, proposal_data):
    # Proposed with an address at the school's domain; the school then moves to a new domain.
    account = propose_account(cast.school, by=cast.alice, data=proposal_data)
    cast.school.email_domains = "newschool.sch.uk"
    cast.school.save(update_fields=["email_domains"])
    with pytest.raises(ValidationError) as error:
        approve_account(account, by=cast.head)
    assert "school address" in " ".join(error.value.messages)
    account.refresh_from_db()
    assert account.status == AccountStatus.PROPOSED
    assert not AuditEntry.objects.filter(action="accounts.approved").exists()


@pytest.mark.clause("AW-PUB-6")
def test_it_authorises_the_staff_member_who_proposed_the_account_once_approved(cast, proposal_data):
    account = approve_account(propose_account(cast.school, by=cast.alice, data=proposal_data), by=cast.head)
    assert list(account.authorised_staff.all()) == [cast.alice]
    entry = AuditEntry.objects.get(action="accounts.authorised_staff.changed")
    assert entry.actor == cast.head and entry.changes == {"authorised_staff": [[], [cast.alice.email]]}


@pytest.mark.parametrize("person", ["volunteer", "governor"])
def test_it_does_not_authorise_a_proposer_who_may_not_post(cast, proposal_data, person):
    account = approve_account(propose_account(cast.school, by=getattr(cast, person), data=proposal_data), by=cast.head)
    assert not account.authorised_staff.exists()


@pytest.mark.clause("AW-ACC-2")
def test_it_lets_only_the_role_the_policy_names_approve(cast, proposal_data):
    account = propose_account(cast.school, by=cast.alice, data=proposal_data)
    for person in (cast.leader, cast.dsl, cast.chair, cast.alice):
        with pytest.raises(PermissionDenied):
            approve_account(account, by=person)
    approve_account(account, by=cast.head, reason="Risk assessment is sound")
    account.refresh_from_db()
    assert account.status == AccountStatus.APPROVED and account.decided_by == cast.head
    assert AuditEntry.objects.filter(action="accounts.approved", object_id=str(account.pk)).exists()


@pytest.mark.clause("AW-ACC-2")
def test_it_follows_a_school_whose_policy_names_another_approver(cast, proposal_data):
    cast.policy.settings.account_approver_role = Role.LEADERSHIP
    cast.policy.settings.save()
    account = propose_account(cast.school, by=cast.alice, data=proposal_data)
    with pytest.raises(PermissionDenied):
        approve_account(account, by=cast.head)
    approve_account(account, by=cast.leader)
    account.refresh_from_db()
    assert account.is_approved


def test_it_needs_a_reason_to_reject_and_tells_the_proposer(cast, proposal_data):
    account = propose_account(cast.school, by=cast.alice, data=proposal_data)
    with pytest.raises(ValidationError):
        reject_account(account, by=cast.head, reason="  ")
    reject_account(account, by=cast.head, reason="We already have an account for this audience")
    account.refresh_from_db()
    assert account.status == AccountStatus.REJECTED
    assert Notification.objects.filter(user=cast.alice, body__contains="already have an account").exists()
    with pytest.raises(ValidationError):
        approve_account(account, by=cast.head)


@pytest.mark.clause("AW-SCOPE-2")
@pytest.mark.parametrize(
    "kind", ["blog", "wiki", "social_network", "forum", "online_gaming", "app", "video_photo", "chat"]
)
def test_it_registers_every_kind_of_social_media_the_policy_names(cast, proposal_data, kind):
    proposal_data.update(kind=kind, network="other")
    account = propose_account(cast.school, by=cast.alice, data=proposal_data)
    assert account.get_kind_display() == ChannelKind(kind).label


def test_it_shows_the_proposal_form_errors_on_the_page(client, cast, proposal_data):
    client.force_login(cast.alice)
    proposal_data.update(aim="", registration_email="someone@gmail.com")
    response = client.post(f"/s/{cast.school.slug}/accounts/propose/", proposal_data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "This field cannot be blank" in page or "This field is required" in page
    assert not OfficialAccount.objects.exists()


def test_it_takes_a_proposal_and_a_decision_through_the_pages(client, cast, proposal_data):
    client.force_login(cast.alice)
    response = client.post(f"/s/{cast.school.slug}/accounts/propose/", proposal_data)
    account = OfficialAccount.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/accounts/{account.pk}/")
    client.force_login(cast.head)
    client.post(f"/s/{cast.school.slug}/accounts/{account.pk}/decide/", {"decision": "approve", "reason": ""})
    account.refresh_from_db()
    assert account.is_approved
