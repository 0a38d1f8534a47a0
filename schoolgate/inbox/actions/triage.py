"""Triage: what an item is (suggested by the screening, set by staff), who answers it, notes between staff that never
go public, closing what needs no answer, and the contacts the school knows (pupils, parents, journalists)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.inbox.actions.replies import may_answer, require_answerer
from schoolgate.inbox.deadlines import reply_deadline
from schoolgate.inbox.models import (
    ANSWERED_CATEGORIES,
    Category,
    Contact,
    ContactRelation,
    InboxItem,
    ItemStatus,
    Note,
)
from schoolgate.notifications.actions import notify

NOTE_LIMIT = 4000
# Abuse has a clock too: it must be handled swiftly (RS-ABU-1), by moderation rather than an answer.
CLOCKED = ANSWERED_CATEGORIES | {Category.ABUSE}
# What needs no answer is closed when staff say so; the rest stays open until answered.
CLOSES = frozenset({Category.SPAM, Category.NO_ANSWER})


def _require_open_to_triage(item: InboxItem) -> None:
    if item.status == ItemStatus.WITH_DSL:
        raise ValidationError("This item is with the safeguarding lead, who decides what happens to it.")


def set_category(item: InboxItem, *, by, category: str) -> InboxItem:
    """Staff say what the item is. A category that is answered gets a due time from when it arrived (if it had
    none); one that needs no answer is closed. A possible safeguarding matter goes through route_to_dsl instead,
    so the words leave the inbox."""
    require_answerer(by, item.account)
    _require_open_to_triage(item)
    if category not in Category.values:
        raise ValidationError({"category": "Choose what kind of item this is."})
    if category == Category.SAFEGUARDING:
        raise ValidationError("Pass a possible safeguarding matter to the safeguarding lead (it leaves the inbox).")
    with transaction.atomic():
        item = InboxItem.objects.select_for_update().get(pk=item.pk)
        before = item.category
        item.category, item.category_set_by = category, by
        fields = ["category", "category_set_by"]
        if category in CLOCKED and item.due_at is None and item.first_answered_at is None:
            item.due_at, item.at_risk_at = reply_deadline(item.school, item.received_at)
            fields += ["due_at", "at_risk_at"]
        if category in CLOSES and item.status == ItemStatus.OPEN:
            item.status, item.closed_reason = ItemStatus.CLOSED, f"needs no answer: {Category(category).label}"
            fields += ["status", "closed_reason"]
        elif category not in CLOSES and item.status == ItemStatus.CLOSED and item.closed_reason.startswith("needs no"):
            item.status, item.closed_reason = ItemStatus.OPEN, ""
            fields += ["status", "closed_reason"]
        item.save(update_fields=fields)
        audit.log(
            "inbox.category_set",
            actor=by,
            target=item.account,
            detail={"item": item.pk, "from": before, "to": category, "suggested": item.suggested_category},
        )
    return item


def assign(item: InboxItem, *, by, to) -> InboxItem:
    """Give the item to a person who may answer on the account (or take it back: to=None); they are told."""
    require_answerer(by, item.account)
    _require_open_to_triage(item)
    if to is not None and not may_answer(to, item.account):
        raise ValidationError({"to": f"{to.get_full_name() or to} may not answer on {item.account.name}."})
    with transaction.atomic():
        InboxItem.objects.filter(pk=item.pk).update(assigned_to=to)
        item.refresh_from_db()
        audit.log(
            "inbox.assigned", actor=by, target=item.account, detail={"item": item.pk, "to": to.pk if to else None}
        )
        if to is not None and to.pk != by.pk:
            from schoolgate.inbox.actions.escalation import item_url

            notify(
                [to],
                school=item.school,
                subject=f"An inbox item on {item.account.name} is yours to answer",
                body=_due_words(item),
                url=item_url(item),
            )
    return item


def _due_words(item: InboxItem) -> str:
    if item.due_at is None:
        return "Open it in the inbox."
    return f"It is due by {timezone.localtime(item.due_at):%-d %B %Y, %H:%M}. Open it in the inbox."


def add_note(item: InboxItem, *, by, text: str) -> Note:
    """A note between staff: seen by those who work the inbox, never sent anywhere."""
    require_answerer(by, item.account)
    _require_open_to_triage(item)
    text = text.strip()
    if not text:
        raise ValidationError({"text": "Write the note."})
    if len(text) > NOTE_LIMIT:
        raise ValidationError({"text": f"A note can be at most {NOTE_LIMIT} characters."})
    with transaction.atomic():
        note = Note.objects.create(item=item, author=by, text=text, created_at=timezone.now())
        audit.log("inbox.note_added", actor=by, target=item.account, detail={"item": item.pk, "note": note.pk})
    return note


def close_item(item: InboxItem, *, by, reason: str) -> InboxItem:
    """Close without an answer (answered elsewhere, nothing to say), with the reason on the record."""
    require_answerer(by, item.account)
    _require_open_to_triage(item)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why it needs no answer."})
    with transaction.atomic():
        if not InboxItem.objects.filter(pk=item.pk, status=ItemStatus.OPEN).update(
            status=ItemStatus.CLOSED, closed_reason=reason[:300]
        ):
            raise ValidationError("Only an open item can be closed.")
        item.refresh_from_db()
        audit.log("inbox.closed", actor=by, target=item.account, detail={"item": item.pk, "reason": reason[:300]})
    return item


def reopen_item(item: InboxItem, *, by) -> InboxItem:
    require_answerer(by, item.account)
    _require_open_to_triage(item)
    with transaction.atomic():
        if not InboxItem.objects.filter(pk=item.pk, status__in=[ItemStatus.CLOSED, ItemStatus.ANSWERED]).update(
            status=ItemStatus.OPEN, closed_reason=""
        ):
            raise ValidationError("Only a closed or answered item can be opened again.")
        item.refresh_from_db()
        audit.log("inbox.reopened", actor=by, target=item.account, detail={"item": item.pk})
    return item


def set_contact(item: InboxItem, *, by, relation: str) -> Contact | None:
    """Say who the item's author is to the school (a pupil, a parent or carer, a journalist...): private replies to
    pupils and parents are then refused (AW-MOD-2). An empty relation forgets the contact."""
    require_answerer(by, item.account)
    if item.status == ItemStatus.WITH_DSL:
        raise PermissionDenied("This item is with the safeguarding lead.")
    if relation and relation not in ContactRelation.values:
        raise ValidationError({"relation": "Choose who this person is to the school."})
    key = {"school": item.school, "network": item.account.network, "remote_id": item.author_remote_id}
    with transaction.atomic():
        if not relation:
            Contact.objects.filter(**key).delete()
            contact = None
        else:
            contact, _ = Contact.objects.update_or_create(
                **key,
                defaults={
                    "handle": item.author_handle[:300],
                    "relation": relation,
                    "set_by": by,
                    "set_at": timezone.now(),
                },
            )
        audit.log(
            "inbox.contact_set",
            actor=by,
            target=item.account,
            detail={"item": item.pk, "author": item.author_handle or item.author_remote_id, "relation": relation},
        )
    return contact
