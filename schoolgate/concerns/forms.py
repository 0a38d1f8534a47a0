"""Forms: reporting a concern (quick on a phone) and adding a step to its handling."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils import timezone

from schoolgate.concerns.actions import MAX_EVIDENCE_BYTES, MAX_EVIDENCE_FILES
from schoolgate.concerns.models import Agency, AgencyDecision, Category, ContactMethod, EntryKind, Network, WhereKind
from schoolgate.pupils.models import Pupil


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern); the action checks what each one is."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*,application/pdf"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class PupilChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, pupil):
        return f"{pupil} ({pupil.year_group})" if pupil.year_group else str(pupil)


class MemberChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, user):
        return user.full_name or user.email


class ReportForm(forms.Form):
    category = forms.ChoiceField(label="What is it about?", choices=[("", "Choose…"), *Category.choices])
    text = forms.CharField(
        label="What did you see or were you told?",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="In your own words; if a child told you, what they said as they said it.",
        max_length=20000,
    )
    happened_on = forms.DateField(label="When", widget=forms.DateInput(attrs={"type": "date"}))
    happened_time = forms.TimeField(
        label="Time (if you know)", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    where_kind = forms.ChoiceField(label="Where", choices=WhereKind.choices, widget=forms.RadioSelect)
    network = forms.ChoiceField(label="Which site or app", required=False, choices=[("", "—"), *Network.choices])
    where_detail = forms.CharField(
        label="Account, post or link", required=False, max_length=1000, help_text="Copy the link if you have it."
    )
    pupils = PupilChoice(label="Pupils it is about", required=False, queryset=Pupil.objects.none())
    staff = MemberChoice(label="A member of staff it is about", required=False, queryset=None)
    about_carer = forms.CharField(label="A parent or carer (name, if you know it)", required=False, max_length=300)
    about_other = forms.CharField(
        label="Someone else, or someone unknown (describe them)", required=False, max_length=1000
    )
    evidence = MultipleFileField(
        label="Screenshots or files",
        required=False,
        help_text=f"Images or PDFs, up to {MAX_EVIDENCE_FILES} files of {MAX_EVIDENCE_BYTES // (1024 * 1024)} MB each. "
        "Kept privately: only the people who read this concern can open them.",
    )

    pupil_named = forms.CharField(
        label="A pupil (their name and class, if you know them)",
        required=False,
        max_length=300,
        help_text="The safeguarding lead will find their record.",
    )

    def __init__(self, *args, school, roster: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        if not roster:
            # Volunteers and governors may not see the pupil roster: they name the pupil in words instead.
            del self.fields["pupils"]
            self.fields["staff"].queryset = school.members().order_by("full_name")
            self.fields["happened_on"].initial = today
            self.fields["happened_on"].widget.attrs["max"] = today.isoformat()
            return
        del self.fields["pupil_named"]
        # Every pupil of the school, so a leaver chosen from an old page gets a clear message, not "invalid choice";
        # the list shows pupils on roll.
        self.fields["pupils"].queryset = Pupil.objects.filter(school=school).order_by("legal_surname", "legal_forename")
        self.fields["pupils"].choices = [
            (p.pk, self.fields["pupils"].label_from_instance(p))
            for p in Pupil.objects.filter(school=school)
            .filter(Q(leaving_date=None) | Q(leaving_date__gt=today))
            .order_by("legal_surname", "legal_forename")
        ]
        self.fields["staff"].queryset = school.members().order_by("full_name")
        self.fields["happened_on"].initial = today
        self.fields["happened_on"].widget.attrs["max"] = today.isoformat()


class EntryForm(forms.Form):
    """Every field an entry of any kind may have; the action says which a kind needs."""

    kind = forms.ChoiceField(choices=EntryKind.choices, widget=forms.HiddenInput)
    text = forms.CharField(label="Record", required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=20000)
    reason = forms.CharField(label="Reasons", required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
    occurred_at = forms.DateTimeField(
        label="When it happened", required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    procedure = forms.ChoiceField(label="Procedure", required=False)
    agency = forms.ChoiceField(label="Agency", required=False, choices=[("", "—"), *Agency.choices])
    agency_decision = forms.ChoiceField(
        label="Decision", required=False, choices=[("", "—"), *AgencyDecision.choices], widget=forms.RadioSelect
    )
    reference = forms.CharField(label="Their reference", required=False, max_length=200)
    owner = forms.ModelChoiceField(label="Who", required=False, queryset=None)
    due_on = forms.DateField(label="Due by", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    contact = forms.CharField(label="Who you spoke to", required=False, max_length=300)
    contact_method = forms.ChoiceField(label="How", required=False, choices=[("", "—"), *ContactMethod.choices])
    shared = forms.CharField(
        label="What was shared", required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    outcome = forms.CharField(
        label="Outcome", required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000
    )
    corrects = forms.ModelChoiceField(label="The entry this corrects", required=False, queryset=None)

    # Which fields each kind shows (the action checks what each needs).
    FIELDS = {
        EntryKind.ASSESSMENT: ["text"],
        EntryKind.ROUTED: ["procedure", "owner", "text"],
        EntryKind.AGENCY: ["agency", "agency_decision", "occurred_at", "reference", "text", "reason"],
        EntryKind.ACTION: ["text", "owner", "due_on"],
        EntryKind.PARENT_CONTACT: ["contact", "occurred_at", "contact_method", "shared", "outcome"],
        EntryKind.NOTE: ["text", "occurred_at"],
        EntryKind.OUTCOME: ["text", "reason"],
        EntryKind.CLOSURE: ["text", "reason"],
        EntryKind.CORRECTION: ["corrects", "text", "reason"],
    }

    def __init__(self, *args, concern, procedures, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["procedure"].choices = [("", "Choose…")] + [(p["key"], p["name"]) for p in procedures]
        self.fields["owner"].queryset = concern.school.members().order_by("full_name")
        self.fields["owner"].label_from_instance = lambda user: user.full_name or user.email
        self.fields["corrects"].queryset = concern.entries.all()
        self.fields["corrects"].label_from_instance = lambda e: (
            f"{e.get_kind_display()} recorded {timezone.localtime(e.recorded_at):%-d %B %Y, %H:%M}"
        )

    def visible_fields_for(self, kind: str):
        return [self[name] for name in self.FIELDS.get(kind, [])]
