"""Who may configure listening and who may triage what it finds."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from schoolgate.schools.permissions import has_permission


def may_configure(user, school) -> bool:
    return has_permission(user, school, "listening.configure")


def may_triage(user, school) -> bool:
    """Leaders and the safeguarding leads, and staff authorised on any of the school's approved accounts."""
    if has_permission(user, school, "listening.triage"):
        return True
    if not user.is_authenticated or not has_permission(user, school, "school.view"):
        return False
    from schoolgate.official_accounts.models import OfficialAccount

    return OfficialAccount.objects.approved().filter(school=school, authorised_staff=user).exists()


def require_triage(user, school) -> None:
    if not may_triage(user, school):
        raise PermissionDenied(f"Only the people who watch for posts about {school} can do this.")
