"""The inbox's forms: the queue's filters, an item's reply, triage and decision forms, and the leaders' settings
and templates. The actions check everything again; these only read what was typed."""

from __future__ import annotations

from django import forms
from django.db.models import Q

from schoolgate.concerns.models import Category as ConcernCategory
from schoolgate.inbox.actions import configure, replies, triage
from schoolgate.inbox.models import (
    Category,
    ContactRelation,
    InboxItem,
    InboxSettings,
    ItemKind,
    ReplyKind,
    ResponseTemplate,
    TemplateKind,
)
from schoolgate.official_accounts.models import OfficialAccount
from schoolgate.schools.roles import Role

DUE_FILTERS = (("", "Any time"), ("overdue", "Overdue"), ("at_risk", "Running out of time"), ("today", "Due today"))
STATUS_FILTERS = (
    ("open", "Waiting for an answer"),
    ("answered", "Answered"),
    ("closed", "Closed"),
    ("with_dsl", "With the safeguarding lead"),
    ("all", "Everything"),
)
PASS_CATEGORIES = (
    (ConcernCategory.DISCLOSURE, "A possible disclosure or a worry about a child"),
    (ConcernCategory.COLLEAGUE_ABUSE, ConcernCategory.COLLEAGUE_ABUSE.label),
    (ConcernCategory.STAFF_CONDUCT, ConcernCategory.STAFF_CONDUCT.label),
    (ConcernCategory.BULLYING, ConcernCategory.BULLYING.label),
    (ConcernCategory.OTHER, "Another safeguarding worry"),
)


class QueueFilter(forms.Form):
    account = forms.ModelChoiceField(
        queryset=OfficialAccount.objects.none(), required=False, empty_label="All accounts"
    )
    kind = forms.ChoiceField(choices=[("", "Every kind"), *ItemKind.choices], required=False)
    category = forms.ChoiceField(choices=[("", "Any category"), *Category.choices], required=False)
    due = forms.ChoiceField(choices=DUE_FILTERS, required=False)
    status = forms.ChoiceField(choices=STATUS_FILTERS, required=False)
    mine = forms.BooleanField(label="Assigned to me", required=False)

    def __init__(self, *args, accounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts


class ReplyForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[
            (k, ReplyKind(k).label) for k in (ReplyKind.ANSWER, ReplyKind.ACKNOWLEDGEMENT, ReplyKind.CONTACT_OFFICE)
        ]
    )
    template = forms.ModelChoiceField(
        queryset=ResponseTemplate.objects.none(), required=False, empty_label="No template: my own words"
    )
    text = forms.CharField(
        label="Reply", required=False, max_length=replies.TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = ResponseTemplate.objects.filter(school=school, active=True).exclude(
            kind=TemplateKind.EXPLANATION
        )


class CategoryForm(forms.Form):
    category = forms.ChoiceField(choices=[c for c in Category.choices if c[0] != Category.SAFEGUARDING])


class AssignForm(forms.Form):
    to = forms.ModelChoiceField(queryset=None, required=False, empty_label="Nobody")

    def __init__(self, *args, item, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = answerers(item)


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Note for colleagues (never public)",
        max_length=triage.NOTE_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ContactForm(forms.Form):
    relation = forms.ChoiceField(choices=[("", "Not known"), *ContactRelation.choices], required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300)


class ElsewhereForm(forms.Form):
    how = forms.CharField(label="How it was answered", max_length=500)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=(("approve", "Approve"), ("return", "Return to the writer")))
    reason = forms.CharField(required=False, max_length=1000)


class PassForm(forms.Form):
    category = forms.ChoiceField(label="What it may be", choices=PASS_CATEGORIES)


def answerers(item: InboxItem):
    """Who may be given the item: leaders and the safeguarding leads, and the account's authorised staff."""
    from schoolgate.accounts.models import User
    from schoolgate.schools.permissions import PERMISSIONS

    everywhere = Q(
        memberships__school=item.school, memberships__role__in=sorted(PERMISSIONS[replies.ANSWER_PERMISSION])
    )
    named = Q(pk__in=item.account.authorised_staff.values("pk"))
    return User.objects.filter(everywhere | named, is_active=True).distinct().order_by("full_name")


class ConfirmSentForm(forms.Form):
    url = forms.URLField(label="The reply's link on the network", max_length=500)


class SettingsForm(forms.ModelForm):
    overdue_roles = forms.MultipleChoiceField(
        label="Who is told when an answer is overdue (after the account's staff)",
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: the headteacher and the leadership team.",
    )

    class Meta:
        model = InboxSettings
        fields = configure.SETTING_FIELDS
        widgets = {
            "working_day_starts": forms.TimeInput(attrs={"type": "time"}),
            "working_day_ends": forms.TimeInput(attrs={"type": "time"}),
        }


class TemplateForm(forms.Form):
    kind = forms.ChoiceField(label="For", choices=TemplateKind.choices)
    name = forms.CharField(max_length=120)
    text = forms.CharField(label="Words", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    active = forms.BooleanField(label="In use", required=False, initial=True)
