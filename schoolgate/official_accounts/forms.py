"""Forms for proposals, decisions, the checklist, authorised staff, escrow and connecting."""

from __future__ import annotations

from django import forms

from schoolgate.accounts.models import User
from schoolgate.official_accounts.actions import PROPOSAL_FIELDS
from schoolgate.official_accounts.models import OfficialAccount


class ProposalForm(forms.ModelForm):
    class Meta:
        model = OfficialAccount
        fields = PROPOSAL_FIELDS
        widgets = {
            field: forms.Textarea(attrs={"rows": 3})
            for field in [
                "aim",
                "intended_audience",
                "promotion",
                "objectives",
                "intended_outcomes",
                "risks",
                "mitigations",
            ]
        }

    def _post_clean(self):
        # The propose_account action validates the whole proposal (including the school's domains).
        pass


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")], widget=forms.RadioSelect)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Required when rejecting; the proposer sees it.",
    )


class ChecklistForm(forms.Form):
    two_factor_enabled = forms.BooleanField(required=False, label="Two-factor authentication is on")
    recovery_email = forms.EmailField(label="Recovery email (a school address)")
    password_changed_on = forms.DateField(
        label="Password last changed on", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class AuthorisedStaffForm(forms.Form):
    users = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(), required=False, widget=forms.CheckboxSelectMultiple, label="Authorised staff"
    )

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["users"].queryset = school.members().order_by("full_name")


class EscrowForm(forms.Form):
    login = forms.CharField(label="Login (username or email)")
    password = forms.CharField(widget=forms.PasswordInput(render_value=False))
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Recovery codes or where the second factor is kept.",
    )


class RevealForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Everyone in the leadership team is emailed that you opened the login details, and why.",
    )
    code = forms.CharField(
        label="Your authenticator code",
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class AppPasswordForm(forms.Form):
    handle = forms.CharField(label="Bluesky handle", help_text="e.g. raleigh-school.bsky.social")
    app_password = forms.CharField(
        label="App password",
        widget=forms.PasswordInput,
        help_text="Create an app password in the network's settings; never use the account's main password.",
    )
    service_url = forms.URLField(
        initial="https://bsky.social",
        label="Bluesky server address",
        assume_scheme="https",
        help_text="Leave as it is unless the account is on its own server.",
    )
