"""The post form, the review form and the posts list's filters."""

from __future__ import annotations

from django import forms
from django.db.models import Q

from schoolgate.media.models import MediaItem, MediaStatus
from schoolgate.official_accounts.models import OfficialAccount
from schoolgate.posts.models import DeliveryStatus, PostStatus, ReviewDecision
from schoolgate.schools.permissions import has_permission


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
            OfficialAccount.objects.approved()
            .filter(school=school, authorised_staff=user)
            .select_related("connection")
            .order_by("name")
        )
        # Said while choosing, not after approval: an account that will not get the post by itself.
        self.fields["accounts"].label_from_instance = account_choice_label
        # The newest 60 photos; a photo whose faces are still undecided only for those who may see it then.
        photos = MediaItem.objects.filter(school=school)
        if not has_permission(user, school, "media.upload"):
            photos = photos.filter(status=MediaStatus.READY)
        self.fields["images"].queryset = MediaItem.objects.filter(pk__in=list(photos.values_list("pk", flat=True)[:60]))
        self.fields["images"].label_from_instance = lambda item: item.alt_text or str(item)


def account_choice_label(account) -> str:
    from schoolgate.posts.actions.publishing import connection_problem

    problem = connection_problem(account)
    if problem:
        return f"{account.name} — not connected: it will not go out there until the account is connected"
    if not account.has_connector:
        return f"{account.name} — posted by hand: Schoolgate cannot post to {account.network_label} itself"
    return account.name


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


# What the list can be narrowed to, in the words the post pages use.
STATE_FILTERS = {
    "draft": ("Drafts", Q(status=PostStatus.DRAFT)),
    "in_review": ("Waiting for review or approval", Q(status__in=[PostStatus.IN_REVIEW, PostStatus.AWAITING_APPROVAL])),
    "rejected": ("Returned to the author", Q(status=PostStatus.REJECTED)),
    "approved": ("Approved, not yet out", Q(status=PostStatus.APPROVED)),
    "problems": (
        "Did not go out (failed or to check)",
        Q(deliveries__status__in=[DeliveryStatus.FAILED, DeliveryStatus.UNCERTAIN, DeliveryStatus.MANUAL]),
    ),
    "published": ("Published", Q(status=PostStatus.PUBLISHED, removed_at__isnull=True)),
    "taken_down": ("Taken down", Q(removed_at__isnull=False)),
    "withdrawn": ("Withdrawn", Q(status=PostStatus.WITHDRAWN)),
}


class PostFilterForm(forms.Form):
    state = forms.ChoiceField(
        required=False, choices=[("", "Any state"), *((key, label) for key, (label, _) in STATE_FILTERS.items())]
    )
    account = forms.ModelChoiceField(queryset=OfficialAccount.objects.none(), required=False, empty_label="Any account")
    author = forms.ChoiceField(required=False, label="Written by")

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = OfficialAccount.objects.filter(school=school).order_by("name")
        authors = school.posts.order_by("author__full_name").values_list("author_id", "author__full_name").distinct()
        self.fields["author"].choices = [("", "Anyone"), ("mine", "Me"), *((str(pk), name) for pk, name in authors)]

    def filter(self, posts, *, user):
        """The posts matching the chosen filters (all of them when nothing valid is chosen)."""
        if not self.is_bound or not self.is_valid():
            return posts
        data = self.cleaned_data
        if data["state"]:
            posts = posts.filter(STATE_FILTERS[data["state"]][1])
        if data["account"]:
            posts = posts.filter(accounts=data["account"])
        if data["author"] == "mine":
            posts = posts.filter(author=user)
        elif data["author"]:
            posts = posts.filter(author_id=int(data["author"]))
        return posts.distinct()
