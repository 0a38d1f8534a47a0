"""Reply deadlines swept (RS-MON-1): warn before the time runs out, escalate when it has, and tell staff at once
about abuse that needs handling. Notices name the account and the count, never a commenter's words."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from schoolgate.inbox.deadlines import inbox_settings
from schoolgate.inbox.models import Category, InboxItem, ItemStatus
from schoolgate.notifications.actions import notify
from schoolgate.official_accounts.models import OfficialAccount
from schoolgate.schools.roles import LEADER_ROLES

# One sweep handles at most this many items of each kind (the rest wait for the next minute's sweep).
SWEEP_BATCH = 5000


def inbox_url(school) -> str:
    return reverse("inbox:queue", args=[school.slug])


def account_staff(account):
    """Who answers on the account: its authorised staff, or the school's leaders when none are named."""
    staff = list(account.authorised_staff.filter(is_active=True))
    return staff or list(account.school.members_with_role(*LEADER_ROLES))


def overdue_people(school) -> list:
    roles = inbox_settings(school).overdue_roles or sorted(LEADER_ROLES)
    return list(school.members_with_role(*roles))


def sweep_deadlines(now: dt.datetime | None = None) -> dict[str, int]:
    """Mark and tell: items at risk (a share of their time gone) and items overdue. Safe to run twice: each
    item is claimed by setting its warned time where it was empty, and only claimed items are told about."""
    now = now or timezone.now()
    told = {"at_risk": 0, "overdue": 0}
    at_risk = list(
        InboxItem.objects.filter(
            status=ItemStatus.OPEN, at_risk_at__lte=now, at_risk_warned_at__isnull=True, due_at__gt=now
        ).values_list("pk", "account_id")[:SWEEP_BATCH]
    )
    for account_id, ids in _by_account(at_risk).items():
        claimed = _claim(ids, "at_risk_warned_at", now)
        if claimed:
            _warn_at_risk(account_id, claimed)
            told["at_risk"] += len(claimed)
    overdue = list(
        InboxItem.objects.filter(status=ItemStatus.OPEN, due_at__lte=now, overdue_warned_at__isnull=True).values_list(
            "pk", "account_id"
        )[:SWEEP_BATCH]
    )
    for account_id, ids in _by_account(overdue).items():
        claimed = _claim(ids, "overdue_warned_at", now)
        if claimed:
            _warn_overdue(account_id, claimed)
            told["overdue"] += len(claimed)
    return told


def _by_account(rows) -> dict[int, list[int]]:
    grouped: dict[int, list[int]] = defaultdict(list)
    for pk, account_id in rows:
        grouped[account_id].append(pk)
    return grouped


def _claim(ids: list[int], field: str, now: dt.datetime) -> list[int]:
    with transaction.atomic():
        mine = list(
            InboxItem.objects.select_for_update()
            .filter(pk__in=ids, **{f"{field}__isnull": True})
            .values_list("pk", flat=True)
        )
        InboxItem.objects.filter(pk__in=mine).update(**{field: now})
    return mine


def _people_for(account, item_ids: list[int]) -> list:
    assigned = list(
        InboxItem.objects.filter(pk__in=item_ids, assigned_to__isnull=False, assigned_to__is_active=True)
        .select_related("assigned_to")
        .values_list("assigned_to", flat=True)
    )
    people = account_staff(account)
    if assigned:
        from schoolgate.accounts.models import User

        people = [*User.objects.filter(pk__in=assigned), *people]
    return people


def _warn_at_risk(account_id: int, item_ids: list[int]) -> None:
    account = OfficialAccount.objects.select_related("school").get(pk=account_id)
    first_due = InboxItem.objects.filter(pk__in=item_ids).order_by("due_at").values_list("due_at", flat=True)[0]
    count = len(item_ids)
    what = "an item needs" if count == 1 else f"{count} items need"
    notify(
        _people_for(account, item_ids),
        school=account.school,
        subject=f"{account.name}: {what} an answer by {timezone.localtime(first_due):%-d %B %Y, %H:%M}",
        body=(
            f"On {account.name}, {what} an answer soon; the first is due at "
            f"{timezone.localtime(first_due):%H:%M on %-d %B %Y}. An acknowledgement counts as an answer."
        ),
        url=inbox_url(account.school) + f"?account={account.pk}&due=soon",
        about=f"inbox:account:{account.pk}:at_risk",
    )


def _warn_overdue(account_id: int, item_ids: list[int]) -> None:
    account = OfficialAccount.objects.select_related("school").get(pk=account_id)
    count = len(item_ids)
    what = "An item is" if count == 1 else f"{count} items are"
    notify(
        [*_people_for(account, item_ids), *overdue_people(account.school)],
        school=account.school,
        subject=f"{account.name}: {what.lower()} past the time to answer",
        body=(
            f"{what} on {account.name} past the time the policy gives to answer. Acknowledge or answer them "
            "from the inbox, or close those that need no answer."
        ),
        url=inbox_url(account.school) + f"?account={account.pk}&due=overdue",
        about=f"inbox:account:{account.pk}:overdue",
    )


def tell_about_new_items(account_id: int, item_ids: list[int]) -> int:
    """Abuse is handled swiftly (RS-ABU-1): the account's staff hear of it at once. Other items wait in the
    inbox (the at-risk warning comes before any deadline passes)."""
    abusive = list(
        InboxItem.objects.filter(pk__in=item_ids, category=Category.ABUSE, status=ItemStatus.OPEN).values_list(
            "pk", flat=True
        )
    )
    if not abusive:
        return 0
    account = OfficialAccount.objects.select_related("school").get(pk=account_id)
    count = len(abusive)
    notify(
        account_staff(account),
        school=account.school,
        subject=f"{account.name}: {'a comment' if count == 1 else f'{count} comments'} may be abusive",
        body=f"Schoolgate's screening flagged {count} new item(s) on {account.name} as possibly abusive. Look at "
        "them in the inbox and hide, delete or report them, telling the audience why.",
        url=inbox_url(account.school) + f"?account={account.pk}&category=abuse",
        about=f"inbox:account:{account.pk}:abuse",
        urgent=True,
    )
    return count


def item_url(item) -> str:
    return reverse("inbox:item", args=[item.school.slug, item.pk])
