"""The post form and the review form."""

from __future__ import annotations

from django import forms

from schoolgate.official_accounts.models import OfficialAccount
from schoolgate.posts.models import ReviewDecision


class PostForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}))
    accounts = forms.ModelMultipleChoiceField(
        queryset=OfficialAccount.objects.none(), widget=forms.CheckboxSelectMultiple, label="Post on"
    )
    scheduled_for = forms.DateTimeField(
        required=False,
        label="Publish at (optional)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Leave empty to publish as soon as it is approved.",
    )

    def __init__(self, *args, user, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["accounts"].queryset = (
            OfficialAccount.objects.approved().filter(school=school, authorised_staff=user).order_by("name")
        )


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=ReviewDecision.choices, widget=forms.RadioSelect)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, help_text="Required when returning the post."
    )
