"""What the school watches (sources, keywords) and what was found (mentions), with each source's reading state."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class SourceKind(models.TextChoices):
    RSS = "rss", "News feed (RSS or Atom)"
    PAGE = "page", "Web page"
    BLUESKY = "bluesky", "Bluesky search"
    MASTODON = "mastodon", "Mastodon hashtag"
    REDDIT = "reddit", "Reddit search"
    YOUTUBE = "youtube", "YouTube search"


class SourceStatus(models.TextChoices):
    ACTIVE = "active", "Watching"
    PAUSED = "paused", "Paused"
    # A permanent error (the address is refused, the feed is gone): polling stops until someone edits it.
    BROKEN = "broken", "Needs attention"


class SourceQuerySet(models.QuerySet):
    def due(self, now):
        return self.filter(status=SourceStatus.ACTIVE).filter(
            models.Q(next_poll_at__isnull=True) | models.Q(next_poll_at__lte=now)
        )


class Source(models.Model):
    """One place the school watches. Its cursor is opaque: only the source's class reads it."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="listening_sources")
    kind = models.CharField(max_length=20, choices=SourceKind.choices)
    name = models.CharField(max_length=120)
    url = models.CharField(
        "Address", max_length=500, blank=True, help_text="The feed or page address, or the Mastodon server."
    )
    query = models.CharField(
        "Search for", max_length=200, blank=True, help_text="The words or hashtag to search for on the network."
    )
    poll_minutes = models.PositiveIntegerField("Read every (minutes)", default=60)
    status = models.CharField(max_length=10, choices=SourceStatus.choices, default=SourceStatus.ACTIVE)
    cursor = models.TextField(blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_read_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    rate_limited_until = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def is_rate_limited(self) -> bool:
        return bool(self.rate_limited_until and self.rate_limited_until > timezone.now())


class KeywordKind(models.TextChoices):
    NAME = "name", "The school's name"
    NICKNAME = "nickname", "A nickname or short name"
    HEADTEACHER = "headteacher", "The headteacher's name"
    HASHTAG = "hashtag", "A hashtag"
    STREET = "street", "A street or place name"
    OTHER = "other", "Something else"


class Keyword(models.Model):
    """A phrase that makes a post a mention of the school, or (exclude) one that rules a post out."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="listening_keywords")
    text = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=KeywordKind.choices, default=KeywordKind.OTHER)
    exclude = models.BooleanField(default=False, help_text="Leave out posts with this phrase.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["exclude", "kind", "text"]
        constraints = [models.UniqueConstraint(fields=["school", "text", "exclude"], name="listening_keyword_once")]

    def __str__(self) -> str:
        return f"{'not ' if self.exclude else ''}{self.text}"


class MentionStatus(models.TextChoices):
    NEW = "new", "New"
    IGNORED = "ignored", "Ignored"
    WATCHING = "watching", "Reputation watch"
    IN_INBOX = "in_inbox", "Answered through the inbox"
    WITH_DSL = "with_dsl", "Passed to the safeguarding lead"


class MentionQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=[MentionStatus.NEW, MentionStatus.WATCHING])


class Mention(models.Model):
    """A public post about the school, stored once however many sources found it."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="mentions")
    source = models.ForeignKey(Source, null=True, on_delete=models.SET_NULL, related_name="mentions")
    # The normalised URL, or "text:" and the text's hash when the post has no address.
    dedupe_key = models.CharField(max_length=600)
    text_hash = models.CharField(max_length=64, db_index=True)
    remote_id = models.CharField(max_length=300, blank=True)
    network = models.CharField(max_length=20, blank=True)
    url = models.CharField(max_length=600, blank=True)
    title = models.CharField(max_length=300, blank=True)
    author = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    found_at = models.DateTimeField(default=timezone.now, db_index=True)
    matched = models.JSONField(default=list)  # the keywords that matched
    also_found_by = models.JSONField(default=list)  # names of the other sources that found it
    findings = models.JSONField(default=list)
    category = models.CharField(max_length=30, blank=True)  # the screening's suggestion (inbox categories)
    # The school's own account the post is on (a reply in one of its threads): only then can it be answered.
    account = models.ForeignKey(
        "official_accounts.OfficialAccount", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    raw = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=MentionStatus.choices, default=MentionStatus.NEW, db_index=True)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    triaged_at = models.DateTimeField(null=True, blank=True)
    concern = models.ForeignKey("concerns.Concern", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    inbox_item = models.ForeignKey(
        "inbox.InboxItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = MentionQuerySet.as_manager()

    class Meta:
        ordering = ["-found_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["school", "dedupe_key"], name="listening_mention_once")]

    def __str__(self) -> str:
        return f"Mention {self.pk} ({self.network or 'web'})"

    @property
    def may_be_disclosure(self) -> bool:
        return self.category == "safeguarding"


class ListeningSettings(models.Model):
    """Who gets the daily digest of new mentions, and how far it has gone."""

    school = models.OneToOneField("schools.School", on_delete=models.CASCADE, related_name="listening_settings")
    watchers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    digest_sent_up_to = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Listening settings of {self.school}"
