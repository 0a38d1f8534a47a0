"""Security checklist, authorised staff, connections and the public page (AW-ACC-5, AW-ACC-6, AW-PUB-5, AW-PUB-6)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from schoolgate import crypto
from schoolgate.connectors.base import AccountIdentity, ConnectorError, Credentials
from schoolgate.notifications.models import Notification
from schoolgate.official_accounts.actions import (
    approve_account,
    connect_account,
    is_authorised,
    propose_account,
    record_connector_error,
    set_authorised_staff,
    update_security_checklist,
)
from schoolgate.official_accounts.models import ConnectionStatus
from schoolgate.testing import make_school


@pytest.fixture
def proposed(cast, proposal_data):
    return propose_account(cast.school, by=cast.alice, data=proposal_data)


@pytest.fixture
def approved(cast, proposed):
    return approve_account(proposed, by=cast.head)


@pytest.mark.clause("AW-ACC-5")
def test_it_turns_the_checklist_red_when_anything_is_out_of_date(cast, approved):
    today = timezone.localdate()
    problems = approved.security_problems(today=today, password_max_age_days=365)
    assert len(problems) == 3
    update_security_checklist(
        approved,
        by=cast.head,
        two_factor_enabled=True,
        recovery_email="office@testschool.sch.uk",
        password_changed_on=today,
    )
    assert approved.security_problems(today=today, password_max_age_days=365) == []
    later = today + dt.timedelta(days=400)
    assert "more than 365 days" in approved.security_problems(today=later, password_max_age_days=365)[0]
    approved.recovery_email = "someone@gmail.com"
    assert any(
        "not one of the school's" in p for p in approved.security_problems(today=today, password_max_age_days=365)
    )


@pytest.mark.clause("AW-ACC-5")
def test_it_shows_an_out_of_date_checklist_on_the_accounts_page(client, cast, approved):
    client.force_login(cast.head)
    assert "Out of date" in client.get(f"/s/{cast.school.slug}/accounts/").content.decode()
    update_security_checklist(
        approved,
        by=cast.head,
        two_factor_enabled=True,
        recovery_email="office@testschool.sch.uk",
        password_changed_on=timezone.localdate(),
    )
    assert "Out of date" not in client.get(f"/s/{cast.school.slug}/accounts/").content.decode()


def test_it_refuses_a_checklist_from_staff_or_with_a_future_date(cast, approved):
    with pytest.raises(PermissionDenied):
        update_security_checklist(
            approved,
            by=cast.alice,
            two_factor_enabled=True,
            recovery_email="office@testschool.sch.uk",
            password_changed_on=None,
        )
    with pytest.raises(ValidationError):
        update_security_checklist(
            approved,
            by=cast.head,
            two_factor_enabled=True,
            recovery_email="office@testschool.sch.uk",
            password_changed_on=timezone.localdate() + dt.timedelta(days=1),
        )


@pytest.mark.clause("AW-PUB-6")
def test_it_authorises_only_named_staff_on_an_approved_account(cast, proposed):
    set_authorised_staff(proposed, by=cast.head, users=[cast.alice])
    assert not is_authorised(cast.alice, proposed)  # not approved yet
    approved = approve_account(proposed, by=cast.head)
    assert is_authorised(cast.alice, approved)
    assert not is_authorised(cast.bob, approved)
    set_authorised_staff(approved, by=cast.leader, users=[cast.bob])
    assert is_authorised(cast.bob, approved) and not is_authorised(cast.alice, approved)


@pytest.mark.clause("AW-PUB-6")
def test_it_refuses_authorising_people_from_another_school_or_by_staff(cast, approved):
    outsider = make_school("Other").alice
    with pytest.raises(ValidationError):
        set_authorised_staff(approved, by=cast.head, users=[outsider])
    with pytest.raises(PermissionDenied):
        set_authorised_staff(approved, by=cast.alice, users=[cast.alice])


@pytest.mark.clause("AW-ACC-6")
def test_it_refuses_to_connect_an_account_that_is_not_approved(cast, proposed):
    with pytest.raises(ValidationError, match="approved"):
        connect_account(
            proposed,
            by=cast.head,
            credentials=Credentials({"token": "t"}),
            identity=AccountIdentity("did:plc:1", "news.test"),
        )
    assert not hasattr(proposed, "connection") or proposed.connection is None


@pytest.mark.clause("AW-ACC-6")
def test_it_connects_an_approved_account_with_tokens_encrypted(cast, approved):
    connection = connect_account(
        approved,
        by=cast.head,
        credentials=Credentials({"token": "secret-token-123"}),
        identity=AccountIdentity("did:plc:1", "news.test"),
        service_url="http://pds",
    )
    assert "secret-token-123" not in connection.credentials_encrypted
    assert connection.credentials().data == {"token": "secret-token-123"}
    approved.refresh_from_db()
    assert approved.handle == "news.test"


def test_it_lets_authorised_staff_connect_but_not_other_staff(cast, approved):
    set_authorised_staff(approved, by=cast.head, users=[cast.alice])
    with pytest.raises(PermissionDenied):
        connect_account(approved, by=cast.bob, credentials=Credentials({}), identity=AccountIdentity("1", "h"))
    connect_account(approved, by=cast.alice, credentials=Credentials({}), identity=AccountIdentity("1", "h"))


def test_it_marks_a_connection_broken_on_a_permanent_error_and_tells_the_leaders(cast, approved):
    connection = connect_account(
        approved, by=cast.head, credentials=Credentials({"t": 1}), identity=AccountIdentity("1", "h")
    )
    record_connector_error(connection, ConnectorError("Network timeout", permanent=False))
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.CONNECTED
    record_connector_error(connection, ConnectorError("The app password was revoked", permanent=True))
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.BROKEN and "revoked" in connection.broken_reason
    assert Notification.objects.filter(user__in=[cast.head, cast.leader], subject__contains="reconnecting").count() == 2


def test_it_warns_on_the_health_page_before_tokens_expire(client, cast, approved):
    connect_account(
        approved,
        by=cast.head,
        identity=AccountIdentity("1", "h"),
        credentials=Credentials({"t": 1}, expires_at=timezone.now() + dt.timedelta(days=2)),
    )
    client.force_login(cast.head)
    assert "soon: refreshing" in client.get(f"/s/{cast.school.slug}/accounts/health/").content.decode()


@pytest.mark.clause("AW-PUB-5")
@pytest.mark.clause("AW-ACC-5")
def test_it_lists_only_approved_accounts_and_the_expectations_on_the_public_page(client, cast, proposal_data):
    approved = approve_account(propose_account(cast.school, by=cast.alice, data=proposal_data), by=cast.head)
    proposal_data["name"] = "Secret plan account"
    propose_account(cast.school, by=cast.alice, data=proposal_data)
    page = client.get(f"/p/{cast.school.slug}/social-media/").content.decode()
    assert approved.name in page and approved.aim in page
    assert "Secret plan account" not in page
    assert "within 24 hours" in page


def test_it_keeps_tokens_readable_only_with_the_key(cast, approved):
    connection = connect_account(
        approved, by=cast.head, credentials=Credentials({"token": "abc"}), identity=AccountIdentity("1", "h")
    )
    with pytest.raises(crypto.DecryptionError):
        from cryptography.fernet import Fernet
        from django.conf import settings

        keys = settings.ENCRYPTION_KEYS
        settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
        crypto._fernet.cache_clear()
        try:
            connection.credentials()
        finally:
            settings.ENCRYPTION_KEYS = keys
            crypto._fernet.cache_clear()


def test_it_shows_the_recorded_password_date_in_the_checklist_form(client, cast, approved):
    update_security_checklist(
        approved,
        by=cast.head,
        two_factor_enabled=True,
        recovery_email="office@testschool.sch.uk",
        password_changed_on=dt.date(2026, 3, 4),
    )
    client.force_login(cast.head)
    page = client.get(f"/s/{cast.school.slug}/accounts/{approved.pk}/").content.decode()
    assert 'value="2026-03-04"' in page  # the ISO form a date input can show
