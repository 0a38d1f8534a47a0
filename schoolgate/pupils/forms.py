"""Forms for importing exports (upload, columns, confirmation) and for recording photo consent."""

from __future__ import annotations

from django import forms

from schoolgate.pupils import imports
from schoolgate.pupils.actions.importing import MAX_UPLOAD_BYTES
from schoolgate.pupils.models import Carer, ConsentChannel, ConsentDecision, ConsentUse, ImportKind


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        choices=ImportKind.choices,
        widget=forms.RadioSelect,
        initial=ImportKind.PUPILS,
        label="What the file holds",
        help_text="Import pupils first: each parent or carer is linked to a pupil by UPN or admission number.",
    )
    file = forms.FileField(
        label="CSV export",
        help_text=f"A .csv file from SIMS, Arbor, Bromcom or a spreadsheet, up to {MAX_UPLOAD_BYTES // 2**20} MB.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / (1024 * 1024):.1f} MB; exports up to {MAX_UPLOAD_BYTES // (1024 * 1024)} "
                "MB can be imported. Export only the pupils on roll, with the columns Schoolgate reads."
            )
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        return upload


class MappingForm(forms.Form):
    """One select per field, listing the file's columns."""

    def __init__(self, *args, kind: str, headers: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "— not in this file —"), *((h, h) for h in headers if h)]
        for spec in imports.fields_for(kind):
            self.fields[spec.name] = forms.ChoiceField(
                label=spec.label + (" (required)" if spec.required else ""), choices=choices, required=False
            )

    def mapping(self) -> dict[str, str]:
        return {name: header for name, header in self.cleaned_data.items() if header}


class ConfirmForm(forms.Form):
    mark_missing_as_left = forms.BooleanField(
        required=False,
        label="Pupils missing from this file have left",
        help_text="Ticked: pupils on roll here but not in this file get today as their leaving date. They stay "
        "in Schoolgate as former pupils; nobody is deleted.",
    )


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        # A date input only shows a value written as ISO 8601, whatever the site's date format.
        super().__init__(attrs, format="%Y-%m-%d")


def _answered_by_choices(carers) -> list[tuple[str, str]]:
    return [*((f"carer-{carer.pk}", str(carer)) for carer in carers), ("pupil", "The pupil themself")]


class AnsweredByMixin:
    """'carer-<id>' or 'pupil' in the form; the action gets a Carer (or None) and a flag."""

    def answered_by(self, name: str) -> tuple[Carer | None, bool]:
        value = self.cleaned_data[name]
        if value == "pupil":
            return None, True
        return self.carers[int(value.removeprefix("carer-"))], False


class ConsentForm(AnsweredByMixin, forms.Form):
    """A family's answer received on paper, by email or in person, for one or more uses."""

    uses = forms.MultipleChoiceField(
        choices=ConsentUse.choices, widget=forms.CheckboxSelectMultiple, label="For these uses"
    )
    decision = forms.ChoiceField(choices=ConsentDecision.choices, widget=forms.RadioSelect, label="Decision")
    given_by = forms.ChoiceField(
        label="Answer from",
        help_text="Only parents and carers with parental responsibility are listed; a pupil can refuse or withdraw.",
    )
    channel = forms.ChoiceField(
        choices=[c for c in ConsentChannel.choices if c[0] != ConsentChannel.ONLINE], label="Received by"
    )
    decided_on = forms.DateField(label="Date of the decision", widget=DateInput)
    expires_on = forms.DateField(
        label="Expires on (optional)", required=False, widget=DateInput, help_text="The first day it no longer applies."
    )
    note = forms.CharField(label="Note (optional)", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, carers, **kwargs):
        super().__init__(*args, **kwargs)
        self.carers = {carer.pk: carer for carer in carers}
        self.fields["given_by"].choices = _answered_by_choices(carers)


class DoNotPhotographForm(AnsweredByMixin, forms.Form):
    requested_by = forms.ChoiceField(label="Asked by")
    requested_on = forms.DateField(label="Date of the request", widget=DateInput)
    note = forms.CharField(label="Reason or note (optional)", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, carers, **kwargs):
        super().__init__(*args, **kwargs)
        self.carers = {carer.pk: carer for carer in carers}
        self.fields["requested_by"].choices = _answered_by_choices(carers)


class LiftDoNotPhotographForm(forms.Form):
    note = forms.CharField(
        label="Who asked for it to be lifted, and how", widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )
