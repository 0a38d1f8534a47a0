"""Personal accounts that mention the school (RS-SCOPE-2): declared with the disclaimer confirmed, changed and
withdrawn by their declarant only, and on the leaders' register."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from schoolgate.audit.models import AuditEntry
from schoolgate.declarations import actions
from schoolgate.declarations.models import DEFAULT_DISCLAIMER, DeclarationSettings, PersonalAccount

pytestmark = pytest.mark.django_db

HANDLE = "@amy.teaches.year4"


def url(cast, path: str = "") -> str:
    return f"/s/{cast.school.slug}/declarations/{path}"


def form(**overrides) -> dict:
    data = {"network": "instagram", "handle": HANDLE, "mention": "My bio says I teach at the school"}
    data.update(overrides)
    return data


def declare(cast, by=None, **overrides):
    data = {**form(), "disclaimer_confirmed": True, **overrides}
    return actions.declare_personal_account(cast.school, by=by or cast.alice, **data)


@pytest.mark.clause("RS-SCOPE-2")
def test_it_refuses_a_personal_account_without_the_disclaimer_and_keeps_what_was_typed(client, cast):
    client.force_login(cast.alice)

    refused = client.post(url(cast, "accounts/new/"), form())
    accepted = client.post(url(cast, "accounts/new/"), {**form(), "disclaimer_confirmed": "on"})

    page = refused.content.decode()
    assert refused.status_code == 400
    assert "Confirm that the account carries the disclaimer" in page and HANDLE in page
    assert accepted.status_code == 302
    account = PersonalAccount.objects.get()
    assert account.user == cast.alice and account.handle == HANDLE
    assert account.disclaimer_text == DEFAULT_DISCLAIMER and account.disclaimer_confirmed_at is not None


@pytest.mark.clause("RS-SCOPE-2")
def test_it_asks_for_the_disclaimer_again_when_an_account_changes(client, cast):
    account = declare(cast)
    client.force_login(cast.alice)

    refused = client.post(url(cast, f"accounts/{account.pk}/"), form(handle="@amy.new"))
    with pytest.raises(ValidationError, match="disclaimer"):
        actions.update_personal_account(
            account, by=cast.alice, network="x", handle="@amy.new", mention="Bio", disclaimer_confirmed=False
        )
    changed = client.post(
        url(cast, f"accounts/{account.pk}/"), {**form(handle="@amy.new"), "disclaimer_confirmed": "on"}
    )

    assert refused.status_code == 400
    assert changed.status_code == 302
    account.refresh_from_db()
    assert account.handle == "@amy.new"
    assert AuditEntry.objects.filter(action="declarations.personal_account_updated", detail__fields=["handle"]).exists()


@pytest.mark.clause("RS-SCOPE-2")
def test_it_shows_the_schools_own_disclaimer_and_keeps_the_words_confirmed(client, cast):
    DeclarationSettings.objects.create(school=cast.school, disclaimer_text="Personal account; views my own.")
    client.force_login(cast.alice)

    page = client.get(url(cast, "accounts/new/")).content.decode()
    client.post(url(cast, "accounts/new/"), {**form(), "disclaimer_confirmed": "on"})

    assert "Personal account; views my own." in page
    assert PersonalAccount.objects.get().disclaimer_text == "Personal account; views my own."


def test_it_lets_only_the_declarant_change_or_withdraw_an_account(client, cast):
    account = declare(cast)
    client.force_login(cast.bob)

    assert client.get(url(cast, f"accounts/{account.pk}/")).status_code == 404
    assert client.post(url(cast, f"accounts/{account.pk}/withdraw/")).status_code == 404
    with pytest.raises(PermissionDenied):
        actions.withdraw_personal_account(account, by=cast.head)
    client.force_login(cast.alice)
    assert client.post(url(cast, f"accounts/{account.pk}/withdraw/")).status_code == 302
    account.refresh_from_db()
    assert account.withdrawn_at is not None
    assert HANDLE not in client.get(url(cast)).content.decode()


@pytest.mark.clause("RS-SCOPE-2")
def test_it_shows_the_register_of_personal_accounts_to_the_head_and_safeguarding_leads_only(client, cast):
    declare(cast)
    declare(cast, by=cast.bob, handle="@bob.on.x", network="x")

    for person in cast.everyone():
        client.force_login(person)
        response = client.get(url(cast, "register/"))
        leads = person in (cast.head, cast.dsl, cast.deputy_dsl)
        assert response.status_code == (200 if leads else 403), person
        if leads:
            page = response.content.decode()
            assert HANDLE in page and "@bob.on.x" in page and "disclaimer confirmed" in page


def test_it_lists_a_members_own_accounts_on_their_page(client, cast):
    declare(cast)
    declare(cast, by=cast.bob, handle="@bob.on.x")
    client.force_login(cast.alice)

    page = client.get(url(cast)).content.decode()

    assert HANDLE in page and "@bob.on.x" not in page


def test_it_keeps_the_handle_out_of_the_audit_log(cast):
    account = declare(cast)
    actions.withdraw_personal_account(account, by=cast.alice)

    entries = AuditEntry.objects.filter(action__startswith="declarations.personal_account")
    assert entries.count() == 2
    assert all(HANDLE not in f"{e.object_repr} {e.detail} {e.changes}" and e.restricted for e in entries)


def test_it_refuses_a_declaration_from_someone_not_at_the_school(cast):
    from schoolgate.testing import make_user

    with pytest.raises(PermissionDenied):
        declare(cast, by=make_user("Olly Outsider"))
