"""Listening forms: a source, keywords, and the triage choices (views pass the cleaned data to the actions)."""

from __future__ import annotations

from django import forms

from schoolgate.listening.actions.triage import CONCERN_CHOICES
from schoolgate.listening.models import KeywordKind, SourceKind


class SourceForm(forms.Form):
    kind = forms.ChoiceField(label="Kind of source", choices=SourceKind.choices)
    name = forms.CharField(max_length=120, help_text="A name people will recognise, like “Local paper”.")
    url = forms.CharField(
        label="Address",
        max_length=500,
        required=False,
        help_text="A feed or page: its address. Mastodon: the server, like mastodon.social. Others: leave empty.",
    )
    query = forms.CharField(
        label="Search for",
        max_length=200,
        required=False,
        help_text="Bluesky, Reddit, YouTube: the words to search for. Mastodon: the hashtag.",
    )
    poll_minutes = forms.IntegerField(label="Read every (minutes)", min_value=1, max_value=7 * 24 * 60, initial=60)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["kind"]


class KeywordsForm(forms.Form):
    phrases = forms.CharField(
        label="Words or phrases",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One a line (or separated by commas): names, nicknames, the headteacher's name, hashtags, streets.",
    )
    kind = forms.ChoiceField(label="What they are", choices=KeywordKind.choices, initial=KeywordKind.NAME)
    exclude = forms.BooleanField(
        label="Leave out posts with these (an exclusion)",
        required=False,
        help_text="For a name shared with something else: “Hillside Football Club”.",
    )


class ConcernForm(forms.Form):
    category = forms.ChoiceField(
        label="What kind of concern",
        choices=[(c.value, c.label) for c in CONCERN_CHOICES],
        help_text="An account run by a pupil below the site's minimum age: choose underage use.",
    )
