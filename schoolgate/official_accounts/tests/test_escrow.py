"""Escrowed login details and break-glass reveals (AW-ACC-3)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from schoolgate import crypto
from schoolgate.audit.models import AuditEntry
from schoolgate.official_accounts.actions import approve_account, propose_account, reveal_login, store_login
from schoolgate.official_accounts.models import EscrowedLogin
from schoolgate.testing import totp_code

pytestmark = pytest.mark.clause("AW-ACC-3")


@pytest.fixture
def account(cast, proposal_data):
    account = propose_account(cast.school, by=cast.alice, data=proposal_data)
    return approve_account(account, by=cast.head)


def test_it_stores_the_login_encrypted(cast, account):
    store_login(account, by=cast.head, login="news@testschool.sch.uk", password="Tr0ub4dor&3", notes="codes in safe")
    escrow = EscrowedLogin.objects.get(account=account)
    for column in (escrow.login_encrypted, escrow.password_encrypted, escrow.notes_encrypted):
        assert "Tr0ub4dor" not in column and "testschool" not in column and "safe" not in column
    assert crypto.decrypt(escrow.password_encrypted) == "Tr0ub4dor&3"
    assert "Tr0ub4dor" not in str(AuditEntry.objects.get(action="accounts.escrow.stored").detail)


@pytest.mark.parametrize("person", ["alice", "dsl", "chair", "governor"])
def test_it_lets_only_leadership_hold_or_open_the_login(cast, account, person):
    store_login(account, by=cast.head, login="news", password="pw-123456")
    with pytest.raises(PermissionDenied):
        store_login(account, by=getattr(cast, person), login="x", password="y")
    with pytest.raises(PermissionDenied):
        reveal_login(account, by=getattr(cast, person), reason="curious", code=totp_code())


def test_it_needs_a_reason_and_a_fresh_authenticator_code(cast, account):
    store_login(account, by=cast.head, login="news", password="pw-123456")
    with pytest.raises(ValidationError) as error:
        reveal_login(account, by=cast.leader, reason="", code=totp_code())
    assert "reason" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        reveal_login(account, by=cast.leader, reason="Head is away; account hacked", code="000000")
    assert "code" in error.value.message_dict
    assert AuditEntry.objects.filter(action="accounts.escrow.reveal_refused").count() == 1
    assert not AuditEntry.objects.filter(action="accounts.escrow.revealed").exists()


def test_it_reveals_audits_and_emails_the_other_leaders_at_once(
    cast, account, smtp_server, django_capture_on_commit_callbacks
):
    store_login(account, by=cast.head, login="news@testschool.sch.uk", password="pw-123456")
    with django_capture_on_commit_callbacks(execute=True):
        revealed = reveal_login(account, by=cast.leader, reason="Account hacked; head unreachable", code=totp_code())
    assert revealed == {"login": "news@testschool.sch.uk", "password": "pw-123456", "notes": ""}
    entry = AuditEntry.objects.get(action="accounts.escrow.revealed")
    assert entry.actor == cast.leader and entry.detail == {"reason": "Account hacked; head unreachable"}
    recipients = {address for message in smtp_server for address in message["to"]}
    assert recipients == {cast.head.email}  # the other leaders: here the headteacher; never the revealer
    body = smtp_server[0]["message"].get_payload(decode=True).decode()
    assert "Account hacked; head unreachable" in body and cast.leader.full_name in body
    assert "pw-123456" not in body


@pytest.fixture
def queued_jobs():
    """Jobs queued as in production (the suite otherwise runs them at once), in memory for this test."""
    from huey.contrib.djhuey import HUEY
    from huey.storage import MemoryStorage

    immediate, storage = HUEY._immediate, HUEY.storage
    HUEY._immediate, HUEY.storage = False, MemoryStorage(HUEY.name)
    try:
        yield HUEY
    finally:
        HUEY._immediate, HUEY.storage = immediate, storage


def test_it_emails_the_other_leaders_before_the_break_glass_page_returns(
    client, cast, account, mailoutbox, queued_jobs, django_capture_on_commit_callbacks
):
    store_login(account, by=cast.head, login="news@testschool.sch.uk", password="pw-123456")
    client.force_login(cast.leader)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/s/{cast.school.slug}/accounts/{account.pk}/escrow/reveal/",
            {"reason": "Account hacked; head unreachable", "code": totp_code()},
        )
    assert "pw-123456" in response.content.decode()
    # Already sent by the request itself, with no worker running: not left waiting in the queue.
    assert [message.to for message in mailoutbox] == [[cast.head.email]]
    assert "Account hacked; head unreachable" in mailoutbox[0].body
    assert queued_jobs.pending_count() == 0


def test_it_shows_the_login_once_after_break_glass_on_the_page(client, cast, account):
    store_login(account, by=cast.head, login="news@testschool.sch.uk", password="pw-123456")
    client.force_login(cast.leader)
    url = f"/s/{cast.school.slug}/accounts/{account.pk}/escrow/reveal/"
    assert "pw-123456" not in client.get(url).content.decode()
    response = client.post(url, {"reason": "Emergency", "code": totp_code()})
    assert "pw-123456" in response.content.decode()
    assert response["Cache-Control"] == "no-store"
