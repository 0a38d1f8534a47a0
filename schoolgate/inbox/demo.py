"""The demo schools' inbox (called by schools/demo_data.seed_demo): the starting templates, a working queue of
questions, a complaint, a press enquiry and a private message in several states, and the moderation to look at."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.connectors.base import ItemKind, RemoteItem
from schoolgate.connectors.registry import CONNECTORS
from schoolgate.inbox.actions import configure, moderation, replies, safeguarding, triage
from schoolgate.inbox.actions.ingest import Screening, ingest
from schoolgate.inbox.deadlines import reply_deadline
from schoolgate.inbox.models import (
    Category,
    ContactRelation,
    InboxItem,
    ItemStatus,
    ModerationAction,
    ModerationKind,
    ModerationPurpose,
    ModerationStatus,
    Reply,
    ReplyKind,
    ReplyStatus,
    ResponseTemplate,
    TemplateKind,
    Visibility,
)
from schoolgate.official_accounts.models import OfficialAccount
from schoolgate.policy.models import PolicySettings
from schoolgate.schools.roles import Role

# The default templates cover the other reasons; the demo's hidden comment was abuse.
EXPLANATIONS = [
    ("Abusive", "We have hidden a comment because it was abusive. Please keep replies kind and respectful."),
]
PRESS_ANSWER = (
    "Thank you for getting in touch. Our breakfast club opened in September and now welcomes around forty "
    "children each morning. We are grateful to the staff and volunteers who make it possible."
)


def seed_demo_inbox(school, people: dict) -> list[InboxItem]:
    """Everything the demo inbox shows, through the real actions where they allow it. Safe to run twice.

    1. The school's starting response templates.
    2. A queue across its approved accounts (seed_demo_queue).
    3. Moderation: a hidden comment, a held reply or a blocked author, a disclosure with the DSL.
    """
    configure.ensure_default_templates(school, by=people[Role.HEADTEACHER])
    items = seed_demo_queue(school, people)
    seed_demo_moderation(school, people)
    return items


@dataclass(frozen=True)
class DemoItem:
    key: str
    author: str  # the handle; the display name is the part before the first dot, capitalised
    text: str
    received: Callable  # (now, school, screening) -> when it arrived
    kind: str = ""  # "" for the network's usual reply kind
    topic: str = "news"  # which of our posts the thread hangs from
    for_teacher: bool = False  # on an account a class teacher answers on (it is assigned to them)


def _hours_ago(hours: float) -> Callable:
    return lambda now, school, screening: now - dt.timedelta(hours=hours)


def _last_friday_evening(now, school, screening) -> dt.datetime:
    """Half past seven on the Friday before today (a week ago, on a Friday)."""
    today = timezone.localtime(now).date()
    friday = today - dt.timedelta(days=(today.weekday() - 4) % 7 or 7)
    return dt.datetime.combine(friday, dt.time(19, 30), tzinfo=timezone.get_current_timezone())


def _when(wanted: Callable, *, fallback_hours: float) -> Callable:
    """The latest hour back from now at which an item would now be in the wanted state. The school's working
    calendar decides (weekends, bank holidays and closures stop the clock), so the demo looks right on any day."""

    def received(now, school, screening) -> dt.datetime:
        for hours in range(3, 24 * 28):
            moment = now - dt.timedelta(hours=hours)
            due, at_risk = reply_deadline(
                school, moment, policy=screening.policy, settings=screening.settings, calendar=screening.calendar
            )
            if wanted(now, due, at_risk):
                return moment
        return now - dt.timedelta(hours=fallback_hours)

    return received


def _at_risk(now, due, at_risk) -> bool:
    return at_risk <= now - dt.timedelta(minutes=15) and due >= now + dt.timedelta(hours=1)


def _long_overdue(now, due, at_risk) -> bool:
    return due <= now - dt.timedelta(hours=12)  # received a day and a half of working time ago, or more


# The words are made up; no names, so nothing matches the pupil roster (parents' handles are invented too).
QUEUE = [
    DemoItem(
        "trip",
        "claire.m",
        "Hi, is the Year 5 trip to the science museum still going ahead on Thursday if the trains are on strike?",
        _hours_ago(2),
        topic="trip",
    ),
    DemoItem(
        "fair",
        "dan.p",
        "What time does the Christmas fair start, and can we pay by card at the stalls this year?",
        _last_friday_evening,  # the weekend stops the clock: due on the next working day
        topic="fair",
    ),
    DemoItem(
        "football",
        "mo.hassan",
        "Could you let me know whether after-school football is on this week? The letter said it might move to "
        "Wednesday.",
        _when(_at_risk, fallback_hours=20),
    ),
    DemoItem(
        "uniform",
        "jen.w",
        "Still waiting for a reply to my email about the uniform order from two weeks ago. Who should I speak to?",
        _when(_long_overdue, fallback_hours=60),
    ),
    DemoItem(
        "press",
        "r.lowe.newsdesk",
        "Hello, I'm a reporter at the Riverside Gazette writing a story about the school's new breakfast club. "
        "Could the school give us a comment for the article by Friday?",
        _hours_ago(5),
        kind=ItemKind.MENTION,
    ),
    DemoItem(
        "nativity",
        "grandad.ken",
        "Thank you to the staff for a wonderful nativity, the children were fantastic!",
        _hours_ago(26),
        topic="nativity",
    ),
    DemoItem(
        "dinners",
        "sara.k",
        "Can someone ring me about my son's dinner money account please? The balance looks wrong.",
        _hours_ago(8),
    ),
    DemoItem(
        "residential",
        "priti.j",
        "Is there a date yet for the Year 6 residential meeting for parents? We missed the last letter.",
        _hours_ago(4),
        topic="trip",
        for_teacher=True,
    ),
    DemoItem(
        "reading",
        "lou.t",
        "Hi, sorry to message privately. Who should I speak to about my daughter's reading book? She has not had a "
        "new one for two weeks.",
        _hours_ago(3),
        kind=ItemKind.MESSAGE,
    ),
]


def seed_demo_queue(school, people: dict) -> list[InboxItem]:
    """A queue a headteacher recognises, spread over the school's approved, connectable accounts, dated from now:

    1. open questions: one from two hours ago, one from last Friday evening, one at risk, a complaint overdue;
    2. a press enquiry whose answer waits for the headteacher's approval (RS-PRESS-1);
    3. a thank-you closed as needing no answer; a question answered by phone (answered elsewhere);
    4. a question assigned to a teacher with a note from a leader;
    5. a private message from a known parent (AW-MOD-2: where the policy forbids it, the reply is refused).
    Items are ingested like any other (deduplicated by network id); the steps after arrival run only for the items
    this call stored, so a second run changes nothing.
    """
    accounts = list(
        OfficialAccount.objects.approved().filter(school=school, network__in=list(CONNECTORS)).order_by("pk")
    )
    if not accounts:
        return []
    now, screening = timezone.now(), Screening.for_school(school)
    batches: dict[OfficialAccount, list[RemoteItem]] = {account: [] for account in accounts}
    keys = {}  # network id -> the demo item's key
    for number, demo in enumerate(QUEUE):
        account = accounts[number % len(accounts)]
        if demo.for_teacher:
            account = next((a for a in accounts if _teacher(a, people)), account)
        remote = _remote(account, demo, demo.received(now, school, screening))
        batches[account].append(remote)
        keys[remote.remote_id] = demo.key
    new = {}  # only what this call stored: the steps below run once
    for account, batch in batches.items():
        for item in ingest(account, batch, via="demo", screening=screening):
            new[keys[item.remote_id]] = item

    leader, head = people[Role.LEADERSHIP], people[Role.HEADTEACHER]
    if press := new.get("press"):
        triage.set_contact(press, by=leader, relation=ContactRelation.PRESS)
        _press_reply_awaiting_approval(press, by=leader)
    if nativity := new.get("nativity"):
        triage.set_category(nativity, by=_answerer(nativity, people), category=Category.NO_ANSWER)
    if dinners := new.get("dinners"):
        replies.record_answered_elsewhere(
            dinners, by=_answerer(dinners, people), how="Phoned the parent; the office corrected the balance."
        )
    if residential := new.get("residential"):
        teacher = _teacher(residential.account, people) or head
        triage.assign(residential, by=leader, to=teacher)
        triage.add_note(
            residential,
            by=leader,
            text="You are organising the residential this year: please reply with the meeting date once the centre "
            "confirms it.",
        )
    if reading := new.get("reading"):
        triage.set_contact(reading, by=_answerer(reading, people), relation=ContactRelation.CARER)
    return list(new.values())


def _remote(account, demo: DemoItem, received: dt.datetime) -> RemoteItem:
    kind = demo.kind or (ItemKind.COMMENT if account.network in ("facebook", "instagram") else ItemKind.REPLY)
    remote_id = f"demo-inbox-{demo.key}-{account.pk}"
    if kind == ItemKind.MESSAGE:
        root = f"demo-dm-{demo.key}-{account.pk}"  # the conversation
    elif kind == ItemKind.MENTION:
        root = remote_id  # a thread of its own, not under one of our posts
    else:
        root = f"demo-post-{demo.topic}-{account.pk}"
    return RemoteItem(
        remote_id=remote_id,
        author_id=f"demo-author-{demo.author}",
        author_handle=demo.author,
        author_name=demo.author.split(".")[0].capitalize(),
        text=demo.text,
        created_at=received,
        in_reply_to="" if kind == ItemKind.MENTION else root,
        root_id=root,
        kind=str(kind),
        raw={"id": remote_id, "message": demo.text, "created_time": received.isoformat()},
    )


def _answerer(item: InboxItem, people: dict):
    """The office answers where it is authorised on the account; otherwise a leader."""
    office = people[Role.STAFF]
    return office if replies.may_answer(office, item.account) else people[Role.LEADERSHIP]


def _teacher(account, people: dict):
    """A class teacher (not the office) who may answer on the account, if there is one."""
    teachers = account.school.members_with_role(Role.STAFF).exclude(pk=people[Role.STAFF].pk).order_by("pk")
    return next((t for t in teachers if replies.may_answer(t, account)), None)


def _press_reply_awaiting_approval(item: InboxItem, *, by) -> Reply:
    """RS-PRESS-1: the answer a leader wrote, waiting for the headteacher. Written directly, not by write_reply: the
    demo accounts are not connected to a network, and write_reply refuses an answer that could not be sent. The
    row and its audit entry are what write_reply would have made (approving it then fails to send, as it should)."""
    now = timezone.now()
    reply = Reply.objects.create(
        item=item,
        kind=ReplyKind.ANSWER,
        text=replies.signed(PRESS_ANSWER, item.account),
        written_by=by,
        written_at=now,
        status=ReplyStatus.AWAITING_APPROVAL,
        key=f"demo-press-{item.pk}",
    )
    audit.log(
        "inbox.reply_written",
        actor=by,
        target=item.account,
        detail={"item": item.pk, "reply": reply.pk, "kind": reply.kind, "status": reply.status, "template": None},
    )
    return reply


def seed_demo_moderation(school, people: dict) -> list[ModerationAction]:
    account = OfficialAccount.objects.approved().filter(school=school).order_by("pk").first()
    if account is None or InboxItem.objects.filter(account=account, remote_id=f"demo-abuse-{account.pk}").exists():
        return []  # no account to moderate on, or seeded already
    now, staff, head = timezone.now(), people[Role.STAFF], people[Role.HEADTEACHER]
    templates = [
        ResponseTemplate.objects.get_or_create(
            school=school,
            kind=TemplateKind.EXPLANATION,
            name=name,
            defaults={"text": text, "updated_by": head, "updated_at": now},
        )[0]
        for name, text in EXPLANATIONS
    ]
    made = []

    abusive = _item(account, "demo-abuse", "Absolute joke of a school, the head is a useless idiot", hours=20)
    hidden = _done(abusive, kind=ModerationKind.HIDE, by=staff, reason="Abusive about the headteacher", hours=19)
    reply = Reply.objects.create(
        item=abusive,
        kind=ReplyKind.EXPLANATION,
        text=templates[0].text,
        written_by=staff,
        written_at=hidden.at,
        status=ReplyStatus.SENT,
        key=f"demo-explanation-{abusive.pk}@{hidden.at.isoformat()}",
        sent_at=hidden.at,
    )
    hidden.explanation_text, hidden.explanation_template, hidden.explanation = reply.text, templates[0], reply
    hidden.save(update_fields=["explanation_text", "explanation_template", "explanation"])
    InboxItem.objects.filter(pk=abusive.pk).update(
        visibility=Visibility.HIDDEN, status=ItemStatus.CLOSED, closed_reason=f"moderated: hide: {hidden.reason}"
    )
    made.append(hidden)

    policy = PolicySettings.objects.in_force_at(school)
    if account.holds_replies(policy):
        held = _item(account, "demo-held", "Lovely to see the Year 3 assembly, well done everyone!", hours=2)
        action = _done(
            held, kind=ModerationKind.HIDE, by=None, reason=moderation_reason(account), hours=2, purpose="hold"
        )
        InboxItem.objects.filter(pk=held.pk).update(visibility=Visibility.HELD)
        made.append(action)
    else:
        spam = _item(account, "demo-spam", "Earn £500 a day from home, DM me for the link", hours=30)
        made.append(_done(spam, kind=ModerationKind.BLOCK, by=head, reason="Spam account, fourth time", hours=29))
        InboxItem.objects.filter(pk=spam.pk).update(status=ItemStatus.CLOSED, closed_reason="spam: author blocked")

    # A possible disclosure, passed to the DSL as the screening would pass it (the account is not connected in
    # the demo, so the hide waits as a failure to retry once it is).
    worrying = _item(account, "demo-disclosure", "please dont tell anyone but i dont want to go home tonight", hours=1)
    InboxItem.objects.filter(pk=worrying.pk).update(status=ItemStatus.WITH_DSL, category=Category.SAFEGUARDING)
    worrying.refresh_from_db()
    _concern, hide = safeguarding._pass_to_dsl(worrying, by=None, category="disclosure", staff=())
    if hide is not None:
        made.append(moderation.carry_out(hide))
    return made


def moderation_reason(account) -> str:
    from schoolgate.inbox.actions.premoderation import HELD_BECAUSE_POLICY, HELD_BECAUSE_PUPILS

    return HELD_BECAUSE_PUPILS if account.involves_pupils else HELD_BECAUSE_POLICY


def _item(account, remote_id: str, text: str, *, hours: int) -> InboxItem:
    received = timezone.now() - dt.timedelta(hours=hours)
    return InboxItem.objects.create(
        school=account.school,
        account=account,
        remote_id=f"{remote_id}-{account.pk}",
        kind="comment" if account.network in ("facebook", "instagram") else "reply",
        parent_remote_id=f"demo-post-{account.pk}",
        root_remote_id=f"demo-post-{account.pk}",
        author_remote_id=f"{remote_id}-author",
        author_handle=f"{remote_id}.example",
        author_name="A member of the public",
        text=text,
        received_at=received,
        ingested_at=received,
        raw={"id": remote_id, "message": text, "created_time": received.isoformat()},
        suggested_category=Category.COMMENT,
        category=Category.COMMENT,
    )


def _done(item, *, kind, by, reason, hours, purpose=ModerationPurpose.MODERATION) -> ModerationAction:
    at = timezone.now() - dt.timedelta(hours=hours)
    return ModerationAction.objects.create(
        item=item,
        kind=kind,
        purpose=purpose,
        reason=reason,
        by=by,
        at=at,
        evidence=moderation.evidence_of(item),
        status=ModerationStatus.DONE,
        done_at=at,
        attempts=1,
    )
