"""Official accounts from proposal to approval, their security checklist, escrowed logins and connections."""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from django.db import models

from schoolgate import crypto


class ChannelKind(models.TextChoices):
    """What the policy counts as social media (AW-SCOPE-2), not only Facebook and X."""

    SOCIAL_NETWORK = "social_network", "Social network"
    BLOG = "blog", "Blog"
    WIKI = "wiki", "Wiki"
    FORUM = "forum", "Forum or bulletin board"
    VIDEO_PHOTO = "video_photo", "Video or photo sharing"
    ONLINE_GAMING = "online_gaming", "Online gaming"
    APP = "app", "App"
    CHAT = "chat", "Chat room or instant messenger"


class Network(models.TextChoices):
    BLUESKY = "bluesky", "Bluesky"
    MASTODON = "mastodon", "Mastodon"
    FACEBOOK = "facebook", "Facebook Page"
    INSTAGRAM = "instagram", "Instagram"
    X = "x", "X (Twitter)"
    LINKEDIN = "linkedin", "LinkedIn Page"
    YOUTUBE = "youtube", "YouTube"
    OTHER = "other", "Other (managed outside Schoolgate)"


class Visibility(models.TextChoices):
    OPEN = "open", "Open (public)"
    PRIVATE = "private", "Private or closed (members only)"


class Likelihood(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class AccountStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    RETIRED = "retired", "Retired"


class OfficialAccountQuerySet(models.QuerySet):
    def approved(self):
        return self.filter(status=AccountStatus.APPROVED)

    def at_school(self, school):
        return self.filter(school=school)


class OfficialAccount(models.Model):
    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="official_accounts")
    name = models.CharField(max_length=120, help_text="How the account is known, e.g. “Raleigh School news”.")
    kind = models.CharField(max_length=20, choices=ChannelKind.choices, default=ChannelKind.SOCIAL_NETWORK)
    network = models.CharField(max_length=20, choices=Network.choices)
    handle = models.CharField(
        "Handle or address", max_length=200, blank=True, help_text="The account's handle or address, if known."
    )
    instance_url = models.URLField(
        "Mastodon server address",
        blank=True,
        help_text="For a Mastodon account only: the server it lives on, e.g. https://mastodon.social.",
    )
    registration_email = models.EmailField(
        "Email address the account is registered with", help_text="Must be one of the school's own addresses."
    )

    # The proposal (RS-ACC-1, AW-ACC-1, AW-ACC-2)
    aim = models.TextField("Aim of the account")
    intended_audience = models.TextField()
    promotion = models.TextField("How the account will be promoted")
    visibility = models.CharField(max_length=10, choices=Visibility.choices)
    objectives = models.TextField("Educational or community objectives")
    intended_outcomes = models.TextField()
    risks = models.TextField("Risks")
    likelihood = models.CharField("Likelihood of harm", max_length=10, choices=Likelihood.choices)
    mitigations = models.TextField()
    involves_pupils = models.BooleanField(
        default=False, help_text="Pupils take part (their replies are then moderated where the network allows)."
    )

    status = models.CharField(
        max_length=10, choices=AccountStatus.choices, default=AccountStatus.PROPOSED, db_index=True
    )
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    proposed_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    # Security checklist (AW-ACC-5)
    two_factor_enabled = models.BooleanField(default=False)
    recovery_email = models.EmailField(blank=True)
    password_changed_on = models.DateField(null=True, blank=True)
    checklist_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checklist_confirmed_at = models.DateTimeField(null=True, blank=True)

    sign_off = models.CharField(
        max_length=60, blank=True, help_text="Optional sign-off added to posts, e.g. “— Mrs Moore”."
    )
    # Who may draft, reply and moderate on this account (AW-PUB-6).
    authorised_staff = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="authorised_accounts")

    objects = OfficialAccountQuerySet.as_manager()

    class Meta:
        ordering = ["school", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_network_display()})"

    def holds_replies(self, policy) -> bool:
        """AW-MOD-1: replies on an account that involves pupils, or at a school whose policy (the version in force)
        moderates comments by default, are held for approval before they appear (where the network can hide them)."""
        from schoolgate.policy.models import CommentsDefault

        moderated = policy is not None and policy.comments_default == CommentsDefault.MODERATED
        return self.involves_pupils or moderated

    @property
    def is_approved(self) -> bool:
        return self.status == AccountStatus.APPROVED

    @property
    def network_label(self) -> str:
        """What families know the place by: the network, or the account's own name when it is not one we list."""
        return self.name if self.network == Network.OTHER else self.get_network_display()

    @property
    def has_connector(self) -> bool:
        from schoolgate.connectors.registry import CONNECTORS

        return self.network in CONNECTORS

    def security_problems(self, *, today: dt.date, password_max_age_days: int) -> list[str]:
        """What is out of date in the security checklist; empty when all is well."""
        problems = []
        if not self.two_factor_enabled:
            problems.append("Two-factor authentication is not confirmed as on.")
        domains = self.school.email_domain_list()
        if not self.recovery_email:
            problems.append("No recovery email is recorded.")
        elif domains and self.recovery_email.rsplit("@", 1)[-1].lower() not in domains:
            problems.append("The recovery email is not one of the school's addresses.")
        if self.password_changed_on is None:
            problems.append("No password change is recorded.")
        elif (today - self.password_changed_on).days > password_max_age_days:
            problems.append(
                f"The password was last changed on {self.password_changed_on:%-d %B %Y}, more than "
                f"{password_max_age_days} days ago."
            )
        return problems


class EscrowedLogin(models.Model):
    """The account's login details, encrypted, for leadership in an emergency (AW-ACC-3)."""

    account = models.OneToOneField(OfficialAccount, on_delete=models.CASCADE, related_name="escrow")
    login_encrypted = models.TextField()
    password_encrypted = models.TextField()
    notes_encrypted = models.TextField(blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Escrowed login for {self.account}"

    def reveal(self) -> dict:
        return {
            "login": crypto.decrypt(self.login_encrypted),
            "password": crypto.decrypt(self.password_encrypted),
            "notes": crypto.decrypt(self.notes_encrypted) if self.notes_encrypted else "",
        }


class ConnectionStatus(models.TextChoices):
    CONNECTED = "connected", "Connected"
    BROKEN = "broken", "Broken — reconnect"
    DISCONNECTED = "disconnected", "Disconnected"


class ConnectionQuerySet(models.QuerySet):
    def connected(self):
        return self.filter(status=ConnectionStatus.CONNECTED)

    def expiring_before(self, moment: dt.datetime):
        return self.connected().filter(expires_at__isnull=False, expires_at__lte=moment)


class Connection(models.Model):
    """Schoolgate's link to the account on its network: tokens encrypted at rest, health shown."""

    account = models.OneToOneField(OfficialAccount, on_delete=models.CASCADE, related_name="connection")
    status = models.CharField(max_length=15, choices=ConnectionStatus.choices, default=ConnectionStatus.CONNECTED)
    credentials_encrypted = models.TextField()
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    remote_id = models.CharField(max_length=200, blank=True)
    remote_handle = models.CharField(max_length=200, blank=True)
    service_url = models.URLField(blank=True)
    broken_reason = models.TextField(blank=True)
    connected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    connected_at = models.DateTimeField()
    last_ok_at = models.DateTimeField(null=True, blank=True)

    objects = ConnectionQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.account} — {self.get_status_display()}"

    def credentials(self):
        from schoolgate.connectors.base import Credentials

        data = json.loads(crypto.decrypt(self.credentials_encrypted))
        return Credentials(data=data, expires_at=self.expires_at)

    def set_credentials(self, credentials) -> None:
        self.credentials_encrypted = crypto.encrypt(json.dumps(credentials.data))
        self.expires_at = credentials.expires_at

    def connector(self):
        from schoolgate.connectors.registry import connector_class

        return connector_class(self.account.network)(self.credentials(), base_url=self.service_url or None)


class OAuthApp(models.Model):
    """An app registered with a network (per Mastodon server), its secret encrypted."""

    network = models.CharField(max_length=20, choices=Network.choices)
    base_url = models.URLField(blank=True)
    client_id = models.CharField(max_length=300)
    client_secret_encrypted = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["network", "base_url"], name="one_app_per_server")]

    def __str__(self) -> str:
        return f"{self.get_network_display()} app at {self.base_url or 'the network'}"
