"""Forms: recording training (your own, or a session's attendance), courses, settings, the privacy self-check."""

from __future__ import annotations

from django import forms

from schoolgate.training.models import REQUIRABLE_ROLES, Course, TrainingSettings
from schoolgate.training.privacy import ITEMS, Answer

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MemberChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, user):
        return user.full_name or user.email


class OwnCompletionForm(forms.Form):
    course = forms.ModelChoiceField(label="Course", queryset=Course.objects.none(), empty_label="Choose…")
    completed_on = forms.DateField(label="When you completed it", widget=DATE_INPUT)
    note = forms.CharField(
        label="Certificate or note (optional)",
        required=False,
        max_length=300,
        help_text="Who ran it, a certificate number, or a link to it.",
    )

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = Course.objects.filter(school=school, is_active=True)


class AttendanceForm(OwnCompletionForm):
    users = MemberChoice(label="Who attended", queryset=None, widget=forms.CheckboxSelectMultiple)

    field_order = ["course", "completed_on", "users", "note"]

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, school=school, **kwargs)
        self.fields["completed_on"].label = "Date of the session"
        self.fields["users"].queryset = school.members().order_by("full_name")


class DeclineForm(forms.Form):
    reason = forms.CharField(label="Why it is not confirmed", max_length=300)


class CourseForm(forms.ModelForm):
    roles = forms.MultipleChoiceField(
        label="Who must take it", choices=REQUIRABLE_ROLES, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Course
        fields = ["name", "kind", "description", "roles", "renewal_months", "due_within_days", "is_active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def _post_clean(self):
        # Model validation runs in the save_course action, whose errors the view maps back onto this form.
        pass


class TrainingSettingsForm(forms.ModelForm):
    privacy_check_roles = forms.MultipleChoiceField(
        label="Who completes the privacy self-check", choices=REQUIRABLE_ROLES, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = TrainingSettings
        fields = [
            "privacy_check_months",
            "privacy_check_due_within_days",
            "privacy_check_roles",
            "reminder_days_before",
        ]

    def _post_clean(self):
        pass


class PrivacyCheckForm(forms.Form):
    """One question per item of the checklist, each with its advice as help."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for item in ITEMS:
            self.fields[item.key] = forms.ChoiceField(
                label=item.question, choices=Answer.choices, widget=forms.RadioSelect, help_text=item.advice
            )
