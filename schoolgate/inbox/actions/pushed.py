"""Events a network pushes to Schoolgate (Meta's webhooks, RS-MON-2): new items stored through ingest, exactly as a
poll stores them (so a replayed or reordered event is harmless), and items deleted on the network marked gone."""

from __future__ import annotations

import logging
from collections import defaultdict

from django.db import transaction

from schoolgate.inbox.actions.ingest import ingest
from schoolgate.inbox.actions.moderation import record_removed_on_network
from schoolgate.official_accounts.models import OfficialAccount

logger = logging.getLogger(__name__)


def take_pushed_events(events) -> dict[str, int]:
    """Store what the events carry, per account (events are connectors' WebhookEvent rows).

    1. Group them by network and the account's id on it.
    2. For each approved account connected with that id: ingest the new items (deduplicated by network id,
       so an event sent twice is stored once), then mark what was removed as gone (after the items of the same
       delivery, so a comment added and removed at once ends up gone).
    3. Events for accounts Schoolgate does not know are dropped (Meta sends every page of the app).
    """
    grouped: dict[tuple[str, str], tuple[list, list]] = defaultdict(lambda: ([], []))
    for event in events:
        items, removed = grouped[(event.network, event.account_remote_id)]
        if event.item is not None:
            items.append(event.item)
        if event.removed_remote_id:
            removed.append(event.removed_remote_id)
    counts = {"stored": 0, "gone": 0, "unknown_accounts": 0}
    for (network, remote_id), (items, removed) in grouped.items():
        accounts = list(
            OfficialAccount.objects.approved()
            .filter(network=network, connection__remote_id=remote_id)
            .exclude(connection__remote_id="")
            .select_related("school", "connection")
        )
        if not accounts:
            counts["unknown_accounts"] += 1
            continue
        for account in accounts:
            with transaction.atomic():
                counts["stored"] += len(ingest(account, items, via="webhook")) if items else 0
                counts["gone"] += record_removed_on_network(account, removed)
    if counts["unknown_accounts"]:
        logger.info("Ignored webhook events for %s account(s) not connected here", counts["unknown_accounts"])
    return counts
