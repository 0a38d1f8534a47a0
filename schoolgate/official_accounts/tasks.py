"""Keep connections alive: refresh tokens ahead of expiry; each refresh is its own job taking an id."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from schoolgate.connectors.base import ConnectorError
from schoolgate.connectors.registry import CONNECTORS, connector_class
from schoolgate.official_accounts.models import Connection, ConnectionStatus

# The longest refresh_ahead of any connector bounds the sweep; each connection is then checked exactly.
SWEEP_HORIZON = dt.timedelta(days=14)


@db_task(retries=3, retry_delay=300)
def refresh_connection(connection_id: int) -> bool:
    from schoolgate.official_accounts.actions import record_connector_error, store_refreshed_credentials

    connection = (
        Connection.objects.select_related("account__school")
        .filter(pk=connection_id, status=ConnectionStatus.CONNECTED)
        .first()
    )
    if connection is None or connection.expires_at is None:
        return False
    cls = connector_class(connection.account.network)
    if connection.expires_at - cls.refresh_ahead > timezone.now():
        return False  # refreshed already by an earlier run
    try:
        credentials = connection.connector().refresh_credentials()
    except ConnectorError as error:
        record_connector_error(connection, error)
        if not error.permanent:
            raise  # Huey retries transient failures
        return False
    if credentials is None:
        return False
    store_refreshed_credentials(connection, credentials)
    return True


@db_periodic_task(crontab(minute="17"))
def refresh_expiring_connections() -> int:
    ids = list(
        Connection.objects.expiring_before(timezone.now() + SWEEP_HORIZON)
        .filter(account__network__in=list(CONNECTORS))
        .values_list("pk", flat=True)
    )
    for connection_id in ids:
        refresh_connection(connection_id)
    return len(ids)
