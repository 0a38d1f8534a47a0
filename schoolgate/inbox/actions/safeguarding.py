"""Passing an item to the safeguarding lead (RS-ABU-2, AW-CON-1, the inbox side): a possible disclosure found by
the screening, or an item a member of staff marks as a safeguarding matter (abuse by a colleague included), opens a
concern in the concern log, is hidden on the network where it can be (never deleted: it is evidence), and keeps no
words in the inbox. Everyone else sees only that it went to the DSL.
"""

from __future__ import annotations

import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.concerns.actions import record_found_concern
from schoolgate.concerns.models import Category as ConcernCategory
from schoolgate.concerns.models import Concern, WhereKind
from schoolgate.concerns.models import Network as ConcernNetwork
from schoolgate.connectors.base import ConnectorError
from schoolgate.inbox.actions import moderation
from schoolgate.inbox.models import (
    Category,
    InboxItem,
    ItemKind,
    ItemStatus,
    ModerationAction,
    ModerationKind,
    ModerationPurpose,
    ModerationStatus,
    Visibility,
)
from schoolgate.schools.permissions import has_permission

ROUTED_REASON = "passed to the safeguarding lead"
KEPT_IN = "the concern log"  # what an earlier action's evidence says once the words have moved there
NOTE_MOVED = "(This note went to the safeguarding lead with the item.)"
# The network as the concern log names it (the log lists more sites than Schoolgate connects to).
CONCERN_NETWORK = {
    "bluesky": ConcernNetwork.BLUESKY,
    "mastodon": ConcernNetwork.MASTODON,
    "facebook": ConcernNetwork.FACEBOOK,
    "instagram": ConcernNetwork.INSTAGRAM,
    "x": ConcernNetwork.X,
    "youtube": ConcernNetwork.YOUTUBE,
}


def may_pass_to_dsl(user, account) -> bool:
    """Whoever works the account's inbox (its moderators) may pass an item to the DSL; anyone may report a concern
    in the concern log itself (concerns.report)."""
    return moderation.may_moderate(user, account) and has_permission(user, account.school, "concerns.report")


def route_item_to_dsl(item_id: int) -> bool:
    """Job body (ingest enqueues it for an item the screening found may be a disclosure, or that holds a kind of
    harm the policy sends to the DSL): True if it opened a concern. Safe to run twice: an item with a concern
    opens no other; a second run only finishes a hide that failed for a reason that may pass (raised again if it
    fails again, so the job is retried)."""
    item = InboxItem.objects.select_related("account__school", "school").filter(pk=item_id).first()
    if item is None:
        return False
    if item.concern_id is not None:
        _retry_hide(item)
        return False
    if item.status != ItemStatus.WITH_DSL:
        return False  # a person has decided about it since the screening
    # A threat or hate the policy sends to the DSL is unacceptable conduct; anything else is a worry about a child.
    category = ConcernCategory.UNACCEPTABLE_CONDUCT if item.category == Category.ABUSE else ConcernCategory.DISCLOSURE
    concern, hide = _pass_to_dsl(item, by=None, category=category, staff=())
    if hide is not None:
        hide = moderation.carry_out(hide)
        if hide.status == ModerationStatus.FAILED and hide.retryable:
            raise ConnectorError(hide.error)
    return concern is not None


def route_to_dsl(item: InboxItem, *, by, category: str = ConcernCategory.DISCLOSURE, staff=()) -> Concern:
    """A member of staff marks an item as a safeguarding matter: a possible disclosure (the default), abuse by a
    colleague (COLLEAGUE_ABUSE, RS-ABU-2; `staff` names the colleagues, so the concern goes to the headteacher and
    the DSL), or any kind of concern the log knows. Returns the concern; the person gets the usual receipt."""
    if not may_pass_to_dsl(by, item.account):
        raise PermissionDenied(f"Only the people who work the inbox of {item.account.name} can pass its items on.")
    if category not in ConcernCategory.values:
        raise ValidationError({"category": "Choose what kind of concern this is."})
    if item.concern_id is not None:
        raise ValidationError("This item has been passed to the safeguarding lead already.")
    concern, hide = _pass_to_dsl(item, by=by, category=category, staff=staff)
    if concern is None:
        raise ValidationError("This item has been passed to the safeguarding lead already.")
    if hide is not None:
        moderation.carry_out(hide, by=by)  # a failure shows in the item's moderation, with a retry
    return concern


def _pass_to_dsl(item: InboxItem, *, by, category: str, staff) -> tuple[Concern | None, ModerationAction | None]:
    """In one transaction (the item locked, so two runs open one concern):

    1. Open the concern through the concern log's own action: the item's words, author, link and time as its
       text, and the whole record (the network's raw record, media, the screening's findings, earlier moderation
       evidence and staff notes) as an encrypted JSON evidence file; its readers are told, without the content.
    2. Empty the item of every word (text, author's name, raw record, media, findings; earlier evidence and
       notes), mark it WITH_DSL and link it to the concern.
    3. Record the decision to hide it (carried out by the caller, after commit), or why it cannot be hidden.
    Returns (concern, hide action to carry out), or (None, None) when it had been passed on already.
    """
    with transaction.atomic():
        item = InboxItem.objects.select_for_update().select_related("account__school", "school").get(pk=item.pk)
        if item.concern_id is not None:
            return None, None
        account, label = item.account, moderation.network_label(item.account)
        record = _evidence_record(item)
        concern = record_found_concern(
            item.school,
            source=f"Found by Schoolgate's screening of {account.name} ({label})",
            by=by,
            category=category,
            text=_concern_text(item, label),
            happened_at=item.received_at,
            where_kind=WhereKind.OFFICIAL_ACCOUNT,
            network=CONCERN_NETWORK.get(account.network, ConcernNetwork.OTHER),
            where_detail=f"{account.name} on {label}" + (f": {item.url}" if item.url else ""),
            evidence=[
                (
                    f"{label} {item.get_kind_display().lower()} {timezone.localtime(item.received_at):%Y-%m-%d %H%M}"
                    ".json",
                    "application/json",
                    json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False).encode(),
                )
            ],
            staff=staff,
        )
        item.moderation.update(evidence={"kept_in": KEPT_IN})
        item.notes.update(text=NOTE_MOVED)
        was_held = item.visibility == Visibility.HELD
        item.status, item.concern = ItemStatus.WITH_DSL, concern
        item.text, item.author_name, item.raw, item.media, item.findings = "", "", {}, [], []
        item.held_first = False
        if was_held:
            item.visibility = Visibility.HIDDEN  # hidden already, and no longer waiting for anyone's approval
        item.save(
            update_fields=[
                "status",
                "concern",
                "text",
                "author_name",
                "raw",
                "media",
                "findings",
                "held_first",
                "visibility",
            ]
        )
        hide = _hide_decision(item, by=by)
        audit.log(
            "inbox.passed_to_dsl",
            actor=by or "system",
            target=account,
            detail={"item": item.pk, "found_by": "staff" if by is not None else "screening"},
        )
    return concern, hide if hide is not None and hide.status == ModerationStatus.PENDING else None


def _hide_decision(item: InboxItem, *, by) -> ModerationAction | None:
    """Hide, never delete: what it said is evidence. Recorded with no words (they are in the concern); where the
    network cannot hide it the record says why, so staff know it is still live there."""
    if item.visibility != Visibility.VISIBLE or item.kind == ItemKind.MESSAGE:
        return None  # hidden already, gone, or a private message nobody else sees
    problem = moderation.cannot_do(item, ModerationKind.HIDE)
    action = ModerationAction.objects.create(
        item=item,
        kind=ModerationKind.HIDE,
        purpose=ModerationPurpose.SAFEGUARDING,
        reason=ROUTED_REASON,
        by=by,
        at=timezone.now(),
        evidence={"kept_in": KEPT_IN, "network": item.account.network, "remote_id": item.remote_id},
        status=ModerationStatus.FAILED if problem else ModerationStatus.PENDING,
        error=problem,
    )
    moderation._audit_decision(action, by)
    return action


def _retry_hide(item: InboxItem) -> None:
    hide = (
        item.moderation.filter(purpose=ModerationPurpose.SAFEGUARDING, kind=ModerationKind.HIDE).order_by("-pk").first()
    )
    if hide is None or hide.status != ModerationStatus.FAILED or not hide.retryable:
        return
    claimed = ModerationAction.objects.filter(pk=hide.pk, status=ModerationStatus.FAILED, retryable=True).update(
        status=ModerationStatus.PENDING
    )
    if claimed:
        hide.refresh_from_db()
        hide = moderation.carry_out(hide)
        if hide.status == ModerationStatus.FAILED and hide.retryable:
            raise ConnectorError(hide.error)


def _concern_text(item: InboxItem, label: str) -> str:
    author = item.author_name or item.author_handle or item.author_remote_id
    lines = [
        f"{item.get_kind_display()} on {item.account.name} ({label}), received "
        f"{timezone.localtime(item.received_at):%-d %B %Y at %H:%M}.",
        f"From {author}"
        + (f" ({item.author_handle})" if item.author_handle and item.author_name else "")
        + f", {label} account {item.author_remote_id}.",
    ]
    if item.url:
        lines.append(f"Link: {item.url}")
    if item.media:
        lines.append(f"With {len(item.media)} image(s) or video(s): their links are in the evidence file.")
    lines += ["", item.text.strip() or "(No words: see the evidence file.)"]
    return "\n".join(lines)


def _evidence_record(item: InboxItem) -> dict:
    """Everything the inbox held about the item, for the concern's evidence file."""
    return {
        "about": "An item on one of the school's official accounts, as Schoolgate received it from the network.",
        "item": moderation.evidence_of(item),
        "screening": item.findings,
        "earlier_moderation": [
            {
                "kind": action.kind,
                "reason": action.reason,
                "at": action.at.isoformat(),
                "by": action.by.full_name if action.by_id else "Schoolgate",
                "status": action.status,
                "evidence": action.evidence,
            }
            for action in item.moderation.select_related("by")
        ],
        "staff_notes": [
            {"by": note.author.full_name, "at": note.created_at.isoformat(), "text": note.text}
            for note in item.notes.select_related("author")
        ],
    }
