"""Inbox jobs: poll each account on its schedule, sweep reply deadlines, and act on arrivals (jobs take ids)."""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from schoolgate.inbox.actions import escalation, ingest, moderation, replies


@db_task()
def poll_account(account_id: int) -> int:
    return ingest.poll_account(account_id)


@db_periodic_task(crontab(minute="*"))
def poll_due_accounts() -> int:
    """Every minute: queue a poll for each account whose next read is due (each claims its account)."""
    due = ingest.accounts_due_for_polling(timezone.now())
    for account_id in due:
        poll_account(account_id)
    return len(due)


@db_periodic_task(crontab(minute="*"))
def sweep_reply_deadlines() -> dict:
    return escalation.sweep_deadlines()


def _each(job, item_ids: list[int]) -> int:
    """Run a per-item job body over a batch. Each body is idempotent (it checks the item's state first), so a
    retry after one item's transient failure redoes nothing already done; the others are not held up."""
    done, failure = 0, None
    for item_id in item_ids:
        try:
            done += bool(job(item_id))
        except Exception as error:
            failure = error
    if failure is not None:
        raise failure
    return done


@db_task(retries=3, retry_delay=60)
def route_items_to_dsl(item_ids: list[int]) -> int:
    return _each(moderation.route_item_to_dsl, item_ids)


@db_task(retries=3, retry_delay=60)
def hold_items(item_ids: list[int]) -> int:
    return _each(moderation.hold_on_arrival, item_ids)


@db_task()
def tell_about_new_items(account_id: int, item_ids: list[int]) -> int:
    return escalation.tell_about_new_items(account_id, item_ids)


@db_task()
def send_reply(reply_id: int) -> str:
    return replies.send_reply(reply_id)


@db_periodic_task(crontab(minute="*"))
def send_due_replies() -> int:
    """Every minute: replies whose retry time has come, and sends whose worker died (each claims its reply)."""
    due = replies.replies_due(timezone.now())
    for reply_id in due:
        send_reply(reply_id)
    return len(due)
