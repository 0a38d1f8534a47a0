"""The digest sign-up form: an email address and nothing else."""

from __future__ import annotations

from django import forms


class SubscribeForm(forms.Form):
    email = forms.EmailField(
        label="Your email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
