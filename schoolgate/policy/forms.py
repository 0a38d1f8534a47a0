"""The draft form: the school's text plus the policy's settings (those Schoolgate enforces and those it records);
naming a new factsheet."""

from __future__ import annotations

from django import forms

from schoolgate.policy.actions import SETTINGS_FIELDS
from schoolgate.policy.models import DocumentVersion, Harm, PolicySettings
from schoolgate.policy.rules import SETTING_RULES


class DraftForm(forms.ModelForm):
    class Meta:
        model = DocumentVersion
        fields = ["change_summary", "review_cycle_months", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 18})}
        labels = {"review_cycle_months": "Review cycle (months)", "change_summary": "What changed in this version"}


HARM_FIELDS = ("harms_blocking_posts", "harms_hidden_on_arrival", "harms_to_dsl")


class HarmsField(forms.MultipleChoiceField):
    """Kinds of harm as ticks; stored as a list in the one order the screen reports them."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        for unused in ("encoder", "decoder", "max_length", "required", "empty_value"):
            kwargs.pop(unused, None)
        super().__init__(choices=Harm.choices, required=False, **kwargs)

    def prepare_value(self, value):
        return value if isinstance(value, list | tuple) else []

    def clean(self, value):
        chosen = set(super().clean(value))
        return [h for h in Harm.values if h in chosen]


class PolicySettingsForm(forms.ModelForm):
    class Meta:
        model = PolicySettings
        fields = SETTINGS_FIELDS
        # Labels for people come from the one table that also says which settings are enforced.
        labels = {name: rule.label for name, rule in SETTING_RULES.items()}
        field_classes = dict.fromkeys(HARM_FIELDS, HarmsField)

    def _post_clean(self):
        # Model validation (including the cross-field rules) runs in the save_draft action, which
        # maps its errors back onto this form; skipping it here avoids validating twice.
        pass

    def enforced_fields(self) -> list[tuple[forms.BoundField, str]]:
        """The settings Schoolgate enforces, each with where it is checked."""
        return [
            (self[name], SETTING_RULES[name].enforced_where) for name in self.fields if SETTING_RULES[name].enforced
        ]

    def recorded_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not SETTING_RULES[name].enforced]


class FactsheetForm(forms.Form):
    title = forms.CharField(
        label="Title", max_length=200, help_text="What it is about, as staff will see it in the library."
    )
