"""Pre-moderation (AW-MOD-1): on an account that involves pupils (or where the policy moderates comments), a reply
is hidden as it arrives where the network allows it, and shown once someone approves it. Where the network cannot
hide replies the reply stays live, waits first in the queue (InboxItem.held_first), and the account's pages say the
network cannot hold replies. Visibility HELD means hidden on the network and waiting; nothing else.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.connectors.base import Capability, ConnectorError
from schoolgate.connectors.registry import CONNECTORS, connector_class
from schoolgate.inbox.actions import moderation
from schoolgate.inbox.models import (
    InboxItem,
    ItemStatus,
    ModerationAction,
    ModerationKind,
    ModerationPurpose,
    ModerationStatus,
    Visibility,
)
from schoolgate.policy.models import Harm, PolicySettings

HELD_BECAUSE_PUPILS = "held for approval: the account involves pupils"
HELD_BECAUSE_POLICY = "held for approval: the policy moderates comments"
HELD_BECAUSE_HARM = "held for approval: the policy hides {kinds} as it arrives"
APPROVED = "approved: shown to the audience"
# AW-MOD-1 where the network cannot hide replies: said on the item, and on the account's page and inbox.
NOT_HELD_ON_NETWORK = (
    "{network} cannot hold replies for approval, so this reply is live on {network}: approve it, or hide or delete "
    "it there."
)
ACCOUNT_NOT_HELD = (
    "{network} cannot hold replies for approval: they appear at once, and Schoolgate puts them first in the inbox "
    "until someone approves or removes them."
)
ACCOUNT_HELD = "Replies are hidden on {network} as they arrive, and shown once someone approves them."


def hold_on_arrival(item_id: int) -> bool:
    """Job body: hide a new reply on a pre-moderated account, or one holding a kind of harm the policy hides as it
    arrives, until someone approves it. True if it was hidden.

    1. Skip what is not for holding (gone, with the DSL, not under our posts, neither the account pre-moderated
       nor a harm the policy hides) and what has been handled already (safe to run twice).
    2. Where the network cannot hide replies (or the account is not connected), the reply stays live and goes
       first in the queue (held_first), and the account's inbox says the network cannot hold replies.
    3. Otherwise hide it (evidence kept first, by nobody: the policy did it); a transient failure is raised so
       the job is retried, and the reply waits first in the queue meanwhile.
    """
    item = InboxItem.objects.select_related("account__school", "school").filter(pk=item_id).first()
    if item is None or item.status != ItemStatus.OPEN or item.kind not in moderation.UNDER_OUR_POSTS:
        return False
    account = item.account
    policy = PolicySettings.objects.in_force_at(account.school)
    harmful = [h for h in item.harms_found() if policy is not None and h in policy.harms_hidden_on_arrival]
    if not account.holds_replies(policy) and not harmful:
        return False
    earlier = item.moderation.filter(purpose=ModerationPurpose.HOLD).order_by("-pk").first()
    if earlier is not None:
        if earlier.status == ModerationStatus.FAILED and earlier.retryable:
            return _retry_hold(earlier)
        return False
    if item.visibility != Visibility.VISIBLE or item.held_first:
        return False
    problem = moderation.cannot_do(item, ModerationKind.HIDE)
    if problem:
        with transaction.atomic():
            InboxItem.objects.filter(pk=item.pk).update(held_first=True)
            audit.log(
                "inbox.held_first",
                actor="system",
                target=account,
                detail={"item": item.pk, "why": NOT_HELD_ON_NETWORK.format(network=moderation.network_label(account))},
            )
        return False
    with transaction.atomic():
        action = ModerationAction.objects.create(
            item=item,
            kind=ModerationKind.HIDE,
            purpose=ModerationPurpose.HOLD,
            reason=_held_because(account, policy, harmful),
            by=None,
            at=timezone.now(),
            evidence=moderation.evidence_of(item),
            status=ModerationStatus.PENDING,
        )
        moderation._audit_decision(action, None)
    return _finish_hold(moderation.carry_out(action))


def _held_because(account, policy, harmful: list[str]) -> str:
    if account.holds_replies(policy):
        return HELD_BECAUSE_PUPILS if account.involves_pupils else HELD_BECAUSE_POLICY
    return HELD_BECAUSE_HARM.format(kinds=", ".join(Harm(h).label.lower() for h in harmful))


def _retry_hold(action: ModerationAction) -> bool:
    claimed = ModerationAction.objects.filter(pk=action.pk, status=ModerationStatus.FAILED, retryable=True).update(
        status=ModerationStatus.PENDING
    )
    if not claimed:
        return False
    action.refresh_from_db()
    return _finish_hold(moderation.carry_out(action))


def _finish_hold(action: ModerationAction) -> bool:
    if action.status == ModerationStatus.FAILED and action.retryable:
        # Raised so Huey retries the job (tasks.hold_items: retries=3); the reply waits first in the queue.
        raise ConnectorError(action.error)
    return action.status == ModerationStatus.DONE


def awaiting_approval(item: InboxItem) -> bool:
    return item.status == ItemStatus.OPEN and (item.visibility == Visibility.HELD or item.held_first)


def approve_held(item: InboxItem, *, by) -> ModerationAction | None:
    """Show a held reply to the audience (AW-MOD-1): unhidden on the network, or, where it never could be hidden,
    simply taken off the top of the queue. Returns the unhide action (DONE or FAILED), or None."""
    moderation.require_moderator(by, item.account)
    if not awaiting_approval(item):
        raise ValidationError("This reply is not waiting for approval.")
    if item.visibility == Visibility.HELD:
        hold = (
            item.moderation.filter(
                kind=ModerationKind.HIDE, purpose=ModerationPurpose.HOLD, status=ModerationStatus.DONE
            )
            .order_by("-pk")
            .first()
        )
        if hold is None:
            raise ValidationError("Schoolgate has no record of holding this reply, so it cannot show it again.")
        if hold.undone_by.filter(status=ModerationStatus.PENDING).exists():
            raise ValidationError("This reply is being shown already.")
        action = moderation._undo(hold, by=by, reason=APPROVED, purpose=ModerationPurpose.HOLD)
        if action.status == ModerationStatus.DONE:
            audit.log("inbox.held_approved", actor=by, target=item.account, detail={"item": item.pk})
        return action
    with transaction.atomic():
        InboxItem.objects.filter(pk=item.pk).update(held_first=False)
        audit.log("inbox.held_approved", actor=by, target=item.account, detail={"item": item.pk, "hidden": False})
    item.held_first = False
    return None


def reject_held(item: InboxItem, *, by, reason: str = "") -> InboxItem:
    """Keep a held reply away from the audience for good and close it. On a network that could not hide it, it is
    still live there: staff hide or delete it on the network (moderate, where the network allows one)."""
    moderation.require_moderator(by, item.account)
    if not awaiting_approval(item):
        raise ValidationError("This reply is not waiting for approval.")
    reason = (reason or "").strip() or "not approved"
    with transaction.atomic():
        item = InboxItem.objects.select_for_update().get(pk=item.pk)
        hidden = item.visibility == Visibility.HELD
        item.visibility = Visibility.HIDDEN if hidden else item.visibility
        item.held_first = False
        item.status = ItemStatus.CLOSED
        item.closed_reason = f"moderated: not approved: {reason}"[:300]
        item.save(update_fields=["visibility", "held_first", "status", "closed_reason"])
        audit.log(
            "inbox.held_rejected",
            actor=by,
            target=item.account,
            detail={"item": item.pk, "reason": reason, "hidden": hidden},
        )
    return item


def held_on_network_note(account, *, policy=None) -> str:
    """For the account page and the inbox: how replies on a pre-moderated account are held ("" if it is not)."""
    policy = policy if policy is not None else PolicySettings.objects.in_force_at(account.school)
    if not account.holds_replies(policy):
        return ""
    if account.network in CONNECTORS and connector_class(account.network).can(Capability.HIDE):
        return ACCOUNT_HELD.format(network=moderation.network_label(account))
    return ACCOUNT_NOT_HELD.format(network=moderation.network_label(account))
