"""Forms for uploading an export, choosing its columns, and confirming it."""

from __future__ import annotations

from django import forms

from schoolgate.pupils import imports
from schoolgate.pupils.models import ImportKind

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        choices=ImportKind.choices,
        widget=forms.RadioSelect,
        initial=ImportKind.PUPILS,
        label="What the file holds",
        help_text="Import pupils first: each parent or carer is linked to a pupil by UPN or admission number.",
    )
    file = forms.FileField(label="CSV export", help_text="A .csv file from SIMS, Arbor, Bromcom or a spreadsheet.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size // (1024 * 1024)} MB; exports up to {MAX_UPLOAD_BYTES // (1024 * 1024)} MB "
                "can be imported."
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
