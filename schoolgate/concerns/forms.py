"""Forms: reporting a concern (quick on a phone), adding a step to its handling, a staff subject's dates for
retention, and the school's concern settings."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils import timezone

from schoolgate.concerns import access
from schoolgate.concerns.actions import MAX_EVIDENCE_BYTES, MAX_EVIDENCE_FILES
from schoolgate.concerns.models import (
    Agency,
    AgencyDecision,
    Audience,
    Category,
    ClockKind,
    ContactMethod,
    EntryKind,
    Network,
    WhereKind,
)
from schoolgate.pupils.models import Pupil
from schoolgate.schools.roles import Role


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
    owner = forms.ModelChoiceField(
        label="Who",
        required=False,
        queryset=None,
        error_messages={"invalid_choice": "Choose someone from the list."},
    )
    due_on = forms.DateField(label="Due by", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    contact = forms.CharField(label="Who you spoke to", required=False, max_length=300)
    contact_method = forms.ChoiceField(label="How", required=False, choices=[("", "—"), *ContactMethod.choices])
    shared = forms.CharField(
        label="What was shared", required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    outcome = forms.CharField(
        label="Outcome", required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000
    )
    keep_until = forms.DateField(
        label="Keep until (the next review)", required=False, widget=forms.DateInput(attrs={"type": "date"})
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
        EntryKind.LEAD: ["owner", "text"],
        EntryKind.NO_PARENT_CONTACT: ["reason", "text"],
        EntryKind.REOPENED: ["reason", "text"],
        EntryKind.RETENTION: ["keep_until", "reason"],
    }
    # Labels that say what a field means for this kind of entry.
    LABELS = {
        EntryKind.LEAD: {"owner": "Who leads the investigation", "text": "Anything to note (optional)"},
        EntryKind.NO_PARENT_CONTACT: {
            "reason": "Why the parents or carers were not contacted",
            "text": "Anything else to note (optional)",
        },
        EntryKind.REOPENED: {"reason": "Why it is reopened", "text": "What has come to light (optional)"},
        EntryKind.RETENTION: {"reason": "Why the record is kept"},
    }

    def __init__(self, *args, concern, procedures, kind: str = EntryKind.NOTE, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["procedure"].choices = [("", "Choose…")] + [(p["key"], p["name"]) for p in procedures]
        self.fields["owner"].queryset = concern.school.members().order_by("full_name")
        if kind == EntryKind.LEAD:
            # Only someone who reads the concern may lead it (the action checks it too).
            readers = [user.pk for user in access.readers_of(concern)]
            self.fields["owner"].queryset = self.fields["owner"].queryset.filter(pk__in=readers)
        for name, label in self.LABELS.get(kind, {}).items():
            self.fields[name].label = label
        self.fields["owner"].label_from_instance = lambda user: user.full_name or user.email
        self.fields["corrects"].queryset = concern.entries.all()
        self.fields["corrects"].label_from_instance = lambda e: (
            f"{e.get_kind_display()} recorded {timezone.localtime(e.recorded_at):%-d %B %Y, %H:%M}"
        )

    def visible_fields_for(self, kind: str):
        return [self[name] for name in self.FIELDS.get(kind, [])]


class StaffDatesForm(forms.Form):
    date_of_birth = forms.DateField(
        label="Date of birth", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    pension_on = forms.DateField(
        label="Normal pension date (if known)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Otherwise it is worked out from the date of birth and the pension age in the settings.",
    )


def _number(label: str, low: int, high: int, *, why: str = "", help_text: str = "") -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=low,
        max_value=high,
        help_text=help_text,
        error_messages={
            "required": "Give a number.",
            "invalid": "Give a whole number.",
            "min_value": f"At least {low}{why}.",
            "max_value": f"At most {high}.",
        },
    )


class ConcernSettingsForm(forms.Form):
    """Who reads each kind of concern, the assessor, the clocks and the retention rules (procedures: a formset)."""

    readers_safeguarding = forms.MultipleChoiceField(
        label=f"{Audience.SAFEGUARDING.label}: concerns about pupils and everyone else",
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    readers_staff = forms.MultipleChoiceField(
        label="Concerns about a member of staff",
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The member of staff a concern is about never reads it, whatever their role.",
    )
    readers_headteacher = forms.MultipleChoiceField(
        label="Concerns about the headteacher",
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="A headteacher never reads concerns about the headteacher; by default the chair of governors does.",
    )
    initial_assessment_role = forms.ChoiceField(
        label="Who makes the initial assessment",
        choices=[("", "Anyone who reads the concern"), *Role.choices],
        required=False,
    )
    lado_referral_working_days = _number("Refer an allegation against staff to the LADO within (working days)", 1, 5)
    closures_stop_working_days = forms.BooleanField(
        label="School closure days do not count as working days for the LADO deadline",
        required=False,
        help_text="Weekends and bank holidays never count. The LADO usually works through school holidays.",
    )
    breach_notification_hours = _number(
        "Notify the ICO of a data breach within (hours)", 1, 72, help_text="The law allows at most 72 hours."
    )
    clock_warning_hours = _number("Warn the readers this many hours before a deadline", 1, 48)
    retention_pupil_years = _number(
        "Keep a record about a pupil until their date of birth plus (years)",
        25,
        100,
        why=": the guidance keeps child protection records until the pupil is 25",
    )
    retention_staff_years = _number(
        "Keep an allegation against staff for at least (years), or until their pension age if later",
        10,
        100,
        why=": the guidance keeps allegations for at least 10 years",
    )
    retention_pension_age = _number(
        "Normal pension age, where only a date of birth is known",
        55,
        75,
        help_text="The State Pension age, which the Teachers' Pension Scheme follows, is 67 for most staff.",
    )

    READER_FIELDS = {f"readers_{audience}": audience for audience in Audience.values}


class ProcedureForm(forms.Form):
    key = forms.CharField(required=False, widget=forms.HiddenInput, max_length=40)
    name = forms.CharField(label="Procedure", required=False, max_length=120)
    clock = forms.ChoiceField(
        label="Starts the deadline",
        required=False,
        choices=[("", "No deadline"), *ClockKind.choices],
    )


ProcedureFormSet = forms.formset_factory(ProcedureForm, extra=2, can_delete=True, max_num=30, validate_max=True)
