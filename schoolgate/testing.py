"""The shared cast for tests: one school with a person in every role, and a current policy."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import os
import time
from dataclasses import dataclass

from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from schoolgate.accounts.models import User
from schoolgate.policy.models import (
    Document,
    DocumentKind,
    DocumentVersion,
    PolicySettings,
    VersionApproval,
    VersionStatus,
    add_months,
)
from schoolgate.schools.models import Membership, School
from schoolgate.schools.roles import Role

PASSWORD = "correct-horse-battery"
TOTP_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
_counter = itertools.count(1)


def totp_code(secret: str = TOTP_SECRET, *, offset: int = 0) -> str:
    return format_hotp_value(hotp_value(secret, int(timezone.now().timestamp()) // 30 + offset))


@functools.cache
def _password_hash() -> str:
    # Password hashing is slow on purpose; the cast shares one hash of PASSWORD instead of nine per school.
    return make_password(PASSWORD)


def make_user(full_name: str, *, email: str | None = None, totp: bool = False) -> User:
    email = email or f"{full_name.lower().replace(' ', '.')}.{next(_counter)}@example.org"
    user = User.objects.create_user(email=email, full_name=full_name)
    user.password = _password_hash()
    user.save(update_fields=["password"])
    if totp:
        TOTP.activate(user, TOTP_SECRET)
    return user


@dataclass
class Cast:
    school: School
    head: User
    dsl: User
    deputy_dsl: User
    leader: User
    alice: User  # staff
    bob: User  # staff
    volunteer: User
    governor: User
    chair: User
    policy: DocumentVersion

    def everyone(self) -> list[User]:
        return [
            self.head,
            self.dsl,
            self.deputy_dsl,
            self.leader,
            self.alice,
            self.bob,
            self.volunteer,
            self.governor,
            self.chair,
        ]


def make_school(
    name: str = "Test School",
    *,
    slug: str | None = None,
    settings: dict | None = None,
    reviewed_on: dt.date | None = None,
) -> Cast:
    school = School.objects.create(name=name, slug=slug or f"school-{next(_counter)}")
    people = {}
    for attr, role, person in [
        ("head", Role.HEADTEACHER, "Hannah Head"),
        ("dsl", Role.DSL, "Dev Safeguard"),
        ("deputy_dsl", Role.DEPUTY_DSL, "Dee Deputy"),
        ("leader", Role.LEADERSHIP, "Lee Leader"),
        ("alice", Role.STAFF, "Alice Staff"),
        ("bob", Role.STAFF, "Bob Staff"),
        ("volunteer", Role.VOLUNTEER, "Val Volunteer"),
        ("governor", Role.GOVERNOR, "Gus Governor"),
        ("chair", Role.CHAIR_OF_GOVERNORS, "Cara Chair"),
    ]:
        user = make_user(person, totp=role in {Role.HEADTEACHER, Role.DSL, Role.DEPUTY_DSL, Role.LEADERSHIP})
        Membership.objects.create(school=school, user=user, role=role)
        people[attr] = user
    reviewed_on = reviewed_on or timezone.localdate() - dt.timedelta(days=100)
    document = Document.objects.create(
        school=school, kind=DocumentKind.SOCIAL_MEDIA_POLICY, title="Social media policy"
    )
    version = DocumentVersion.objects.create(
        document=document,
        number=1,
        status=VersionStatus.CURRENT,
        text="Our policy.\n\nSecond paragraph.",
        drafted_by=people["head"],
        drafted_at=timezone.now(),
        reviewed_on=reviewed_on,
        became_current_at=timezone.now(),
        next_review_on=add_months(reviewed_on, 12),
    )
    PolicySettings.objects.create(version=version, **(settings or {}))
    for role, attr in [(Role.HEADTEACHER, "head"), (Role.CHAIR_OF_GOVERNORS, "chair")]:
        VersionApproval.objects.create(version=version, role=role, approved_by=people[attr], approved_at=timezone.now())
    return Cast(school=school, policy=version, **people)


def browser_log_in(page, user, *, with_code: bool = False) -> None:
    """Log in through the real login page (and the authenticator step when the person has one)."""
    import re

    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    if with_code:
        page.wait_for_selector("input[name=code]")
        # A code typed in the last moments of its 30-second step may reach the server in the next one, which
        # refuses it: wait for a fresh step, as a person would for the app to turn over.
        left = 30 - timezone.now().timestamp() % 30
        if left < 3:
            time.sleep(left + 0.1)
        page.fill("input[name=code]", totp_code())
        page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/s/"))


def browser_log_out(page) -> None:
    import re

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))


REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


def require_redis(purpose: str) -> None:
    """Fail in CI, skip elsewhere, when the Redis that a real-Redis test needs is not reachable."""
    import pytest
    import redis

    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3, socket_timeout=3) as client:
            client.ping()
    except redis.exceptions.RedisError as exc:
        reason = f"Redis is not reachable at {REDIS_URL} ({exc.__class__.__name__}: {exc}); set REDIS_URL"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}. CI must provide Redis.")
        pytest.skip(f"{reason} to run {purpose}.")
