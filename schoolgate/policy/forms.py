"""The draft form: the school's text plus the settings the software enforces."""

from __future__ import annotations

from django import forms

from schoolgate.policy.actions import SETTINGS_FIELDS
from schoolgate.policy.models import DocumentVersion, PolicySettings


class DraftForm(forms.ModelForm):
    class Meta:
        model = DocumentVersion
        fields = ["change_summary", "review_cycle_months", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 18})}
        labels = {"review_cycle_months": "Review cycle (months)", "change_summary": "What changed in this version"}


class PolicySettingsForm(forms.ModelForm):
    class Meta:
        model = PolicySettings
        fields = SETTINGS_FIELDS
        labels = {
            "required_reviewers": "Colleague reviews required per post",
            "reply_deadline_hours": "Reply deadline (hours)",
            "takedown_deadline_hours": "Take-down deadline after consent is withdrawn (hours)",
            "clock_pauses_weekends": "Weekends stop the reply clock",
            "clock_pauses_bank_holidays": "Bank holidays stop the reply clock",
            "clock_pauses_closures": "School closures stop the reply clock",
            "private_messages_forbidden": "Private messages to pupils, parents and carers are forbidden",
        }

    def _post_clean(self):
        # Model validation (including the cross-field rules) runs in the save_draft action, which
        # maps its errors back onto this form; skipping it here avoids validating twice.
        pass
