"""Connecting through the network's own login page: the start and callback views, against a real Mastodon mock."""

from __future__ import annotations

import urllib.parse

import pytest

from schoolgate import crypto
from schoolgate.audit.models import AuditEntry
from schoolgate.official_accounts.actions import approve_account, propose_account
from schoolgate.official_accounts.models import Connection, ConnectionStatus, OAuthApp


@pytest.fixture
def mastodon_account(cast, proposal_data, mastodon_instance):
    proposal_data.update(network="mastodon", instance_url=mastodon_instance.base_url)
    return approve_account(propose_account(cast.school, by=cast.alice, data=proposal_data), by=cast.head)


@pytest.mark.clause("AW-ACC-6")
def test_it_connects_through_the_servers_login_page_and_stores_tokens_encrypted(
    client, cast, mastodon_account, mastodon_instance
):
    client.force_login(cast.head)
    start = client.post(f"/s/{cast.school.slug}/accounts/{mastodon_account.pk}/connect/oauth/")
    assert start.status_code == 302
    authorization_url = start["Location"]
    assert authorization_url.startswith(f"{mastodon_instance.base_url}/oauth/authorize")
    app = OAuthApp.objects.get(network="mastodon", base_url=mastodon_instance.base_url)
    assert crypto.decrypt(app.client_secret_encrypted) != app.client_secret_encrypted

    # The person approves on the server's page; the server sends them back with a code and the state.
    answer = mastodon_instance.approve(authorization_url, username="hillside")
    callback = client.get(f"/connect/callback/mastodon/?{urllib.parse.urlencode(answer)}")
    assert callback.status_code == 302

    connection = Connection.objects.get(account=mastodon_account)
    assert connection.status == ConnectionStatus.CONNECTED
    assert "hillside" in connection.remote_handle
    token = connection.credentials().data
    assert token and all(str(value) not in connection.credentials_encrypted for value in token.values() if value)
    assert AuditEntry.objects.filter(action="accounts.connected", object_id=str(mastodon_account.pk)).exists()


def test_it_refuses_a_callback_whose_state_was_not_issued_here(client, cast, mastodon_account, mastodon_instance):
    client.force_login(cast.head)
    start = client.post(f"/s/{cast.school.slug}/accounts/{mastodon_account.pk}/connect/oauth/")
    answer = mastodon_instance.approve(start["Location"], username="hillside")
    answer["state"] = "forged"
    response = client.get(f"/connect/callback/mastodon/?{urllib.parse.urlencode(answer)}", follow=True)
    assert "was not started here" in response.content.decode()
    assert not Connection.objects.filter(account=mastodon_account).exists()


def test_it_says_when_the_person_refused_access(client, cast, mastodon_account):
    client.force_login(cast.head)
    start = client.post(f"/s/{cast.school.slug}/accounts/{mastodon_account.pk}/connect/oauth/")
    state = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(start["Location"]).query))["state"]
    response = client.get(f"/connect/callback/mastodon/?error=access_denied&state={state}", follow=True)
    assert "did not grant access" in response.content.decode()
    assert not Connection.objects.filter(account=mastodon_account).exists()


@pytest.mark.clause("AW-ACC-6")
def test_it_will_not_start_connecting_an_account_that_is_not_approved(client, cast, proposal_data, mastodon_instance):
    proposal_data.update(network="mastodon", instance_url=mastodon_instance.base_url)
    proposed = propose_account(cast.school, by=cast.alice, data=proposal_data)
    client.force_login(cast.head)
    response = client.post(f"/s/{cast.school.slug}/accounts/{proposed.pk}/connect/oauth/", follow=True)
    assert "Only an approved account can be connected" in response.content.decode()
    assert not OAuthApp.objects.exists()


def test_it_explains_a_network_app_that_is_not_configured(client, cast, proposal_data, settings):
    settings.NETWORK_APPS = {**settings.NETWORK_APPS, "facebook": {"client_id": "", "client_secret": ""}}
    proposal_data["network"] = "facebook"
    account = approve_account(propose_account(cast.school, by=cast.alice, data=proposal_data), by=cast.head)
    client.force_login(cast.head)
    response = client.post(f"/s/{cast.school.slug}/accounts/{account.pk}/connect/oauth/", follow=True)
    page = response.content.decode()
    assert "Facebook Page is not set up on this Schoolgate yet — ask whoever hosts it." in page
    assert "SCHOOLGATE_FACEBOOK_CLIENT_ID" not in page  # that is for the host: in the README and the logs
