"""The post form and the review form."""

from __future__ import annotations

from django import forms

from schoolgate.media.models import MediaItem
from schoolgate.official_accounts.models import OfficialAccount
from schoolgate.posts.models import ReviewDecision


class PostForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}))
    accounts = forms.ModelMultipleChoiceField(
        queryset=OfficialAccount.objects.none(), widget=forms.CheckboxSelectMultiple, label="Post on"
    )
    images = forms.ModelMultipleChoiceField(
        queryset=MediaItem.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Photos from the media library",
        help_text="Up to four. Each face must be tagged or blurred, and tagged pupils need consent.",
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
        self.fields["images"].queryset = MediaItem.objects.filter(
            pk__in=list(MediaItem.objects.filter(school=school).values_list("pk", flat=True)[:60])
        )
        self.fields["images"].label_from_instance = lambda item: item.alt_text or str(item)


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=ReviewDecision.choices, widget=forms.RadioSelect)
    # The post's images the reviewer has looked at and judged appropriate (RS-IMG-3); the page lists them.
    confirmed_images = forms.TypedMultipleChoiceField(
        coerce=int, required=False, choices=(), widget=forms.CheckboxSelectMultiple, label="Images"
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, help_text="Required when returning the post."
    )

    def __init__(self, *args, images=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["confirmed_images"].choices = [
            (image.pk, f"Image {number} is appropriate to publish") for number, image in enumerate(images, start=1)
        ]
