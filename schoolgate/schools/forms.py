"""Forms for members and closures."""

from __future__ import annotations

from django import forms

from schoolgate.policy.models import Nation
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


class AddSchoolForm(forms.Form):
    """A trust administrator adds a school: its name and address, whose bank holidays count, and its headteacher."""

    name = forms.CharField(max_length=200, validators=[validate_one_line])
    slug = forms.SlugField(
        label="Web address",
        max_length=50,
        help_text="Short and lower case, e.g. “oakfield”: the school's pages live at /s/oakfield/.",
    )
    nation = forms.ChoiceField(label="Bank holidays of", choices=Nation.choices, initial=Nation.ENGLAND)
    email_domains = forms.CharField(
        max_length=300,
        required=False,
        label="School email domains",
        help_text="Comma-separated, e.g. oakfield.sch.uk. Official accounts must be registered with an address in one.",
    )
    headteacher_name = forms.CharField(max_length=150)
    headteacher_email = forms.EmailField(
        help_text="They are told by email how to sign in and set up their second factor."
    )
    chair_name = forms.CharField(label="Chair of governors' name", max_length=150, required=False)
    chair_email = forms.EmailField(label="Chair of governors' email", required=False)

    def clean(self):
        data = super().clean()
        if data.get("chair_email") and not data.get("chair_name"):
            self.add_error("chair_name", "Give the chair's name with their email.")
        return data
