"""Schools, the trusts that host several of them, memberships (roles) and closure dates."""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from schoolgate.requestmemo import memoized
from schoolgate.schools.roles import Role


def validate_one_line(value: str) -> None:
    """Refuse line breaks, tabs and other control characters: the name goes into every email's subject and sender,
    where a line break makes the mail server refuse the message (or would start a new header)."""
    if any(unicodedata.category(character) in {"Cc", "Zl", "Zp"} for character in value):
        raise ValidationError("Write the name on one line, without line breaks or tabs.", code="control_characters")


def roles_by_school(user) -> dict[int, frozenset[str]]:
    """The person's roles at each school they belong to (read once per GET request, see requestmemo)."""

    def load() -> dict[int, frozenset[str]]:
        table: dict[int, set[str]] = {}
        for school_id, role in Membership.objects.filter(user=user).values_list("school_id", "role"):
            table.setdefault(school_id, set()).add(role)
        return {school_id: frozenset(roles) for school_id, roles in table.items()}

    return memoized(("roles_by_school", user.pk), load)


def trusts_administered_by(user) -> frozenset[int]:
    return memoized(
        ("trusts_administered_by", user.pk),
        lambda: frozenset(Trust.admins.through.objects.filter(user_id=user.pk).values_list("trust_id", flat=True)),
    )


class Trust(models.Model):
    """A multi-academy trust (or any group of schools hosted together)."""

    name = models.CharField(max_length=200, unique=True)
    admins = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="trust_admin_of")

    def __str__(self) -> str:
        return self.name


class SchoolQuerySet(models.QuerySet):
    def for_user(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(Q(memberships__user=user) | Q(trust__admins=user)).distinct()


class School(models.Model):
    name = models.CharField(max_length=200, validators=[validate_one_line])
    slug = models.SlugField(unique=True)
    trust = models.ForeignKey(Trust, null=True, blank=True, on_delete=models.SET_NULL, related_name="schools")
    website = models.URLField(blank=True)
    email_domains = models.CharField(
        max_length=300,
        blank=True,
        help_text="The school's own email domains, comma-separated (e.g. raleigh.surrey.sch.uk). Official "
        "accounts must be registered with an address in one of them.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SchoolQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def email_domain_list(self) -> list[str]:
        return [d.strip().lower().lstrip("@") for d in self.email_domains.split(",") if d.strip()]

    def owns_email(self, address: str) -> bool:
        return "@" in address and address.rsplit("@", 1)[1].strip().lower() in self.email_domain_list()

    def roles_of(self, user) -> frozenset[str]:
        """Every role the person holds here, including trust administration through the school's trust."""
        if not user.is_authenticated:
            return frozenset()
        cache = getattr(user, "_school_roles", None)
        if cache is None:
            cache = user._school_roles = {}
        if self.pk not in cache:
            roles = set(roles_by_school(user).get(self.pk, ()))
            if self.trust_id and self.trust_id in trusts_administered_by(user):
                roles.add(Role.TRUST_ADMIN)
            cache[self.pk] = frozenset(roles)
        return cache[self.pk]

    def members_with_role(self, *roles: str):
        from schoolgate.accounts.models import User

        return User.objects.filter(memberships__school=self, memberships__role__in=roles, is_active=True).distinct()

    def members(self):
        from schoolgate.accounts.models import User

        return User.objects.filter(memberships__school=self, is_active=True).distinct()


class Membership(models.Model):
    """One role held by one person at one school; a person may hold several."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    job_title = models.CharField(max_length=120, blank=True)
    # While away, the deputy the policy names covers this role's approvals.
    away_until = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["school", "user__full_name", "role"]
        constraints = [models.UniqueConstraint(fields=["school", "user", "role"], name="one_role_once_per_school")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.school}"


class Closure(models.Model):
    """Days the school is closed (INSET days, holidays): they stop the reply clock where the policy says so."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="closures")
    starts_on = models.DateField()
    ends_on = models.DateField()
    label = models.CharField(max_length=120)

    class Meta:
        ordering = ["starts_on"]
        indexes = [models.Index(fields=["school", "starts_on", "ends_on"])]

    def __str__(self) -> str:
        return f"{self.label} ({self.starts_on:%-d %B %Y} – {self.ends_on:%-d %B %Y})"

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "The closure cannot end before it starts."})
