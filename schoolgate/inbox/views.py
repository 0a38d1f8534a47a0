"""Inbox pages: one queue across the school's accounts (filters, due times, htmx refresh), an item with its thread,
our replies, staff notes and triage; the forms each post to an action; the inbox's settings and templates.

Who sees what: leaders and the safeguarding leads see every account's items; other staff see the accounts they are
authorised on. An item with the safeguarding lead shows only that it went there."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from schoolgate.inbox.actions import configure, replies, safeguarding, triage
from schoolgate.inbox.actions.premoderation import held_on_network_note
from schoolgate.inbox.deadlines import inbox_settings
from schoolgate.inbox.forms import (
    AssignForm,
    CategoryForm,
    ConfirmSentForm,
    ContactForm,
    DecisionForm,
    ElsewhereForm,
    NoteForm,
    PassForm,
    QueueFilter,
    ReasonForm,
    ReplyForm,
)
from schoolgate.inbox.models import (
    AccountInbox,
    InboxItem,
    ItemStatus,
    Reply,
    ReplyStatus,
)
from schoolgate.inbox.moderation_views import moderation_context
from schoolgate.official_accounts.models import OfficialAccount
from schoolgate.schools.permissions import has_permission
from schoolgate.schools.views import errors_to_form, school_for

PAGE_SIZE = 50


# Who works which accounts


def works_all_accounts(user, school) -> bool:
    return has_permission(user, school, replies.ANSWER_PERMISSION)


def worked_accounts(user, school):
    """The approved accounts whose inbox this person works."""
    accounts = OfficialAccount.objects.approved().filter(school=school)
    if not works_all_accounts(user, school):
        accounts = accounts.filter(authorised_staff=user)
    return accounts.order_by("name")


def works_inbox(user, school) -> bool:
    return works_all_accounts(user, school) or worked_accounts(user, school).exists()


def _inbox_school(request, slug):
    school = school_for(request, slug, "school.view")
    if not works_inbox(request.user, school):
        raise PermissionDenied("The inbox is for leaders, the safeguarding leads and the staff who run an account.")
    return school


def _item(request, slug, pk, *, reply_pk=None):
    """The item in the URL (and its reply), each looked up within the school first (another school's id is a 404
    for everyone), then the person's right to work the item's account."""
    school = school_for(request, slug, "school.view")
    item = get_object_or_404(
        InboxItem.objects.select_related("account__school", "account__connection", "school", "assigned_to"),
        pk=pk,
        school=school,
    )
    reply_ = None
    if reply_pk is not None:
        reply_ = get_object_or_404(Reply.objects.select_related("item__account__school"), pk=reply_pk, item=item)
    if not replies.may_answer(request.user, item.account):
        raise PermissionDenied(f"You do not work the inbox of {item.account.name}.")
    return item if reply_pk is None else (item, reply_)


# The queue


def queue_items(user, school, data: dict, now: dt.datetime):
    # The ids as a list: the planner then uses the school's indexes (inbox_queue, inbox_history) in order instead of
    # joining every item of the accounts before the LIMIT.
    account_ids = list(worked_accounts(user, school).values_list("pk", flat=True))
    items = InboxItem.objects.filter(school=school, account_id__in=account_ids)
    status = data.get("status") or "open"
    if status != "all":
        items = items.filter(status=status)
    if data.get("account"):
        items = items.filter(account=data["account"])
    if data.get("kind"):
        items = items.filter(kind=data["kind"])
    if data.get("category"):
        items = items.filter(category=data["category"])
    if data.get("mine"):
        items = items.filter(assigned_to=user)
    due = data.get("due")
    if due == "overdue":
        items = items.filter(status=ItemStatus.OPEN, due_at__lte=now)
    elif due == "at_risk":
        items = items.filter(status=ItemStatus.OPEN, at_risk_at__lte=now, due_at__gt=now)
    elif due == "today":
        end = timezone.localtime(now).replace(hour=23, minute=59, second=59)
        items = items.filter(status=ItemStatus.OPEN, due_at__lte=end)
    if status == "open":
        # Held replies the network could not hide first (they are live), then soonest due.
        items = items.order_by("-held_first", "due_at", "received_at", "pk")
    else:
        items = items.order_by("-received_at", "-pk")
    return items.select_related("account", "assigned_to")


class QueuePage:
    """A page of the queue without counting every matching item (the history of a busy account is long): one more
    row than the page is read to know whether there is a next page. The counts that matter are shown above."""

    def __init__(self, items, number):
        try:
            self.number = max(1, int(number or 1))
        except ValueError:
            self.number = 1
        start = (self.number - 1) * PAGE_SIZE
        rows = list(items[start : start + PAGE_SIZE + 1])
        self.object_list = rows[:PAGE_SIZE]
        self.has_next = len(rows) > PAGE_SIZE
        self.has_previous = self.number > 1
        self.has_other_pages = self.has_next or self.has_previous
        self.next_page_number = self.number + 1
        self.previous_page_number = self.number - 1


def queue_counts(user, school, now: dt.datetime, account_ids: list[int] | None = None) -> dict:
    """Open, at risk, overdue and mine: one query (the dashboard card and the queue's heading)."""
    if account_ids is None:
        account_ids = list(worked_accounts(user, school).values_list("pk", flat=True))
    open_items = InboxItem.objects.filter(school=school, account_id__in=account_ids, status=ItemStatus.OPEN)
    return open_items.aggregate(
        open=Count("pk"),
        overdue=Count("pk", filter=Q(due_at__lte=now)),
        at_risk=Count("pk", filter=Q(at_risk_at__lte=now, due_at__gt=now)),
        mine=Count("pk", filter=Q(assigned_to=user)),
    )


# A poll that has failed for this long (a network down, a rate limit that does not lift) shows on the dashboard;
# a permanent failure breaks the connection, which the accounts card shows at once.
FAILING_FOR = dt.timedelta(minutes=30)


def dashboard_summary(user, school) -> dict | None:
    account_ids = list(worked_accounts(user, school).values_list("pk", flat=True))
    if not account_ids and not works_all_accounts(user, school):
        return None
    now = timezone.now()
    failing = AccountInbox.objects.filter(
        account_id__in=account_ids, failing_since__lte=now - FAILING_FOR
    ).select_related("account")
    return {**queue_counts(user, school, now, account_ids), "failing": list(failing)}


@login_required
@require_GET
def queue(request, slug):
    school = _inbox_school(request, slug)
    now = timezone.now()
    accounts = worked_accounts(request.user, school)
    form = QueueFilter(request.GET or None, accounts=accounts)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    page = QueuePage(queue_items(request.user, school, data, now), request.GET.get("page"))
    context = {
        "school": school,
        "form": form,
        "page": page,
        "now": now,
        "counts": queue_counts(request.user, school, now),
        "query": _without_page(request.GET),
        "can_manage": has_permission(request.user, school, configure.MANAGE_PERMISSION),
        "can_report": has_permission(request.user, school, "inbox.report"),
        "not_held": [n for n in (held_on_network_note(a) for a in accounts) if n],
    }
    if request.headers.get("HX-Request"):
        return render(request, "inbox/_queue_rows.html", context)
    return render(request, "inbox/queue.html", context)


def _without_page(query) -> str:
    kept = query.copy()
    kept.pop("page", None)
    return kept.urlencode()


# One item


def thread_of(item: InboxItem) -> list[InboxItem]:
    """The other items of the same thread on the account (under the same post, or the same conversation)."""
    if not item.root_remote_id:
        return []
    return list(
        InboxItem.objects.filter(account=item.account, root_remote_id=item.root_remote_id)
        .exclude(pk=item.pk)
        .order_by("received_at", "pk")[:50]
    )


def item_context(request, item: InboxItem, **forms_) -> dict:
    user = request.user
    school = item.school
    restricted = item.is_restricted
    settings = inbox_settings(school)
    waiting = list(item.replies.select_related("written_by", "reviewed_by", "approved_by"))
    contact = None if restricted else replies.contact_of(item)
    return {
        "school": school,
        "item": item,
        "now": timezone.now(),
        "restricted": restricted,
        "thread": [] if restricted else thread_of(item),
        "replies": waiting,
        "notes": [] if restricted else list(item.notes.select_related("author")),
        "contact": contact,
        "delivery_post": item.delivery.post if item.delivery_id and not restricted else None,
        "reply_obstacle": replies.reply_obstacle(item),
        "private_refusal": replies.private_reply_forbidden(item) if not restricted else "",
        "needs_review": settings.replies_need_review,
        "press_approver": settings.get_press_approver_role_display(),
        "may_approve_press": replies.may_approve_press(user, school),
        "may_review": has_permission(user, school, replies.REVIEW_PERMISSION),
        "reply_form": forms_.get("reply_form") or ReplyForm(school=school),
        "category_form": forms_.get("category_form") or CategoryForm(initial={"category": item.category}),
        "assign_form": forms_.get("assign_form") or AssignForm(item=item, initial={"to": item.assigned_to_id}),
        "note_form": forms_.get("note_form") or NoteForm(),
        "contact_form": forms_.get("contact_form")
        or ContactForm(initial={"relation": contact.relation if contact else ""}),
        "close_form": forms_.get("close_form") or ReasonForm(),
        "elsewhere_form": forms_.get("elsewhere_form") or ElsewhereForm(),
        "pass_form": PassForm(),
        "moderation": moderation_context(item, user),
        "findings": [] if restricted else [f for f in item.findings if f.get("category") != "triage"],
        "triage_reasons": []
        if restricted
        else next((f.get("reasons", []) for f in item.findings if f.get("category") == "triage"), []),
    }


@login_required
@require_GET
def item_page(request, slug, pk):
    item = _item(request, slug, pk)
    return render(request, "inbox/item.html", item_context(request, item))


def _back(item: InboxItem, anchor: str = ""):
    return redirect(reverse("inbox:item", args=[item.school.slug, item.pk]) + (f"#{anchor}" if anchor else ""))


def _refused(request, item, error, **forms_):
    """Show the item again with the refusal beside the form that caused it (nothing the person wrote is lost)."""
    if isinstance(error, PermissionDenied):
        messages.error(request, str(error))
    elif not forms_:
        messages.error(request, " ".join(error.messages))
    else:
        errors_to_form(error, next(iter(forms_.values())))
    return render(request, "inbox/item.html", item_context(request, item, **forms_), status=400)


@login_required
@require_POST
def reply(request, slug, pk):
    item = _item(request, slug, pk)
    form = ReplyForm(request.POST, school=item.school)
    if not form.is_valid():
        return render(request, "inbox/item.html", item_context(request, item, reply_form=form), status=400)
    data = form.cleaned_data
    try:
        written = replies.write_reply(
            item, by=request.user, text=data["text"], kind=data["kind"], template=data["template"]
        )
    except PermissionDenied as error:
        # AW-MOD-2: the refusal is on the record; the words stay in the form to reuse elsewhere.
        form.add_error(None, str(error))
        return render(request, "inbox/item.html", item_context(request, item, reply_form=form), status=400)
    except ValidationError as error:
        return _refused(request, item, error, reply_form=form)
    messages.success(request, _reply_outcome(written))
    return _back(item, "replies")


def _reply_outcome(reply_: Reply) -> str:
    reply_.refresh_from_db()
    if reply_.status == ReplyStatus.SENT:
        return "The reply went out."
    if reply_.status == ReplyStatus.AWAITING_APPROVAL:
        return "The reply waits for approval before it goes to the press."
    if reply_.status == ReplyStatus.AWAITING_REVIEW:
        return "The reply waits for a colleague's review."
    if reply_.status == ReplyStatus.FAILED:
        return f"The reply did not go out: {reply_.last_error} It can be sent again."
    return "The reply is on its way."


@login_required
@require_POST
def decide_reply(request, slug, pk, reply_pk):
    item, reply_ = _item(request, slug, pk, reply_pk=reply_pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose to approve or return the reply.")
        return _back(item, "replies")
    approve = form.cleaned_data["decision"] == "approve"
    decide = replies.approve_press_reply if reply_.status == ReplyStatus.AWAITING_APPROVAL else replies.review_reply
    try:
        reply_ = decide(reply_, by=request.user, approve=approve, reason=form.cleaned_data["reason"])
    except (ValidationError, PermissionDenied) as error:
        return _refused(request, item, error)
    messages.success(request, _reply_outcome(reply_) if approve else "Returned to the writer with your reason.")
    return _back(item, "replies")


@login_required
@require_POST
def retry_reply(request, slug, pk, reply_pk):
    item, reply_ = _item(request, slug, pk, reply_pk=reply_pk)
    try:
        reply_ = replies.retry_reply(reply_, by=request.user)
    except ValidationError as error:
        return _refused(request, item, error)
    messages.success(request, _reply_outcome(reply_))
    return _back(item, "replies")


@login_required
@require_POST
def confirm_sent(request, slug, pk, reply_pk):
    item, reply_ = _item(request, slug, pk, reply_pk=reply_pk)
    form = ConfirmSentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Paste the reply's link from the network.")
        return _back(item, "replies")
    try:
        replies.confirm_sent(reply_, by=request.user, url=form.cleaned_data["url"])
    except ValidationError as error:
        return _refused(request, item, error)
    messages.success(request, "Recorded as sent, with its link.")
    return _back(item, "replies")


@login_required
@require_POST
def withdraw_reply(request, slug, pk, reply_pk):
    item, reply_ = _item(request, slug, pk, reply_pk=reply_pk)
    try:
        replies.withdraw_reply(reply_, by=request.user)
    except ValidationError as error:
        return _refused(request, item, error)
    messages.success(request, "The reply was withdrawn.")
    return _back(item, "replies")


def _simple(request, slug, pk, form_class, act, done, anchor, form_name, **form_kwargs):
    """The pattern of the small triage forms: check the form, call the action, back to the item or the refusal."""
    item = _item(request, slug, pk)
    kwargs = {"item": item} if form_class is AssignForm else {}
    form = form_class(request.POST, **kwargs, **form_kwargs)
    if not form.is_valid():
        return render(request, "inbox/item.html", item_context(request, item, **{form_name: form}), status=400)
    try:
        act(item, form.cleaned_data)
    except (ValidationError, PermissionDenied) as error:
        return _refused(request, item, error, **{form_name: form})
    messages.success(request, done)
    return _back(item, anchor)


@login_required
@require_POST
def set_category(request, slug, pk):
    return _simple(
        request,
        slug,
        pk,
        CategoryForm,
        lambda item, data: triage.set_category(item, by=request.user, category=data["category"]),
        "The category is saved.",
        "triage",
        "category_form",
    )


@login_required
@require_POST
def assign(request, slug, pk):
    return _simple(
        request,
        slug,
        pk,
        AssignForm,
        lambda item, data: triage.assign(item, by=request.user, to=data["to"]),
        "The item is assigned.",
        "triage",
        "assign_form",
    )


@login_required
@require_POST
def add_note(request, slug, pk):
    return _simple(
        request,
        slug,
        pk,
        NoteForm,
        lambda item, data: triage.add_note(item, by=request.user, text=data["text"]),
        "The note is saved (colleagues only).",
        "notes",
        "note_form",
    )


@login_required
@require_POST
def set_contact(request, slug, pk):
    return _simple(
        request,
        slug,
        pk,
        ContactForm,
        lambda item, data: triage.set_contact(item, by=request.user, relation=data["relation"]),
        "Saved who this person is to the school.",
        "triage",
        "contact_form",
    )


@login_required
@require_POST
def close(request, slug, pk):
    return _simple(
        request,
        slug,
        pk,
        ReasonForm,
        lambda item, data: triage.close_item(item, by=request.user, reason=data["reason"]),
        "Closed without an answer.",
        "",
        "close_form",
    )


@login_required
@require_POST
def reopen(request, slug, pk):
    item = _item(request, slug, pk)
    try:
        triage.reopen_item(item, by=request.user)
    except ValidationError as error:
        return _refused(request, item, error)
    messages.success(request, "Opened again: the deadline it had still stands.")
    return _back(item)


@login_required
@require_POST
def answered_elsewhere(request, slug, pk):
    return _simple(
        request,
        slug,
        pk,
        ElsewhereForm,
        lambda item, data: replies.record_answered_elsewhere(item, by=request.user, how=data["how"]),
        "Recorded as answered.",
        "replies",
        "elsewhere_form",
    )


@login_required
@require_POST
def pass_to_dsl(request, slug, pk):
    item = _item(request, slug, pk)
    form = PassForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what it may be.")
        return _back(item)
    try:
        safeguarding.route_to_dsl(item, by=request.user, category=form.cleaned_data["category"])
    except (ValidationError, PermissionDenied) as error:
        return _refused(request, item, error)
    messages.success(
        request,
        "Passed to the safeguarding lead, with everything the inbox held about it. It is hidden where the "
        "network allows, never deleted.",
    )
    return redirect("inbox:queue", item.school.slug)
