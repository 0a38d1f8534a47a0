"""Moderation (RS-ABU-1): hide, delete, block, mute and report through the account's connector, with the evidence
kept first and the audience told why; undo where the network allows; replies held for approval on accounts that
involve pupils (AW-MOD-1). Passing an item to the safeguarding lead is in safeguarding.py.

Every action is one ModerationAction row, saved with its evidence (text, author, time, link, the network's own
record) in its own transaction before the network is called, so whatever happens next the evidence is kept; the
row then records DONE, or FAILED with the error (a transient failure can be retried).
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.connectors.base import Capability, ConnectorError, ItemGone
from schoolgate.connectors.registry import CONNECTORS, connector_class
from schoolgate.inbox.deadlines import inbox_settings
from schoolgate.inbox.models import (
    InboxItem,
    ItemKind,
    ItemStatus,
    ModerationAction,
    ModerationKind,
    ModerationPurpose,
    ModerationStatus,
    ReplyKind,
    ResponseTemplate,
    TemplateKind,
    Visibility,
)
from schoolgate.official_accounts.actions import is_authorised
from schoolgate.official_accounts.models import ConnectionStatus
from schoolgate.schools.permissions import has_permission

logger = logging.getLogger(__name__)

MODERATE_PERMISSION = "inbox.moderate"

# What staff may do to an item, the capability each needs, and how the refusal reads where the network lacks it.
ACTS = (ModerationKind.HIDE, ModerationKind.DELETE, ModerationKind.BLOCK, ModerationKind.MUTE, ModerationKind.REPORT)
CAPABILITY = {
    ModerationKind.HIDE: Capability.HIDE,
    ModerationKind.UNHIDE: Capability.UNHIDE,
    ModerationKind.DELETE: Capability.DELETE_OTHERS,
    ModerationKind.BLOCK: Capability.BLOCK,
    ModerationKind.UNBLOCK: Capability.UNBLOCK,
    ModerationKind.MUTE: Capability.MUTE,
    ModerationKind.UNMUTE: Capability.UNMUTE,
    ModerationKind.REPORT: Capability.REPORT,
}
CANNOT = {
    ModerationKind.HIDE: "hide other people's replies",
    ModerationKind.UNHIDE: "show a hidden reply again through its API",
    ModerationKind.DELETE: "delete other people's comments",
    ModerationKind.BLOCK: "block accounts through its API",
    ModerationKind.UNBLOCK: "unblock accounts through its API",
    ModerationKind.MUTE: "mute accounts through its API",
    ModerationKind.UNMUTE: "unmute accounts through its API",
    ModerationKind.REPORT: "report content through its API",
}
UNDO = {
    ModerationKind.HIDE: ModerationKind.UNHIDE,
    ModerationKind.BLOCK: ModerationKind.UNBLOCK,
    ModerationKind.MUTE: ModerationKind.UNMUTE,
}
# Actions that take the item away from the audience (the item is then closed: nothing is left to answer).
TAKES_AWAY = {ModerationKind.HIDE: Visibility.HIDDEN, ModerationKind.DELETE: Visibility.DELETED}
# Only replies and comments sit under our posts, where an account can hide them; mentions sit in other people's
# threads and private messages are seen by nobody else.
UNDER_OUR_POSTS = {ItemKind.REPLY, ItemKind.COMMENT}
NEEDS_EXPLANATION = {ModerationKind.HIDE, ModerationKind.DELETE}


# Who may moderate, and what the network allows


def may_moderate(user, account) -> bool:
    """Leaders and the safeguarding leads on every account; an account's authorised staff on theirs."""
    if not getattr(user, "is_authenticated", False) or not account.school.roles_of(user):
        return False
    return has_permission(user, account.school, MODERATE_PERMISSION) or is_authorised(user, account)


def require_moderator(user, account) -> None:
    if not may_moderate(user, account):
        raise PermissionDenied(
            f"Only leaders, the safeguarding leads and the staff authorised on {account.name} "
            "may moderate what reaches it."
        )


def network_label(account) -> str:
    if account.network in CONNECTORS:
        return connector_class(account.network).label
    return account.network_label


def cannot_do(item: InboxItem, kind: str) -> str:
    """Why this action cannot be carried out on the item through the network, in words; "" when it can."""
    account = item.account
    label = network_label(account)
    if account.network not in CONNECTORS:
        return f"Schoolgate has no connection to {label}: do it there by hand."
    if not connector_class(account.network).can(CAPABILITY[kind]):
        return f"{label} does not let an account {CANNOT[kind]}."
    if kind in (ModerationKind.HIDE, ModerationKind.UNHIDE, ModerationKind.DELETE):
        if item.kind == ItemKind.MESSAGE:
            return "A private message is seen only by the school: there is nothing to hide or delete."
        if item.kind not in UNDER_OUR_POSTS:
            return f"{label} only lets an account hide or delete replies under its own posts, and this is not one."
    return ""


def not_connected(account) -> str:
    connection = getattr(account, "connection", None)
    if connection is None or connection.status != ConnectionStatus.CONNECTED:
        return f"{account.name} is not connected to {network_label(account)}: reconnect it, then try again."
    return ""


def available_actions(item: InboxItem) -> list[tuple[str, str, str]]:
    """(kind, label, why not) for each action staff may take: why-not empty where the network allows it."""
    return [(kind, ModerationKind(kind).label, cannot_do(item, kind)) for kind in ACTS]


def evidence_of(item: InboxItem) -> dict:
    """What the item was before anything is done to it: text, author, time, link and the network's own record."""
    return {
        "network": item.account.network,
        "account": item.account.name,
        "remote_id": item.remote_id,
        "kind": item.kind,
        "text": item.text,
        "author_id": item.author_remote_id,
        "author_handle": item.author_handle,
        "author_name": item.author_name,
        "received_at": item.received_at.isoformat(),
        "url": item.url,
        "in_reply_to": item.parent_remote_id,
        "thread_root": item.root_remote_id,
        "media": item.media,
        "raw": item.raw,
        "kept_at": timezone.now().isoformat(),
    }


# Moderating


def moderate(
    item: InboxItem,
    *,
    by,
    kind: str,
    reason: str,
    explain_with: ResponseTemplate | None = None,
    explanation_text: str = "",
) -> ModerationAction:
    """Hide, delete, block, mute or report one item (RS-ABU-1), and tell the audience why.

    1. Check: the person moderates this account; the network allows it (else a refusal naming the network);
       a reason for the record; an explanation for the audience where hiding or deleting needs one.
    2. Save the action with the evidence, and audit the decision, in a transaction of its own (committed before
       the network is called, so the evidence survives any failure).
    3. Carry it out through the connector; record DONE, or FAILED with the error (retry_moderation).
    4. Done: the item is hidden or deleted (and closed), and the explanation is queued as a public reply.
    """
    require_moderator(by, item.account)
    if kind not in ACTS:
        raise ValidationError({"kind": "Choose hide, delete, block, mute or report."})
    if item.is_restricted:
        raise ValidationError("This item is with the safeguarding lead, who decides what happens to it.")
    problem = cannot_do(item, kind) or _already(item, kind) or not_connected(item.account)
    if problem:
        raise ValidationError(problem)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why, for the record (the evidence is kept with it)."})
    text = _explanation(item, kind, template=explain_with, text=explanation_text)
    with transaction.atomic():
        action = ModerationAction.objects.create(
            item=item,
            kind=kind,
            purpose=ModerationPurpose.MODERATION,
            reason=reason,
            by=by,
            at=timezone.now(),
            evidence=evidence_of(item),
            status=ModerationStatus.PENDING,
            explanation_text=text,
            explanation_template=explain_with,
        )
        _audit_decision(action, by)
    return carry_out(action, by=by)


def _already(item: InboxItem, kind: str) -> str:
    if item.visibility in (Visibility.DELETED, Visibility.GONE) and kind in TAKES_AWAY:
        return "This item has already been deleted."
    if kind == ModerationKind.HIDE and item.visibility == Visibility.HIDDEN:
        return "This item is already hidden."
    if item.moderation.filter(kind=kind, status=ModerationStatus.PENDING).exists():
        return "This is being done already."
    return ""


def _explanation(item: InboxItem, kind: str, *, template: ResponseTemplate | None, text: str) -> str:
    """The words the audience is told: the template's (edited, if the person changed them), checked now."""
    if template is not None and (
        template.school_id != item.school_id or template.kind != TemplateKind.EXPLANATION or not template.active
    ):
        raise ValidationError({"explain_with": "Choose one of the school's explanation templates."})
    text = (text or "").strip() or (template.text.strip() if template else "")
    account = item.account
    can_reply = account.network in CONNECTORS and connector_class(account.network).can(Capability.REPLY)
    if not text:
        if kind in NEEDS_EXPLANATION and can_reply and inbox_settings(item.school).moderation_needs_explanation:
            raise ValidationError(
                {"explain_with": "Tell the audience why: choose an explanation template (or write the words)."}
            )
        return ""
    if can_reply:
        limit = connector_class(account.network).limits.max_chars
        if len(text) > limit:
            raise ValidationError(
                {"explanation_text": f"{network_label(account)} allows {limit} characters; this has {len(text)}."}
            )
    return text


def carry_out(action: ModerationAction, *, by=None) -> ModerationAction:
    """Call the network for a saved action and record what happened (the action is PENDING, its evidence kept)."""
    item = action.item
    connection = getattr(item.account, "connection", None)
    try:
        if connection is None or connection.status != ConnectionStatus.CONNECTED:
            raise ConnectorError(not_connected(item.account))  # transient: retry once reconnected
        _call(connection.connector(), action)
    except ItemGone:
        _failed(action, by, "It had already been deleted on the network.", retryable=False, gone=True)
    except ConnectorError as error:
        _failed(action, by, error.message, retryable=not error.permanent)
    except Exception:
        logger.exception("Moderation action %s failed", action.pk)
        _failed(action, by, "Schoolgate could not reach the network; try again.", retryable=True)
        raise
    else:
        _done(action, by)
    action.refresh_from_db()
    return action


def _call(connector, action: ModerationAction) -> None:
    item = action.item
    remote = item.remote_item()
    match action.kind:
        case ModerationKind.HIDE:
            connector.hide(remote)
        case ModerationKind.UNHIDE:
            connector.unhide(remote)
        case ModerationKind.DELETE:
            connector.delete_others(remote)
        case ModerationKind.BLOCK:
            connector.block(item.author_remote_id)
        case ModerationKind.UNBLOCK:
            connector.unblock(item.author_remote_id)
        case ModerationKind.MUTE:
            connector.mute(item.author_remote_id)
        case ModerationKind.UNMUTE:
            connector.unmute(item.author_remote_id)
        case ModerationKind.REPORT:
            connector.report(remote, reason=action.reason)


def _done(action: ModerationAction, by) -> None:
    """Record success and what it did to the item; queue the explanation."""
    now = timezone.now()
    with transaction.atomic():
        ModerationAction.objects.filter(pk=action.pk).update(
            status=ModerationStatus.DONE, error="", retryable=False, done_at=now, attempts=action.attempts + 1
        )
        action.refresh_from_db()
        item = InboxItem.objects.select_for_update().get(pk=action.item_id)
        fields = []
        if action.kind in TAKES_AWAY:
            visible = Visibility.HELD if action.purpose == ModerationPurpose.HOLD else TAKES_AWAY[action.kind]
            item.visibility, item.held_first = visible, False
            fields += ["visibility", "held_first"]
            if action.purpose == ModerationPurpose.MODERATION and item.status == ItemStatus.OPEN:
                item.status = ItemStatus.CLOSED
                item.closed_reason = f"moderated: {action.get_kind_display().lower()}: {action.reason}"[:300]
                fields += ["status", "closed_reason"]
        elif action.kind == ModerationKind.UNHIDE:
            item.visibility, item.held_first = Visibility.VISIBLE, False
            fields += ["visibility", "held_first"]
            # Shown again after a mistaken hide: it may still need an answer.
            if item.status == ItemStatus.CLOSED and item.closed_reason.startswith("moderated:"):
                item.status, item.closed_reason = ItemStatus.OPEN, ""
                fields += ["status", "closed_reason"]
        if fields:
            item.save(update_fields=fields)
        audit.log(
            "inbox.moderation_done",
            actor=by or "system",
            target=item.account,
            detail={"item": item.pk, "action": action.pk, "kind": action.kind, "purpose": action.purpose},
        )
        if action.explanation_text and action.explanation_id is None:
            _queue_explanation(action, by=by or action.by)


def _failed(action: ModerationAction, by, error: str, *, retryable: bool, gone: bool = False) -> None:
    with transaction.atomic():
        ModerationAction.objects.filter(pk=action.pk).update(
            status=ModerationStatus.FAILED, error=error[:2000], retryable=retryable, attempts=action.attempts + 1
        )
        item = InboxItem.objects.select_for_update().get(pk=action.item_id)
        fields = []
        if gone:
            item.visibility = Visibility.GONE
            fields.append("visibility")
            if item.status == ItemStatus.OPEN:
                item.status, item.closed_reason = ItemStatus.CLOSED, "deleted on the network"
                fields += ["status", "closed_reason"]
        elif action.purpose == ModerationPurpose.HOLD and item.visibility == Visibility.VISIBLE:
            # Not hidden after all: it is live, so it goes first in the queue until someone decides.
            item.held_first = True
            fields.append("held_first")
        if fields:
            item.save(update_fields=fields)
        audit.log(
            "inbox.moderation_failed",
            actor=by or "system",
            target=item.account,
            detail={"item": item.pk, "action": action.pk, "kind": action.kind, "error": error, "retry": retryable},
        )


def _audit_decision(action: ModerationAction, by) -> None:
    detail = {"item": action.item_id, "action": action.pk, "kind": action.kind, "purpose": action.purpose}
    if action.purpose != ModerationPurpose.SAFEGUARDING:
        detail["reason"] = action.reason
    audit.log("inbox.moderation_decided", actor=by or "system", target=action.item.account, detail=detail)


def _queue_explanation(action: ModerationAction, *, by) -> None:
    """The audience is told why, as a reply under our post where the network allows it; otherwise the action
    says why it was not (and staff tell them another way)."""
    item = action.item
    account = item.account
    label = network_label(account)
    note = ""
    if not connector_class(account.network).can(Capability.REPLY):
        note = f"{label} does not let Schoolgate reply, so the explanation was not posted: tell the audience there."
    elif not item.root_remote_id:
        note = "There is no post of ours to reply under, so the explanation was not posted."
    elif by is None:
        note = "Nobody wrote the explanation, so it was not posted."
    if note:
        ModerationAction.objects.filter(pk=action.pk).update(explanation_note=note)
        return
    from schoolgate.inbox.actions.replies import write_reply  # replies import the moderation rules, not the reverse

    try:
        reply = write_reply(
            item, by=by, text=action.explanation_text, kind=ReplyKind.EXPLANATION, template=action.explanation_template
        )
    except (ValidationError, PermissionDenied) as error:
        message = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        ModerationAction.objects.filter(pk=action.pk).update(
            explanation_note=f"The explanation could not be posted: {message}"[:300]
        )
        return
    ModerationAction.objects.filter(pk=action.pk).update(explanation=reply)


def retry_moderation(action: ModerationAction, *, by) -> ModerationAction:
    """Try a failed action again (a transient failure: the network was down or busy). The evidence is the one
    kept the first time; the action is claimed first, so two retries at once call the network once."""
    if by is not None:
        require_moderator(by, action.item.account)
    if action.status != ModerationStatus.FAILED or not action.retryable:
        raise ValidationError("Only an action that failed for a reason that may pass can be tried again.")
    claimed = ModerationAction.objects.filter(pk=action.pk, status=ModerationStatus.FAILED, retryable=True).update(
        status=ModerationStatus.PENDING
    )
    if not claimed:
        raise ValidationError("This is being tried again already.")
    action.refresh_from_db()
    audit.log(
        "inbox.moderation_retried",
        actor=by or "system",
        target=action.item.account,
        detail={"item": action.item_id, "action": action.pk, "kind": action.kind},
    )
    return carry_out(action, by=by)


# Undoing


def undo_moderation(action: ModerationAction, *, by, reason: str = "") -> ModerationAction:
    """Show a hidden reply again, unblock or unmute, where the network allows it; a deletion cannot be undone."""
    item = action.item
    require_moderator(by, item.account)
    label = network_label(item.account)
    if action.kind == ModerationKind.DELETE:
        raise ValidationError(f"A deleted comment cannot be brought back: {label} removes it for good.")
    if action.kind == ModerationKind.REPORT:
        raise ValidationError(f"A report to {label} cannot be withdrawn through Schoolgate.")
    if action.kind not in UNDO or action.status != ModerationStatus.DONE:
        raise ValidationError("Only a hide, block or mute that was carried out can be undone.")
    if action.purpose == ModerationPurpose.SAFEGUARDING:
        raise ValidationError("This was hidden when it went to the safeguarding lead, who decides what happens to it.")
    if action.undone_by.exclude(status=ModerationStatus.FAILED).exists():
        raise ValidationError("This has been undone already.")
    if action.kind == ModerationKind.HIDE and item.visibility in (Visibility.DELETED, Visibility.GONE):
        raise ValidationError("The reply has been deleted since, so there is nothing to show again.")
    return _undo(action, by=by, reason=(reason or "").strip() or f"undo: {action.reason}", purpose=action.purpose)


def _undo(action: ModerationAction, *, by, reason: str, purpose: str) -> ModerationAction:
    kind = UNDO[action.kind]
    problem = cannot_do(action.item, kind) or not_connected(action.item.account)
    if problem:
        raise ValidationError(problem)
    with transaction.atomic():
        undo = ModerationAction.objects.create(
            item=action.item,
            kind=kind,
            purpose=purpose,
            reason=reason,
            by=by,
            at=timezone.now(),
            evidence=evidence_of(action.item),
            status=ModerationStatus.PENDING,
            undoes=action,
        )
        _audit_decision(undo, by)
    return carry_out(undo, by=by)


# Pushed removals


def record_removed_on_network(account, remote_ids) -> int:
    """Items the network says were deleted (a webhook's removal): marked gone, unless we deleted them ourselves."""
    ids = [remote_id for remote_id in remote_ids if remote_id]
    if not ids:
        return 0
    with transaction.atomic():
        gone = (
            InboxItem.objects.filter(account=account, remote_id__in=ids)
            .exclude(visibility__in=[Visibility.DELETED, Visibility.GONE])
            .update(visibility=Visibility.GONE)
        )
        if gone:
            audit.log("inbox.items_gone", actor="system", target=account, detail={"count": gone})
    return gone


# Holding replies (premoderation.py) and passing an item to the DSL (safeguarding.py) build on the actions above;
# these names are where the jobs and triage call them, imported on use so no two modules import each other at load.


def hold_on_arrival(item_id: int) -> bool:
    """Job body (tasks.hold_items, per item): see premoderation.hold_on_arrival."""
    from schoolgate.inbox.actions import premoderation

    return premoderation.hold_on_arrival(item_id)


def route_item_to_dsl(item_id: int) -> bool:
    """Job body (tasks.route_items_to_dsl, per item): see safeguarding.route_item_to_dsl."""
    from schoolgate.inbox.actions import safeguarding

    return safeguarding.route_item_to_dsl(item_id)


def route_to_dsl(item: InboxItem, *, by, category: str = "disclosure", staff=()):
    """A member of staff passes an item to the DSL: see safeguarding.route_to_dsl."""
    from schoolgate.inbox.actions import safeguarding

    return safeguarding.route_to_dsl(item, by=by, category=category, staff=staff)
