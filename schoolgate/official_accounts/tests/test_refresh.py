"""Refreshing tokens ahead of expiry, and what happens when a refresh fails."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from schoolgate.connectors.base import AccountIdentity, ConnectionFlow, Connector, ConnectorError, Credentials, Limits
from schoolgate.connectors.registry import CONNECTORS
from schoolgate.official_accounts.actions import approve_account, connect_account, propose_account
from schoolgate.official_accounts.models import Connection, ConnectionStatus
from schoolgate.official_accounts.tasks import refresh_connection, refresh_expiring_connections


class ExpiringConnector(Connector):
    """A stand-in network whose tokens last a day; `outcome` decides what the refresh does."""

    network, label, flow = "expiring", "Expiring network", ConnectionFlow.OAUTH
    limits = Limits(max_chars=100)
    refresh_ahead = dt.timedelta(hours=6)
    outcome = "ok"

    def refresh_credentials(self):
        if self.outcome == "revoked":
            raise ConnectorError("The refresh token was revoked", permanent=True)
        if self.outcome == "down":
            raise ConnectorError("Service unavailable")
        return Credentials(
            {"token": self.credentials.data["token"] + "+"}, expires_at=timezone.now() + dt.timedelta(days=1)
        )


@pytest.fixture
def connection(cast, proposal_data, monkeypatch):
    monkeypatch.setitem(CONNECTORS, "expiring", f"{__name__}.ExpiringConnector")
    proposal_data["network"] = "other"
    account = approve_account(propose_account(cast.school, by=cast.alice, data=proposal_data), by=cast.head)
    account.network = "expiring"
    account.save(update_fields=["network"])
    return connect_account(
        account,
        by=cast.head,
        identity=AccountIdentity("1", "h"),
        credentials=Credentials({"token": "t"}, expires_at=timezone.now() + dt.timedelta(hours=2)),
    )


def test_it_refreshes_tokens_that_expire_soon_once(connection):
    assert refresh_expiring_connections.call_local() == 1
    connection.refresh_from_db()
    assert connection.credentials().data == {"token": "t+"}
    assert connection.expires_at > timezone.now() + dt.timedelta(hours=20)
    assert refresh_connection.call_local(connection.pk) is False  # safe to run twice


def test_it_leaves_tokens_alone_until_the_refresh_window(connection):
    Connection.objects.filter(pk=connection.pk).update(expires_at=timezone.now() + dt.timedelta(days=3))
    assert refresh_connection.call_local(connection.pk) is False
    connection.refresh_from_db()
    assert connection.credentials().data == {"token": "t"}


def test_it_breaks_the_connection_when_the_refresh_token_is_revoked(connection, monkeypatch):
    monkeypatch.setattr(ExpiringConnector, "outcome", "revoked")
    assert refresh_connection.call_local(connection.pk) is False
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.BROKEN and "revoked" in connection.broken_reason


def test_it_retries_when_the_network_is_down(connection, monkeypatch):
    monkeypatch.setattr(ExpiringConnector, "outcome", "down")
    with pytest.raises(ConnectorError):
        refresh_connection.call_local(connection.pk)
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.CONNECTED
