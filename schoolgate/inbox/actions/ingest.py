"""Reading the accounts (RS-MON-2): store each item once, threaded and screened on arrival, with its deadline."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.connectors.base import ConnectorError, RemoteItem, jsonable
from schoolgate.inbox.deadlines import inbox_settings, reply_calendar, reply_deadline
from schoolgate.inbox.models import (
    ANSWERED_CATEGORIES,
    AccountInbox,
    Category,
    Contact,
    InboxItem,
    ItemStatus,
)
from schoolgate.official_accounts.models import ConnectionStatus, OfficialAccount
from schoolgate.policy.models import PolicySettings
from schoolgate.screening.incoming import screen_incoming
from schoolgate.screening.school import roster_for_school, rules_for_school

logger = logging.getLogger(__name__)

# How long one poll may hold an account before another worker may take it over (a crashed worker).
CLAIM_FOR = dt.timedelta(minutes=10)
# Pages read in one poll; a backlog bigger than this is read over the next polls (the cursor keeps the place).
MAX_PAGES = 20
# Our posts whose comments are read (networks that read comments post by post).
RECENT_POSTS = 50
RECENT_POSTS_FOR = dt.timedelta(days=30)
# After a failure the next try waits longer each time, up to this.
MAX_BACKOFF = dt.timedelta(hours=6)
# Categories that need handling by the deadline: answers, and abuse (RS-ABU-1: handled swiftly).
DEADLINE_CATEGORIES = ANSWERED_CATEGORIES | {Category.ABUSE}


@dataclass
class Screening:
    """What one ingest call builds once for the school: the roster, the rules and the reply calendar."""

    roster: object
    rules: object
    policy: object
    settings: object
    calendar: object

    @classmethod
    def for_school(cls, school) -> Screening:
        policy = PolicySettings.objects.in_force_at(school)
        settings = inbox_settings(school)
        return cls(
            roster=roster_for_school(school),
            rules=rules_for_school(school),
            policy=policy,
            settings=settings,
            calendar=reply_calendar(school, policy=policy, settings=settings),
        )


def ingest(
    account: OfficialAccount, items: Sequence[RemoteItem], *, via: str = "poll", screening: Screening | None = None
) -> list[InboxItem]:
    """Store the items not seen before and return them (safe to run twice, or concurrently, with the same items).

    1. Drop what is stored already (by account and network id), repeats within the batch, and our own posts.
    2. Screen each new item and suggest what it is; thread it under our post; give it a deadline if it needs one.
    3. Insert, ignoring rows a concurrent run stored first, and return only the rows this run created.
    4. After commit: a possible disclosure (and any kind of harm the policy sends there) goes to the DSL; on a
       pre-moderated account replies are held, and elsewhere those with a kind of harm the policy hides.
    """
    school = account.school
    own_id = getattr(getattr(account, "connection", None), "remote_id", "")
    fresh: dict[str, RemoteItem] = {}
    for item in items:
        if item.remote_id and item.remote_id not in fresh and (not own_id or item.author_id != own_id):
            fresh[item.remote_id] = item
    if fresh:
        stored = set(
            InboxItem.objects.filter(account=account, remote_id__in=list(fresh)).values_list("remote_id", flat=True)
        )
        for remote_id in stored:
            del fresh[remote_id]
    if not fresh:
        return []

    screening = screening or Screening.for_school(school)
    now = timezone.now()
    deliveries = _deliveries_by_remote_id(account, fresh.values())
    contacts = set(
        Contact.objects.filter(
            school=school, network=account.network, remote_id__in={i.author_id for i in fresh.values()}
        ).values_list("remote_id", flat=True)
    )
    rows = [_new_row(account, item, now=now, screening=screening, deliveries=deliveries) for item in fresh.values()]
    with transaction.atomic():
        InboxItem.objects.bulk_create(rows, ignore_conflicts=True)
        created = list(
            InboxItem.objects.filter(account=account, remote_id__in=list(fresh), ingested_at=now).order_by(
                "received_at", "pk"
            )
        )
        if created:
            audit.log(
                "inbox.items_received",
                actor="system",
                target=account,
                school=school,
                detail={"count": len(created), "via": via, "known_contacts": len(contacts)},
            )
            _after_arrival(
                account,
                created,
                pre_moderated=account.holds_replies(screening.policy),
                hidden_harms=screening.rules.hidden_harms,
            )
    return created


def _new_row(account, item: RemoteItem, *, now, screening: Screening, deliveries: dict) -> InboxItem:
    found = screen_incoming(item.text, roster=screening.roster, rules=screening.rules)
    category = found.category
    due_at = at_risk_at = None
    if category in DEADLINE_CATEGORIES:
        due_at, at_risk_at = reply_deadline(
            account.school,
            item.created_at,
            policy=screening.policy,
            settings=screening.settings,
            calendar=screening.calendar,
        )
    delivery = deliveries.get(item.root_id) or deliveries.get(item.in_reply_to)
    return InboxItem(
        school=account.school,
        account=account,
        remote_id=item.remote_id[:300],
        kind=item.kind or "reply",
        parent_remote_id=item.in_reply_to[:300],
        root_remote_id=(item.root_id or item.in_reply_to)[:300],
        delivery=delivery,
        author_remote_id=item.author_id[:300],
        author_handle=item.author_handle[:300],
        author_name=item.author_name[:300],
        text=item.text,
        url=item.url[:500],
        media=[{"url": m.url, "mime_type": m.mime_type, "alt_text": m.alt_text} for m in item.media],
        raw=jsonable(item.raw or {}),
        received_at=item.created_at,
        ingested_at=now,
        findings=[{**f.as_dict(), "reasons": []} for f in found.findings]
        + ([{"category": "triage", "reasons": list(found.reasons)}] if found.reasons else []),
        suggested_category=category,
        category=category,
        status=ItemStatus.WITH_DSL if found.to_dsl else ItemStatus.OPEN,
        due_at=due_at,
        at_risk_at=at_risk_at,
    )


def _deliveries_by_remote_id(account, items) -> dict:
    from schoolgate.posts.models import Delivery

    wanted = {i.root_id for i in items if i.root_id} | {i.in_reply_to for i in items if i.in_reply_to}
    if not wanted:
        return {}
    return {d.remote_id: d for d in Delivery.objects.filter(account=account, remote_id__in=wanted)}


def _after_arrival(account, created: list[InboxItem], *, pre_moderated: bool, hidden_harms=frozenset()) -> None:
    # Jobs are enqueued by name (a local import) so actions never import the task module at the top.
    from schoolgate.inbox import tasks

    to_dsl = [i.pk for i in created if i.status == ItemStatus.WITH_DSL]
    # Held: every open reply on a pre-moderated account; elsewhere those with a kind of harm the policy hides.
    held = [
        i.pk
        for i in created
        if i.status == ItemStatus.OPEN and (pre_moderated or hidden_harms.intersection(i.harms_found()))
    ]
    # One job per page of arrivals, not one per item (a poll page is up to a hundred items).
    if to_dsl:
        transaction.on_commit(lambda: tasks.route_items_to_dsl(to_dsl))
    if held:
        transaction.on_commit(lambda: tasks.hold_items(held))
    transaction.on_commit(lambda: tasks.tell_about_new_items(account.pk, [i.pk for i in created]))


# Polling


def claim_account(account_id: int, *, now: dt.datetime) -> AccountInbox | None:
    """Take the account for one poll, or None if another worker holds it (claims expire after CLAIM_FOR)."""
    state, _ = AccountInbox.objects.get_or_create(account_id=account_id)
    from django.db.models import Q

    taken = AccountInbox.objects.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now), pk=state.pk).update(
        claimed_until=now + CLAIM_FOR
    )
    if not taken:
        return None
    state.refresh_from_db()
    return state


def poll_account(account_id: int) -> int:
    """Read everything new on one account through its connector; returns how many items were stored.

    1. Claim the account (one poll at a time); skip it unless it is approved and connected.
    2. Read page after page from the stored cursor, storing each page's items and the cursor that follows
       them in one transaction, so a crash re-reads at most the page it was on (and stores nothing twice).
    3. Record success, or the error: a transient one waits (the network's Retry-After, else backing off);
       a permanent one breaks the connection, which shows on the account and the dashboard.
    """
    now = timezone.now()
    state = claim_account(account_id, now=now)
    if state is None:
        return 0
    stored = 0
    account = OfficialAccount.objects.select_related("school").get(pk=account_id)
    try:
        connection = getattr(account, "connection", None)
        if not account.is_approved or connection is None or connection.status != ConnectionStatus.CONNECTED:
            _finish(state, next_poll_at=None)
            return 0
        connector = connection.connector()
        posts = _recent_post_ids(account, now)
        screening = Screening.for_school(account.school)
        for _ in range(MAX_PAGES):
            page = connector.read_inbox(cursor=state.cursor, posts=posts)
            with transaction.atomic():
                stored += len(ingest(account, page.items, screening=screening))
                state.cursor = page.cursor
                state.items_read += len(page.items)
                state.save(update_fields=["cursor", "items_read"])
            if not page.more:
                break
        _keep_refreshed_credentials(connection, connector)
        minutes = screening.settings.poll_minutes
        _finish(state, next_poll_at=timezone.now() + dt.timedelta(minutes=minutes), ok=True)
    except ConnectorError as error:
        _record_poll_failure(state, account, error)
    except Exception:
        logger.exception("Reading the inbox of account %s failed", account_id)
        _record_poll_failure(
            state, account, ConnectorError("Schoolgate could not read this account; it will try again.")
        )
        raise
    return stored


def _recent_post_ids(account, now) -> list[str]:
    from schoolgate.posts.models import Delivery

    return list(
        Delivery.objects.filter(account=account, published_at__gte=now - RECENT_POSTS_FOR)
        .exclude(remote_id="")
        .order_by("-published_at")
        .values_list("remote_id", flat=True)[:RECENT_POSTS]
    )


def _keep_refreshed_credentials(connection, connector) -> None:
    """Some SDKs rotate tokens during a call (Bluesky): store the new ones, or the next poll cannot log in."""
    from schoolgate.official_accounts.actions import store_refreshed_credentials

    current = connection.credentials()
    if connector.credentials.data != current.data:
        store_refreshed_credentials(connection, connector.credentials)


def _finish(state: AccountInbox, *, next_poll_at, ok: bool = False) -> None:
    now = timezone.now()
    state.next_poll_at = next_poll_at
    state.claimed_until = None
    state.last_polled_at = now
    fields = ["next_poll_at", "claimed_until", "last_polled_at"]
    if ok:
        state.last_ok_at = now
        state.last_error = ""
        state.failing_since = None
        fields += ["last_ok_at", "last_error", "failing_since"]
    state.save(update_fields=fields)


def _record_poll_failure(state: AccountInbox, account, error: ConnectorError) -> None:
    from schoolgate.official_accounts.actions import record_connector_error

    now = timezone.now()
    failing_since = state.failing_since or now
    if error.retry_after:
        wait = dt.timedelta(seconds=error.retry_after)
    else:
        wait = min(MAX_BACKOFF, max(dt.timedelta(minutes=5), (now - failing_since) * 2))
    state.last_error = error.message
    state.failing_since = failing_since
    state.next_poll_at = now + wait
    state.claimed_until = None
    state.last_polled_at = now
    state.save(update_fields=["last_error", "failing_since", "next_poll_at", "claimed_until", "last_polled_at"])
    connection = getattr(account, "connection", None)
    if connection is not None and error.permanent:
        record_connector_error(connection, error)


def accounts_due_for_polling(now: dt.datetime) -> list[int]:
    """Approved, connected accounts whose next poll is due (or that have never been read)."""
    from django.db.models import Q

    return list(
        OfficialAccount.objects.approved()
        .filter(connection__status=ConnectionStatus.CONNECTED)
        .filter(
            Q(inbox_state__isnull=True)
            | Q(inbox_state__next_poll_at__isnull=True)
            | Q(inbox_state__next_poll_at__lte=now)
        )
        .values_list("pk", flat=True)
    )
