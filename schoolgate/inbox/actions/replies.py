"""Our answers (RS-MON-1, RS-PUB-1, RS-PRESS-1, AW-MOD-2): written by a named person, read by a colleague first where
the inbox settings say so, approved by the headteacher for the press, refused when private to a pupil or parent,
and sent through the connector exactly once (a stable key, a lease, retries that cannot answer twice)."""

from __future__ import annotations

import datetime as dt
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.connectors.base import Capability, ConnectorError, ItemGone
from schoolgate.connectors.registry import CONNECTORS, connector_class
from schoolgate.inbox.deadlines import inbox_settings
from schoolgate.inbox.models import (
    NO_PRIVATE_MESSAGES_TO,
    Category,
    Contact,
    InboxItem,
    ItemKind,
    ItemStatus,
    Reply,
    ReplyKind,
    ReplyStatus,
    ResponseTemplate,
    Visibility,
)
from schoolgate.notifications.actions import notify
from schoolgate.official_accounts.actions import is_authorised, record_connector_error
from schoolgate.official_accounts.models import ConnectionStatus
from schoolgate.policy.models import PolicySettings
from schoolgate.schools.permissions import has_permission

ANSWER_PERMISSION = "inbox.answer"
REVIEW_PERMISSION = "posts.review"  # the same colleagues who read posts before they go out
LEASE = dt.timedelta(minutes=10)
RETRY_BACKOFF = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=15))
TEXT_LIMIT = 5000
# Words the school chose in advance (its templates) for moderation: they go out without a second reader, so the
# audience is told at once; everything else follows the review setting.
NO_REVIEW_KINDS = frozenset({ReplyKind.EXPLANATION})
# Replies that answer the item (an acknowledgement counts: "even if only to acknowledge").
ANSWERING_KINDS = frozenset({ReplyKind.ACKNOWLEDGEMENT, ReplyKind.ANSWER, ReplyKind.CONTACT_OFFICE})


# Who may answer


def may_answer(user, account) -> bool:
    """Leaders and the safeguarding leads on every account; an account's authorised staff on theirs."""
    if not getattr(user, "is_authenticated", False) or not account.school.roles_of(user):
        return False
    return has_permission(user, account.school, ANSWER_PERMISSION) or is_authorised(user, account)


def require_answerer(user, account) -> None:
    if not may_answer(user, account):
        raise PermissionDenied(
            f"Only leaders, the safeguarding leads and the staff authorised on {account.name} may answer on it."
        )


def may_approve_press(user, school) -> bool:
    return inbox_settings(school).press_approver_role in school.roles_of(user)


def signed(text: str, account) -> str:
    """RS-PUB-1: the account's sign-off, when it has one, closes every reply as it closes every post."""
    text = text.strip()
    return f"{text}\n\n{account.sign_off.strip()}" if account.sign_off.strip() else text


def contact_of(item: InboxItem) -> Contact | None:
    return Contact.objects.filter(
        school=item.school, network=item.account.network, remote_id=item.author_remote_id
    ).first()


def private_reply_forbidden(item: InboxItem, *, policy=None) -> str:
    """AW-MOD-2: why a private reply to this item's author is not allowed ("" when it is)."""
    if item.kind != ItemKind.MESSAGE:
        return ""
    policy = policy if policy is not None else PolicySettings.objects.in_force_at(item.school)
    if policy is None or not policy.private_messages_forbidden:
        return ""
    contact = contact_of(item)
    if contact is None or contact.relation not in NO_PRIVATE_MESSAGES_TO:
        return ""
    return (
        f"The policy forbids private messages with pupils, parents and carers, and "
        f"{item.author_handle or 'this person'} is known as a {contact.get_relation_display().lower()}. "
        "Ask them to contact the school office instead, by a public reply or by the school's usual channels."
    )


def reply_obstacle(item: InboxItem) -> str:
    """Why nothing can be sent in answer to this item through the network ("" when it can)."""
    account = item.account
    if item.status == ItemStatus.WITH_DSL:
        return "This item is with the safeguarding lead, who decides what happens to it."
    if item.visibility == Visibility.GONE:
        return "This was deleted on the network: there is nothing left to reply to."
    if account.network not in CONNECTORS:
        return f"Schoolgate has no connection to {account.network_label}: reply there, then record it here."
    cls = connector_class(account.network)
    if not cls.can(Capability.REPLY):
        return f"{cls.label} does not let Schoolgate reply: reply there, then record it here."
    connection = getattr(account, "connection", None)
    if connection is None or connection.status != ConnectionStatus.CONNECTED:
        return f"{account.name} is not connected to {cls.label}: reconnect it, then reply."
    return ""


# Writing


def write_reply(
    item: InboxItem,
    *,
    by,
    text: str = "",
    kind: str = ReplyKind.ANSWER,
    template: ResponseTemplate | None = None,
) -> Reply:
    """Write an answer to the item; it goes out at once, or after a colleague's review or the headteacher's
    approval where those apply.

    1. The writer may answer on the account; the item can be answered through the network.
    2. The words: the template's unless the writer changed them, with the sign-off, within the network's limit.
    3. AW-MOD-2: a private reply to a known pupil or parent is refused and the attempt audited (it is logged even
       though nothing is saved, so the refusal is on the record).
    4. Press enquiries (RS-PRESS-1) wait for the approver; others for a colleague where replies need review.
    """
    require_answerer(by, item.account)
    if template is not None and (template.school_id != item.school_id or not template.active):
        raise ValidationError({"template": "Choose one of the school's own templates."})
    words = (text or (template.text if template is not None else "")).strip()
    if not words:
        raise ValidationError({"text": "Write the reply, or choose a template."})
    if len(words) > TEXT_LIMIT:
        raise ValidationError({"text": f"A reply can be at most {TEXT_LIMIT} characters."})
    if forbidden := private_reply_forbidden(item):
        audit.log(
            "inbox.private_reply_refused",
            actor=by,
            target=item.account,
            detail={"item": item.pk, "author": item.author_handle or item.author_remote_id, "kind": kind},
        )
        raise PermissionDenied(forbidden)
    if obstacle := reply_obstacle(item):
        raise ValidationError(obstacle)
    outgoing = signed(words, item.account)
    if problems := connector_class(item.account.network).reply_problems(outgoing):
        raise ValidationError({"text": problems})
    settings = inbox_settings(item.school)
    status = ReplyStatus.QUEUED
    approved_by = None
    if item.category == Category.PRESS and kind in ANSWERING_KINDS:
        if may_approve_press(by, item.school):
            approved_by = by  # the approver writing the answer themselves
        else:
            status = ReplyStatus.AWAITING_APPROVAL
    elif settings.replies_need_review and kind not in NO_REVIEW_KINDS:
        status = ReplyStatus.AWAITING_REVIEW
    now = timezone.now()
    with transaction.atomic():
        reply = Reply.objects.create(
            item=item,
            kind=kind,
            text=outgoing,
            written_by=by,
            written_at=now,
            status=status,
            approved_by=approved_by,
            approved_at=now if approved_by else None,
            key=f"reply-{secrets.token_hex(12)}@{now.isoformat()}",  # Bluesky derives its record key from the time
        )
        audit.log(
            "inbox.reply_written",
            actor=by,
            target=item.account,
            detail={
                "item": item.pk,
                "reply": reply.pk,
                "kind": kind,
                "status": status,
                "template": template and template.pk,
            },
        )
        if status == ReplyStatus.AWAITING_APPROVAL:
            _ask(reply, _press_approvers(item.school), "A reply to the press is waiting for your approval")
        elif status == ReplyStatus.AWAITING_REVIEW:
            _ask(reply, _reviewers(reply), "A reply is waiting for a colleague's review")
        else:
            _enqueue(reply)
    return reply


def _press_approvers(school) -> list:
    return list(school.members_with_role(inbox_settings(school).press_approver_role))


def _reviewers(reply: Reply) -> list:
    account = reply.item.account
    people = [p for p in account.authorised_staff.filter(is_active=True) if p.pk != reply.written_by_id]
    if not people:
        from schoolgate.schools.roles import LEADER_ROLES

        people = [p for p in account.school.members_with_role(*LEADER_ROLES) if p.pk != reply.written_by_id]
    return people


def _ask(reply: Reply, people: list, subject: str) -> None:
    from schoolgate.inbox.actions.escalation import item_url

    # Never the commenter's words or ours in a notice: the page shows them to those allowed to read them.
    notify(
        people,
        school=reply.item.school,
        subject=subject,
        body=f"On {reply.item.account.name}. Open the inbox item to read it and decide.",
        url=item_url(reply.item),
    )


def _enqueue(reply: Reply) -> None:
    from schoolgate.inbox import tasks

    transaction.on_commit(lambda: tasks.send_reply(reply.pk))


# Review and approval


def review_reply(reply: Reply, *, by, approve: bool, reason: str = "") -> Reply:
    """A colleague reads the reply: approved, it goes out; returned, it goes back to the writer with the reason."""
    item = reply.item
    if reply.status != ReplyStatus.AWAITING_REVIEW:
        raise ValidationError("This reply is not waiting for a review.")
    if by.pk == reply.written_by_id:
        raise PermissionDenied("A colleague reviews a reply: not the person who wrote it.")
    if not (has_permission(by, item.school, REVIEW_PERMISSION) and may_answer(by, item.account)):
        raise PermissionDenied(f"Only staff who may answer on {item.account.name} review its replies.")
    return _decide(reply, by=by, approve=approve, reason=reason, field="reviewed", waiting=ReplyStatus.AWAITING_REVIEW)


def approve_press_reply(reply: Reply, *, by, approve: bool, reason: str = "") -> Reply:
    """RS-PRESS-1: nothing goes to a journalist until the headteacher (or the role the school chose) approves it."""
    if reply.status != ReplyStatus.AWAITING_APPROVAL:
        raise ValidationError("This reply is not waiting for approval.")
    if not may_approve_press(by, reply.item.school):
        settings = inbox_settings(reply.item.school)
        raise PermissionDenied(
            f"Answers to the press are approved by the {settings.get_press_approver_role_display().lower()}."
        )
    return _decide(
        reply, by=by, approve=approve, reason=reason, field="approved", waiting=ReplyStatus.AWAITING_APPROVAL
    )


def _decide(reply: Reply, *, by, approve: bool, reason: str, field: str, waiting: str) -> Reply:
    reason = reason.strip()
    if not approve and not reason:
        raise ValidationError({"reason": "Say why, so the writer can put it right."})
    now = timezone.now()
    with transaction.atomic():
        status = ReplyStatus.QUEUED if approve else ReplyStatus.WITHDRAWN
        changed = Reply.objects.filter(pk=reply.pk, status=waiting).update(
            status=status, **{f"{field}_by": by, f"{field}_at": now}, last_error="" if approve else reason[:1000]
        )
        if not changed:
            raise ValidationError("Someone else has just decided on this reply.")
        reply.refresh_from_db()
        audit.log(
            f"inbox.reply_{field}" if approve else "inbox.reply_returned",
            actor=by,
            target=reply.item.account,
            detail={"item": reply.item_id, "reply": reply.pk, "reason": reason},
        )
        if approve:
            _enqueue(reply)
        else:
            _ask(reply, [reply.written_by], "Your reply was returned")
    return reply


# Sending (the job: safe to run twice, concurrently, or after a crash)


def _claim(reply_id: int, now: dt.datetime) -> Reply | None:
    due = Q(status=ReplyStatus.QUEUED) & (Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now))
    stalled = Q(status=ReplyStatus.SENDING, lease_expires_at__lte=now)
    reply = Reply.objects.filter(due | stalled, pk=reply_id).select_related("item__account__school").first()
    if reply is None:
        return None
    stalled_send = reply.status == ReplyStatus.SENDING
    claimed = Reply.objects.filter(pk=reply.pk, status=reply.status, attempts=reply.attempts).update(
        status=ReplyStatus.SENDING, lease_expires_at=now + LEASE, attempts=reply.attempts + 1
    )
    if not claimed:
        return None
    reply.refresh_from_db()
    reply.stalled_send = stalled_send  # the worker before this one died mid-send: it may have gone out
    return reply


def send_reply(reply_id: int) -> str:
    """Send one reply through the account's connector. The key is the reply's own, so a retry after a crash or a
    timeout finds the earlier attempt (networks that honour keys) instead of answering twice. Returns the status."""
    now = timezone.now()
    reply = _claim(reply_id, now)
    if reply is None:
        return ""
    item = reply.item
    obstacle = reply_obstacle(item)
    if obstacle:
        return _failed(reply, obstacle, retryable=item.visibility != Visibility.GONE)
    connection = item.account.connection
    connector = connection.connector()
    if reply.stalled_send and not type(connector).replies_idempotent:
        return _to_check(reply, "the attempt was interrupted")
    try:
        published = connector.reply(item.remote_item(), reply.text, key=reply.key)
    except ItemGone as error:
        InboxItem.objects.filter(pk=item.pk).update(visibility=Visibility.GONE)
        return _failed(reply, f"It was deleted on the network before the reply went: {error.message}", retryable=False)
    except ConnectorError as error:
        record_connector_error(connection, error)
        # Without a status (a timeout, a dropped connection) or with a 5xx the reply may have gone out; only a
        # network that recognises the key can be asked again safely.
        unknown = not error.permanent and (error.status is None or error.status >= 500)
        if unknown and not type(connector).replies_idempotent:
            return _to_check(reply, error.message)
        return _failed(reply, error.message, retryable=not error.permanent, retry_after=error.retry_after)
    _sent(reply, remote_id=published.remote_id, url=published.url)
    return ReplyStatus.SENT


def _to_check(reply: Reply, message: str) -> str:
    label = connector_class(reply.item.account.network).label
    note = (
        f"{label} did not answer ({message}), so the reply may or may not have gone out, and {label} cannot be asked. "
        "Look at the thread on the network: if it is there, record its link; if not, send it again."
    )
    Reply.objects.filter(pk=reply.pk).update(status=ReplyStatus.CHECK, last_error=note[:1000], lease_expires_at=None)
    audit.log(
        "inbox.reply_uncertain",
        actor="system",
        target=reply.item.account,
        detail={"item": reply.item_id, "reply": reply.pk},
    )
    _ask(reply, [reply.written_by], f"Check {reply.item.account.name}: did the reply go out?")
    return ReplyStatus.CHECK


def confirm_sent(reply: Reply, *, by, url: str) -> Reply:
    """A person found the reply on the network (after an uncertain attempt): it is recorded as sent, with its link."""
    require_answerer(by, reply.item.account)
    url = url.strip()
    if not url.startswith("https://"):
        raise ValidationError({"url": "Paste the reply's link from the network (it starts with https://)."})
    if reply.status != ReplyStatus.CHECK:
        raise ValidationError("Only a reply whose outcome is unknown can be recorded as sent.")
    _sent(reply, remote_id="", url=url)
    audit.log(
        "inbox.reply_confirmed", actor=by, target=reply.item.account, detail={"reply": reply.pk, "url": url[:500]}
    )
    reply.refresh_from_db()
    return reply


@transaction.atomic
def _sent(reply: Reply, *, remote_id: str, url: str) -> None:
    now = timezone.now()
    Reply.objects.filter(pk=reply.pk).update(
        status=ReplyStatus.SENT,
        remote_id=remote_id[:300],
        url=url[:500],
        sent_at=now,
        lease_expires_at=None,
        last_error="",
    )
    item = InboxItem.objects.select_for_update().get(pk=reply.item_id)
    if reply.kind in ANSWERING_KINDS:
        mark_answered(item, by=reply.written_by, at=now)
    audit.log(
        "inbox.reply_sent",
        actor="system",
        target=item.account,
        detail={
            "item": item.pk,
            "reply": reply.pk,
            "kind": reply.kind,
            "remote_id": remote_id,
            "by": reply.written_by_id,
        },
    )


def mark_answered(item: InboxItem, *, by, at: dt.datetime) -> None:
    """The first answer stops the clock (RS-MON-1); later ones are archived but change nothing."""
    fields = []
    if item.first_answered_at is None:
        item.first_answered_at, item.answered_by = at, by
        fields += ["first_answered_at", "answered_by"]
    if item.status == ItemStatus.OPEN:
        item.status = ItemStatus.ANSWERED
        fields.append("status")
    if fields:
        item.save(update_fields=fields)


def _failed(reply: Reply, message: str, *, retryable: bool, retry_after: float | None = None) -> str:
    """Transient failures are tried again a few times by the sweep; then, or at once for a permanent refusal, the
    reply waits as failed (visible, with a retry button) and the writer is told."""
    now = timezone.now()
    retry_in = None
    if retryable and reply.attempts <= len(RETRY_BACKOFF):
        retry_in = RETRY_BACKOFF[reply.attempts - 1]
        if retry_after:
            retry_in = max(retry_in, dt.timedelta(seconds=retry_after))
    status = ReplyStatus.QUEUED if retry_in else ReplyStatus.FAILED
    Reply.objects.filter(pk=reply.pk).update(
        status=status, last_error=message[:1000], lease_expires_at=now + retry_in if retry_in else None
    )
    audit.log(
        "inbox.reply_retrying" if retry_in else "inbox.reply_failed",
        actor="system",
        target=reply.item.account,
        detail={"item": reply.item_id, "reply": reply.pk, "error": message, "attempt": reply.attempts},
    )
    if status == ReplyStatus.FAILED:
        _ask(reply, [reply.written_by], f"A reply on {reply.item.account.name} did not go out")
    return status


def retry_reply(reply: Reply, *, by) -> Reply:
    """Send a failed reply again (same key: if an earlier attempt did reach the network, it is not sent twice)."""
    require_answerer(by, reply.item.account)
    if not Reply.objects.filter(pk=reply.pk, status__in=[ReplyStatus.FAILED, ReplyStatus.CHECK]).update(
        status=ReplyStatus.QUEUED, lease_expires_at=None, attempts=0
    ):
        raise ValidationError("Only a reply that failed, or whose outcome was unknown, can be sent again.")
    reply.refresh_from_db()
    audit.log(
        "inbox.reply_retried", actor=by, target=reply.item.account, detail={"item": reply.item_id, "reply": reply.pk}
    )
    _enqueue(reply)
    return reply


def withdraw_reply(reply: Reply, *, by) -> Reply:
    """The writer (or a leader) takes back a reply that has not gone out."""
    require_answerer(by, reply.item.account)
    waiting = (ReplyStatus.AWAITING_REVIEW, ReplyStatus.AWAITING_APPROVAL, ReplyStatus.FAILED, ReplyStatus.CHECK)
    if not Reply.objects.filter(pk=reply.pk, status__in=waiting).update(status=ReplyStatus.WITHDRAWN):
        raise ValidationError("Only a reply that has not gone out can be withdrawn.")
    reply.refresh_from_db()
    audit.log(
        "inbox.reply_withdrawn", actor=by, target=reply.item.account, detail={"item": reply.item_id, "reply": reply.pk}
    )
    return reply


def replies_due(now: dt.datetime) -> list[int]:
    """Replies the sweep sends: queued ones whose retry time has come, and sends whose worker died."""
    return list(
        Reply.objects.filter(
            Q(status=ReplyStatus.QUEUED, lease_expires_at__lte=now)
            | Q(status=ReplyStatus.SENDING, lease_expires_at__lte=now)
        ).values_list("pk", flat=True)[:500]
    )


def record_answered_elsewhere(item: InboxItem, *, by, how: str) -> InboxItem:
    """Answered outside Schoolgate (on the network by hand, by phone, by email): the clock stops, with how."""
    require_answerer(by, item.account)
    how = how.strip()
    if not how:
        raise ValidationError({"how": "Say how it was answered (for example: replied on Facebook, phoned the parent)."})
    if item.status not in (ItemStatus.OPEN, ItemStatus.ANSWERED):
        raise ValidationError("Only an open item can be recorded as answered.")
    with transaction.atomic():
        item = InboxItem.objects.select_for_update().get(pk=item.pk)
        mark_answered(item, by=by, at=timezone.now())
        audit.log("inbox.answered_elsewhere", actor=by, target=item.account, detail={"item": item.pk, "how": how[:500]})
    return item
