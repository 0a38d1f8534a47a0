"""Reply deadlines swept (RS-MON-1): warn before the time runs out, escalate when it has, and tell staff at once
about abuse that needs handling. Notices name the account and the count, never a commenter's words."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from schoolgate.inbox.models import Category, InboxItem, ItemStatus
from schoolgate.notifications.actions import Notice, notify, notify_all
from schoolgate.official_accounts.models import OfficialAccount
from schoolgate.schools.roles import LEADER_ROLES, Role
from schoolgate.screening.incoming import POSSIBLE_WORRY

# One sweep handles at most this many items of each kind (the rest wait for the next minute's sweep).
SWEEP_BATCH = 5000


def inbox_url(school) -> str:
    return reverse("inbox:queue", args=[school.slug])


def account_staff(account):
    """Who answers on the account: its authorised staff, or the school's leaders when none are named (the staff
    may be prefetched: the sweep reads them once for every account it warns about)."""
    staff = [person for person in account.authorised_staff.all() if person.is_active]
    return staff or list(account.school.members_with_role(*LEADER_ROLES))


def sweep_deadlines(now: dt.datetime | None = None) -> dict[str, int]:
    """Mark and tell: items at risk (a share of their time gone) and items overdue. Safe to run twice or at once
    on two workers: each kind's items are claimed in one transaction (locked rows skipped, their warned time
    set), and only claimed items are told about, the most urgent first."""
    now = now or timezone.now()
    at_risk = _claim(
        Q(at_risk_at__lte=now, at_risk_warned_at__isnull=True, due_at__gt=now), "at_risk_warned_at", "at_risk_at", now
    )
    overdue = _claim(Q(due_at__lte=now, overdue_warned_at__isnull=True), "overdue_warned_at", "due_at", now)
    if at_risk or overdue:
        _warn(at_risk, overdue)
    return {"at_risk": len(at_risk), "overdue": len(overdue)}


def _claim(condition: Q, field: str, order: str, now: dt.datetime) -> list[tuple[int, int, dt.datetime, int | None]]:
    """(item, account, due time, assignee) of up to SWEEP_BATCH items, now marked as warned (the partial sweep
    indexes find them; rows another worker holds are left to it)."""
    with transaction.atomic():
        rows = list(
            InboxItem.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(condition, status=ItemStatus.OPEN)
            .order_by(order, "pk")
            .values_list("pk", "account_id", "due_at", "assigned_to_id")[:SWEEP_BATCH]
        )
        if rows:
            InboxItem.objects.filter(pk__in=[row[0] for row in rows]).update(**{field: now})
    return rows


def _warn(at_risk: list, overdue: list) -> None:
    """One notice per account and kind, all written at once. The accounts, their staff, the assignees, each
    school's leaders and overdue roles are read once for the whole sweep, however many accounts it warns about."""
    from schoolgate.accounts.models import User
    from schoolgate.inbox.models import InboxSettings

    account_ids = {row[1] for row in at_risk} | {row[1] for row in overdue}
    accounts = {
        account.pk: account
        for account in OfficialAccount.objects.filter(pk__in=account_ids)
        .select_related("school")
        .prefetch_related("authorised_staff")
    }
    assignee_ids = {row[3] for row in at_risk + overdue if row[3]}
    assignees = {user.pk: user for user in User.objects.filter(pk__in=assignee_ids, is_active=True)}
    school_ids = {account.school_id for account in accounts.values()}
    people = _people_by_school_and_role(school_ids)
    overdue_roles = dict(
        InboxSettings.objects.filter(school_id__in=school_ids).values_list("school_id", "overdue_roles")
    )

    def staff_of(account) -> list:
        staff = [person for person in account.authorised_staff.all() if person.is_active]
        return staff or _with_roles(people, account.school_id, LEADER_ROLES)

    notices = [
        _at_risk_notice(accounts[account_id], rows, [*_assigned(rows, assignees), *staff_of(accounts[account_id])])
        for account_id, rows in _by_account(at_risk).items()
    ]
    for account_id, rows in _by_account(overdue).items():
        account = accounts[account_id]
        escalate = _with_roles(people, account.school_id, overdue_roles.get(account.school_id) or LEADER_ROLES)
        notices.append(_overdue_notice(account, rows, [*_assigned(rows, assignees), *staff_of(account), *escalate]))
    notify_all(notices)


def _people_by_school_and_role(school_ids) -> dict[tuple[int, str], list]:
    from schoolgate.schools.models import Membership

    found: dict[tuple[int, str], list] = defaultdict(list)
    for membership in Membership.objects.filter(school_id__in=school_ids, user__is_active=True).select_related("user"):
        found[(membership.school_id, membership.role)].append(membership.user)
    return found


def _with_roles(people: dict, school_id: int, roles) -> list:
    return [person for role in sorted(roles) for person in people.get((school_id, role), [])]


def _by_account(rows) -> dict[int, list]:
    grouped: dict[int, list] = defaultdict(list)
    for row in rows:
        grouped[row[1]].append(row)
    return grouped


def _assigned(rows, assignees: dict) -> list:
    return [assignees[row[3]] for row in rows if row[3] in assignees]


def _at_risk_notice(account, rows: list, people: list) -> Notice:
    first_due = min(row[2] for row in rows)
    count = len(rows)
    what = "an item needs" if count == 1 else f"{count} items need"
    return Notice(
        people,
        school=account.school,
        subject=f"{account.name}: {what} an answer by {timezone.localtime(first_due):%-d %B %Y, %H:%M}",
        body=(
            f"On {account.name}, {what} an answer soon; the first is due at "
            f"{timezone.localtime(first_due):%H:%M on %-d %B %Y}. An acknowledgement counts as an answer."
        ),
        url=inbox_url(account.school) + f"?account={account.pk}&due=at_risk",
        about=f"inbox:account:{account.pk}:at_risk",
    )


def _overdue_notice(account, rows: list, people: list) -> Notice:
    count = len(rows)
    what = "An item is" if count == 1 else f"{count} items are"
    return Notice(
        people,
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
    """Abuse is handled swiftly (RS-ABU-1): the account's staff hear of it at once; an item the screening's model
    reads as a possible worry is shown to the safeguarding leads at once (never its words). Other items wait in
    the inbox (the at-risk warning comes before any deadline passes)."""
    _tell_about_worries(item_ids)
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


def _tell_about_worries(item_ids: list[int]) -> int:
    worries = [
        item
        for item in InboxItem.objects.filter(pk__in=item_ids, status=ItemStatus.OPEN).select_related(
            "school", "account"
        )
        if any(f.get("category") == POSSIBLE_WORRY for f in item.findings)
    ]
    if not worries:
        return 0
    # One page of arrivals is one account's, so one school's: its safeguarding leads (or the headteacher) once.
    school = worries[0].school
    leads = list(school.members_with_role(Role.DSL, Role.DEPUTY_DSL)) or list(
        school.members_with_role(Role.HEADTEACHER)
    )
    for item in worries:
        notify(
            leads,
            school=school,
            subject=f"{item.account.name}: a new item may be a safeguarding matter",
            body="Schoolgate's screening reads a new item on this account as a possible disclosure or words of "
            "self-harm. It is still in the inbox with its reply deadline: read it, and pass it to the concern log "
            "if it is a worry.",
            url=item_url(item),
            about=f"inbox:item:{item.pk}:worry",
            urgent=True,
        )
    return len(worries)


def item_url(item) -> str:
    return reverse("inbox:item", args=[item.school.slug, item.pk])
