"""Forms for the media library: upload with provenance, a decision on a face, a missed face, deletion."""

from __future__ import annotations

from django import forms

from schoolgate.media.actions import MAX_UPLOAD_BYTES
from schoolgate.media.models import FaceDecision, Licence

SOURCE_SUGGESTIONS = [
    "Taken by staff on a school device",
    "Taken by staff on a personal device, then deleted from it",
    "Supplied by a parent or carer",
    "Supplied by a visiting photographer",
    "Supplied by a partner organisation",
]


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Photo",
        help_text=f"JPEG, PNG, HEIC/HEIF or WebP, up to {MAX_UPLOAD_BYTES // (1024 * 1024)} MB. Location and camera "
        "details are removed from the copy that can be published.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/heic,image/heif"}),
    )
    source = forms.CharField(
        label="Where the photo came from",
        max_length=200,
        widget=forms.TextInput(attrs={"list": "source-suggestions"}),
    )
    photographer = forms.CharField(label="Who took it", max_length=200)
    licence = forms.ChoiceField(
        label="The school may use it because", choices=Licence.choices, widget=forms.RadioSelect
    )
    permission_note = forms.CharField(
        label="Permission or licence details",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Who holds the copyright and how they agreed, or the licence's name and the credit it asks for.",
    )
    alt_text = forms.CharField(
        label="Description (alt text)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What the photo shows, for people who cannot see it. Avoid pupils' names.",
    )


class FaceDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[(value, label) for value, label in FaceDecision.choices], widget=forms.RadioSelect
    )
    pupil = forms.ModelChoiceField(queryset=None, required=False, empty_label="— choose a pupil —")
    note = forms.CharField(required=False, max_length=200)
    # Ticked on the confirmation page shown when the photo is already in a live post.
    confirm_published = forms.BooleanField(required=False)

    def __init__(self, *args, pupils, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pupil"].queryset = pupils

    def clean(self):
        data = super().clean()
        if data.get("decision") == FaceDecision.PUPIL and not data.get("pupil"):
            self.add_error("pupil", "Choose the pupil.")
        if data.get("decision") == FaceDecision.NOT_PUPIL and not (data.get("note") or "").strip():
            self.add_error("note", 'Say who it is, for example "Mr Jones, teacher".')
        return data


class AddFaceForm(forms.Form):
    """A box in percentages of the photo (filled in by dragging on the photo, or typed)."""

    left = forms.FloatField(label="From the left (%)", min_value=0, max_value=100)
    top = forms.FloatField(label="From the top (%)", min_value=0, max_value=100)
    width = forms.FloatField(label="Width (%)", min_value=0, max_value=100)
    height = forms.FloatField(label="Height (%)", min_value=0, max_value=100)

    def box(self) -> tuple[float, float, float, float]:
        return tuple(self.cleaned_data[name] / 100 for name in ("left", "top", "width", "height"))


class DeleteForm(forms.Form):
    reason = forms.CharField(
        label="Why it is being deleted",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept in the audit log with who deleted it and a fingerprint (SHA-256) of the original.",
    )
