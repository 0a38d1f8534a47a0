"""Forms for members and closures."""

from __future__ import annotations

from django import forms

from schoolgate.schools.models import validate_one_line
from schoolgate.schools.roles import Role

SCHOOL_ROLES = [(r.value, r.label) for r in Role if r != Role.TRUST_ADMIN]


class AddMemberForm(forms.Form):
    full_name = forms.CharField(max_length=150)
    email = forms.EmailField()
    role = forms.ChoiceField(choices=SCHOOL_ROLES)
    job_title = forms.CharField(max_length=120, required=False)


class ClosureForm(forms.Form):
    label = forms.CharField(max_length=120, help_text="For example: INSET day, Christmas holiday")
    starts_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    ends_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


class SchoolDetailsForm(forms.Form):
    name = forms.CharField(max_length=200, validators=[validate_one_line])
    website = forms.URLField(required=False)
    email_domains = forms.CharField(
        max_length=300,
        required=False,
        label="School email domains",
        help_text="Comma-separated, e.g. raleigh.surrey.sch.uk. Official accounts must be "
        "registered with an address in one of them.",
    )
