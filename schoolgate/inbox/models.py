"""The inbox: what reached the school's accounts (comments, replies, mentions, messages), their reply deadlines,
triage, staff notes, our replies, moderation with its evidence, templates, and each account's read cursor."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from schoolgate.policy.models import Harm
from schoolgate.schools.roles import Role


class ItemKind(models.TextChoices):
    # Values match connectors.base.ItemKind, as the networks report them.
    REPLY = "reply", "Reply"
    COMMENT = "comment", "Comment"
    MENTION = "mention", "Mention"
    QUOTE = "quote", "Quote"
    MESSAGE = "message", "Private message"


class Category(models.TextChoices):
    """What an item is, suggested by the screening and settable by staff (triage)."""

    COMMENT = "comment", "Comment"
    QUERY = "query", "Query"
    COMPLAINT = "complaint", "Complaint"
    PRESS = "press", "Press enquiry"  # RS-PRESS-1: answered only once the headteacher approves the reply
    ABUSE = "abuse", "Abuse"
    SPAM = "spam", "Spam"
    SAFEGUARDING = "safeguarding", "Possible safeguarding matter"
    NO_ANSWER = "no_answer", "Needs no answer"


# Categories the policy says are answered within the deadline (RS-MON-1: "comments, queries and complaints").
ANSWERED_CATEGORIES = frozenset({Category.COMMENT, Category.QUERY, Category.COMPLAINT, Category.PRESS})


class ItemStatus(models.TextChoices):
    OPEN = "open", "Waiting for an answer"
    ANSWERED = "answered", "Answered"
    CLOSED = "closed", "Closed without an answer"
    WITH_DSL = "with_dsl", "Passed to the safeguarding lead"


class Visibility(models.TextChoices):
    """Whether the audience can see the item on the network (as far as Schoolgate knows)."""

    VISIBLE = "visible", "Visible"
    HELD = "held", "Held for approval (hidden until approved)"
    HIDDEN = "hidden", "Hidden"
    DELETED = "deleted", "Deleted by us"
    GONE = "gone", "Deleted on the network"


class ContactRelation(models.TextChoices):
    PUPIL = "pupil", "Pupil or former pupil"
    CARER = "carer", "Parent or carer"
    STAFF = "staff", "Member of staff"
    PRESS = "press", "Journalist"
    OTHER = "other", "Someone else"


# AW-MOD-2: private messages to these are refused when the policy forbids private messaging.
NO_PRIVATE_MESSAGES_TO = frozenset({ContactRelation.PUPIL, ContactRelation.CARER})


class InboxSettings(models.Model):
    """One school's inbox rules beside its policy (the reply deadline and what stops the clock are policy settings)."""

    school = models.OneToOneField("schools.School", on_delete=models.CASCADE, related_name="inbox_settings")
    poll_minutes = models.PositiveSmallIntegerField(
        "Check the accounts every (minutes)",
        default=15,
        validators=[MinValueValidator(5), MaxValueValidator(1440)],
        help_text="Networks that bill each read (X) cost more the more often they are checked.",
    )
    at_risk_percent = models.PositiveSmallIntegerField(
        "Warn when this share of the time to answer has gone (%)",
        default=75,
        validators=[MinValueValidator(10), MaxValueValidator(95)],
    )
    working_hours_only = models.BooleanField(
        "Only working hours count", default=False, help_text="Otherwise the whole of every working day counts."
    )
    working_day_starts = models.TimeField(default=dt.time(8, 0))
    working_day_ends = models.TimeField(default=dt.time(17, 0))
    replies_need_review = models.BooleanField("Replies are read by a colleague before they go out", default=False)
    # RS-ABU-1: "tell the audience exactly why". A school may let staff hide or delete without a public word.
    moderation_needs_explanation = models.BooleanField(
        "Hiding or deleting a comment needs a public explanation",
        default=True,
        help_text="Posted as a reply under our post, from one of the school's explanation templates.",
    )
    press_approver_role = models.CharField(
        "Who approves answers to the press", max_length=32, choices=Role.choices, default=Role.HEADTEACHER
    )
    overdue_roles = models.JSONField(
        "Who is told when an answer is overdue",
        default=list,
        help_text="After the account's authorised staff, who were warned when the time was running out.",
    )

    def __str__(self) -> str:
        return f"Inbox settings for {self.school}"

    @property
    def working_hours(self) -> tuple[dt.time, dt.time] | None:
        return (self.working_day_starts, self.working_day_ends) if self.working_hours_only else None


class AccountInbox(models.Model):
    """Where reading one account has got to: the connector's cursor, the next poll, and whether it works."""

    account = models.OneToOneField(
        "official_accounts.OfficialAccount", on_delete=models.CASCADE, related_name="inbox_state"
    )
    cursor = models.TextField(blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # A poll claims the account until this time, so two workers never read it at once.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    items_read = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Inbox of {self.account}"


class Contact(models.Model):
    """Someone on a network whom the school knows: a pupil, a parent, a journalist (set by staff)."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="inbox_contacts")
    network = models.CharField(max_length=20)
    remote_id = models.CharField(max_length=300)
    handle = models.CharField(max_length=300, blank=True)
    relation = models.CharField(max_length=10, choices=ContactRelation.choices)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    set_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "network", "remote_id"], name="one_contact_per_network_id")
        ]

    def __str__(self) -> str:
        return f"{self.handle or self.remote_id} ({self.get_relation_display()})"


class InboxItemQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=ItemStatus.OPEN)

    def waiting(self):
        """Open items that need an answer, soonest due first; before them, replies on a pre-moderated account that
        the network could not hide (AW-MOD-1: they are live until someone approves or removes them)."""
        return (
            self.open()
            .filter(Q(due_at__isnull=False) | Q(held_first=True))
            .order_by("-held_first", models.F("due_at").asc(nulls_last=True), "pk")
        )

    def overdue(self, now: dt.datetime):
        return self.open().filter(due_at__lte=now)


class InboxItem(models.Model):
    """One comment, reply, mention or message, stored once per account and network id."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="inbox_items")
    account = models.ForeignKey(
        "official_accounts.OfficialAccount", on_delete=models.CASCADE, related_name="inbox_items"
    )
    remote_id = models.CharField(max_length=300)
    kind = models.CharField(max_length=10, choices=ItemKind.choices)
    # Threading: the item it answers, and the thread's root (our post, or the conversation of a message).
    parent_remote_id = models.CharField(max_length=300, blank=True)
    root_remote_id = models.CharField(max_length=300, blank=True, db_index=True)
    delivery = models.ForeignKey(
        "posts.Delivery", null=True, blank=True, on_delete=models.SET_NULL, related_name="inbox_items"
    )
    author_remote_id = models.CharField(max_length=300)
    author_handle = models.CharField(max_length=300, blank=True)
    author_name = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True)
    url = models.URLField(max_length=500, blank=True)
    media = models.JSONField(default=list, blank=True)
    # The network's own record as received: evidence kept before anything is done to the item.
    raw = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField()
    ingested_at = models.DateTimeField()

    findings = models.JSONField(default=list, blank=True)
    suggested_category = models.CharField(max_length=15, choices=Category.choices)
    category = models.CharField(max_length=15, choices=Category.choices)
    category_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    status = models.CharField(max_length=10, choices=ItemStatus.choices, default=ItemStatus.OPEN)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.VISIBLE)
    # AW-MOD-1 on a network that cannot hide replies: the item stays visible, so it waits first in the queue until
    # someone approves it (visibility HELD is used only when it really is hidden on the network).
    held_first = models.BooleanField(default=False)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbox_items"
    )

    # The reply deadline (RS-MON-1): stored and swept, never a timer in memory.
    due_at = models.DateTimeField(null=True, blank=True)
    at_risk_at = models.DateTimeField(null=True, blank=True)
    at_risk_warned_at = models.DateTimeField(null=True, blank=True)
    overdue_warned_at = models.DateTimeField(null=True, blank=True)
    first_answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_reason = models.CharField(max_length=300, blank=True)

    # A possible disclosure goes to the concern log; this item then keeps no words of it.
    concern = models.ForeignKey(
        "concerns.Concern", null=True, blank=True, on_delete=models.SET_NULL, related_name="inbox_items"
    )

    objects = InboxItemQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["account", "remote_id"], name="inbox_item_once_per_account"),
        ]
        indexes = [
            # The open queue in the order it is shown (held replies first, then soonest due), and the history
            # (every state, newest first): each page of either is an index range, however big the inbox.
            models.Index(fields=["school", "status", "-held_first", "due_at", "received_at", "id"], name="inbox_queue"),
            models.Index(fields=["school", "-received_at", "-id"], name="inbox_history"),
            # The sweeps read only open items not yet warned about: small partial indexes however big the inbox.
            models.Index(
                fields=["at_risk_at"], name="inbox_at_risk_sweep", condition=Q(status="open", at_risk_warned_at=None)
            ),
            models.Index(
                fields=["due_at"], name="inbox_overdue_sweep", condition=Q(status="open", overdue_warned_at=None)
            ),
            models.Index(fields=["account", "received_at"], name="inbox_by_account"),
            models.Index(fields=["assigned_to", "status"], name="inbox_assigned"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.author_handle or self.author_remote_id} on {self.account}"

    @property
    def is_restricted(self) -> bool:
        return self.status == ItemStatus.WITH_DSL

    def harms_found(self) -> list[str]:
        """The kinds of harm the screening found in it (policy.models.Harm values), in the order found."""
        kinds = set(Harm.values)
        return list(dict.fromkeys(f.get("category") for f in self.findings if f.get("category") in kinds))

    @property
    def answer_time(self) -> dt.timedelta | None:
        return self.first_answered_at - self.received_at if self.first_answered_at else None

    def is_overdue(self, now: dt.datetime) -> bool:
        return self.status == ItemStatus.OPEN and self.due_at is not None and self.due_at <= now

    def remote_item(self):
        """The item as the connectors take it."""
        from schoolgate.connectors.base import RemoteItem

        return RemoteItem(
            remote_id=self.remote_id,
            author_id=self.author_remote_id,
            author_handle=self.author_handle,
            author_name=self.author_name,
            text=self.text,
            created_at=self.received_at,
            url=self.url,
            in_reply_to=self.parent_remote_id,
            kind=self.kind,
            root_id=self.root_remote_id,
        )


class Note(models.Model):
    """A note between staff about an item; never public."""

    item = models.ForeignKey(InboxItem, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Note by {self.author} on {self.item}"


class ReplyKind(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", "Acknowledgement"
    ANSWER = "answer", "Answer"
    EXPLANATION = "explanation", "Why we moderated"
    CONTACT_OFFICE = "contact_office", "Please contact the office"


class ReplyStatus(models.TextChoices):
    AWAITING_REVIEW = "awaiting_review", "Waiting for a colleague's review"
    AWAITING_APPROVAL = "awaiting_approval", "Waiting for the headteacher's approval"
    QUEUED = "queued", "Going out"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed — retry"
    CHECK = "check", "Check on the network whether it went out"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Reply(models.Model):
    """Our answer to an item, sent through the account's connector exactly once, archived like a post."""

    item = models.ForeignKey(InboxItem, on_delete=models.CASCADE, related_name="replies")
    kind = models.CharField(max_length=16, choices=ReplyKind.choices, default=ReplyKind.ANSWER)
    text = models.TextField()
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=ReplyStatus.choices, db_index=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    # Stable per reply: a retry after a crash never answers twice (Bluesky derives its record key from it).
    key = models.CharField(max_length=64, unique=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    remote_id = models.CharField(max_length=300, blank=True)
    url = models.URLField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["written_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.item}"


class ModerationKind(models.TextChoices):
    HIDE = "hide", "Hide"
    UNHIDE = "unhide", "Show again"
    DELETE = "delete", "Delete"
    BLOCK = "block", "Block the author"
    UNBLOCK = "unblock", "Unblock the author"
    MUTE = "mute", "Mute the author"
    UNMUTE = "unmute", "Unmute the author"
    REPORT = "report", "Report to the network"


class ModerationPurpose(models.TextChoices):
    """Why the action was taken: staff moderating (RS-ABU-1), a reply held for approval (AW-MOD-1), or an item
    passed to the safeguarding lead (RS-ABU-2), which is hidden and never deleted."""

    MODERATION = "moderation", "Moderation"
    HOLD = "hold", "Held for approval"
    SAFEGUARDING = "safeguarding", "Passed to the safeguarding lead"


class ModerationStatus(models.TextChoices):
    PENDING = "pending", "Being carried out"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ModerationAction(models.Model):
    """One moderation decision on an item, with the evidence as it stood before it was carried out."""

    item = models.ForeignKey(InboxItem, on_delete=models.PROTECT, related_name="moderation")
    kind = models.CharField(max_length=10, choices=ModerationKind.choices)
    purpose = models.CharField(max_length=12, choices=ModerationPurpose.choices, default=ModerationPurpose.MODERATION)
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()
    # Text, author, time, link and the network's own record, copied before the action.
    evidence = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=ModerationStatus.choices)
    error = models.TextField(blank=True)
    # A failure worth trying again (the network was down or busy); a permanent refusal is not.
    retryable = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)
    # What the audience is told, kept until the action is done; then the reply, or why none could be posted.
    explanation_text = models.TextField(blank=True)
    explanation_template = models.ForeignKey(
        "ResponseTemplate", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    explanation_note = models.CharField(max_length=300, blank=True)
    explanation = models.ForeignKey(Reply, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    undoes = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="undone_by")

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.item}"


# A template is for one kind of reply: the same four kinds.
TemplateKind = ReplyKind


class ResponseTemplate(models.Model):
    """Words the school keeps for answers: acknowledgements, replies, moderation explanations, office redirects."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="response_templates")
    kind = models.CharField(max_length=16, choices=TemplateKind.choices)
    name = models.CharField(max_length=120)
    text = models.TextField()
    active = models.BooleanField(default=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["school", "kind", "name"], name="one_template_name_per_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"
