"""Forms: a personal account, the annual declaration, a relationship and its review, an exception and its decision,
and the school's declaration settings."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.db.models import Q
from django.utils import timezone

from schoolgate.declarations.models import (
    APPROVER_CHOICES,
    REVIEWER_CHOICES,
    Answer,
    ContactKind,
    DeclarationSettings,
    Network,
    RelationshipKind,
)
from schoolgate.pupils.models import Pupil


def _date_input(**attrs) -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date", **attrs}, format="%Y-%m-%d")


class PersonalAccountForm(forms.Form):
    network = forms.ChoiceField(label="Site or app", choices=[("", "Choose…"), *Network.choices])
    handle = forms.CharField(
        label="Handle or link", max_length=300, help_text="For example @amy.teaches or a link to the profile."
    )
    mention = forms.CharField(
        label="How it mentions the school",
        max_length=500,
        help_text="For example: my bio says I teach here; I post about school events.",
    )
    disclaimer_confirmed = forms.BooleanField(label="", required=False)

    def __init__(self, *args, disclaimer: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["disclaimer_confirmed"].label = f"The account carries this disclaimer: \u201c{disclaimer}\u201d"


class AnnualDeclarationForm(forms.Form):
    answer = forms.ChoiceField(label="Is this true for you?", choices=Answer.choices, widget=forms.RadioSelect)
    explanation = forms.CharField(
        label="If not, tell us briefly",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Who it is (a pupil or former pupil), on which site or app, and how. Only the headteacher and "
        "the safeguarding lead read this.",
    )


class RelationshipForm(forms.Form):
    kind = forms.ChoiceField(label="What kind of relationship", choices=[("", "Choose…"), *RelationshipKind.choices])
    text = forms.CharField(
        label="Tell us about it",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For example: my niece is in Year 4; I am a friend of a parent in Year 2. Only you and the "
        "people who review declarations read this.",
    )


class ReviewForm(forms.Form):
    notes = forms.CharField(
        label="Notes and conditions",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The member of staff can read these.",
    )
    next_review_on = forms.DateField(label="Review again on", widget=_date_input())


class PupilChoice(forms.ModelChoiceField):
    def label_from_instance(self, pupil):
        return f"{pupil} ({pupil.year_group})" if pupil.year_group else str(pupil)


class ExceptionRequestForm(forms.Form):
    contact_kind = forms.ChoiceField(label="Who with", choices=ContactKind.choices, widget=forms.RadioSelect)
    pupil = PupilChoice(label="The pupil (or the parent's child)", required=False, queryset=Pupil.objects.none())
    who = forms.CharField(
        label="Their name", required=False, max_length=300, help_text="And how they are linked to the school."
    )
    network = forms.ChoiceField(label="Site or app", choices=[("", "Choose…"), *Network.choices])
    reason = forms.CharField(
        label="Why the contact is needed",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Only you, the person who decides and the safeguarding lead read this.",
    )
    needed_until = forms.DateField(label="Needed until", widget=_date_input())

    def __init__(self, *args, school, roster: bool, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["needed_until"].widget.attrs["min"] = today.isoformat()
        if not roster:
            # Volunteers and governors may not see the pupil roster: they name the person in words.
            del self.fields["pupil"]
            return
        # Every pupil of the school, so a leaver chosen from an old page gets a clear message; the list shows
        # pupils on roll.
        field = self.fields["pupil"]
        field.queryset = Pupil.objects.filter(school=school)
        field.choices = [("", "—")] + [
            (p.pk, field.label_from_instance(p))
            for p in Pupil.objects.filter(school=school).filter(Q(leaving_date=None) | Q(leaving_date__gt=today))
        ]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Decision", choices=[("approve", "Approve"), ("refuse", "Refuse")], widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label="Reasons", max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), help_text="Part of the record."
    )
    expires_on = forms.DateField(label="Approved until (the last day it applies)", required=False, widget=_date_input())


class SettingsForm(forms.ModelForm):
    relationship_reviewer_roles = forms.MultipleChoiceField(
        label="Who reviews relationship declarations", choices=REVIEWER_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    exception_approver_role = forms.ChoiceField(label="Who approves exceptions", choices=APPROVER_CHOICES)
    exception_reader_roles = forms.MultipleChoiceField(
        label="Who else reads requests for exceptions",
        choices=REVIEWER_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = DeclarationSettings
        fields = [
            "disclaimer_text",
            "annual_interval_months",
            "annual_notice_days",
            "relationship_reviewer_roles",
            "relationship_review_months",
            "exception_approver_role",
            "exception_reader_roles",
            "exception_reminder_days",
        ]
        labels = {
            "disclaimer_text": "Disclaimer for personal accounts",
            "annual_interval_months": "Annual declaration: ask every (months)",
            "annual_notice_days": "Ask this many days before it is due",
            "relationship_review_months": "Review relationships again after (months)",
            "exception_reminder_days": "Remind this many days before an exception ends",
        }
        widgets = {"disclaimer_text": forms.Textarea(attrs={"rows": 2})}


def default_next_review(months: int) -> dt.date:
    from schoolgate.policy.models import add_months

    return add_months(timezone.localdate(), months)
