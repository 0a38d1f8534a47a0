"""Who reads a concern: one table from audience to the roles that read it, a school's settings over the defaults.

Two rules hold whatever a school's table says: a person a concern is about never reads it, and a concern about
the headteacher is never read by a headteacher (it goes to the chair of governors). Reporting is open to every
member ("concerns.report" in schools/permissions.py); the reporter sees only their receipt.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from schoolgate.concerns.models import Audience, Concern, ConcernSettings
from schoolgate.schools.roles import Role

# The defaults (AW-CON-1, KCSIE): the DSL, deputies and headteacher; a concern about a member of staff is for the
# headteacher and the DSL; one about the headteacher for the chair of governors.
DEFAULT_READERS: dict[str, frozenset[str]] = {
    Audience.SAFEGUARDING: frozenset({Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER}),
    Audience.STAFF: frozenset({Role.HEADTEACHER, Role.DSL}),
    Audience.HEADTEACHER: frozenset({Role.CHAIR_OF_GOVERNORS}),
}
# Roles that may never read an audience, whatever the school's table says.
NEVER_READ: dict[str, frozenset[str]] = {Audience.HEADTEACHER: frozenset({Role.HEADTEACHER})}


def check_readers_table(table: dict) -> None:
    """Refuse a school's table that names an unknown audience or role, leaves an audience unread, or lets a
    headteacher read concerns about the headteacher."""
    for audience, roles in (table or {}).items():
        if audience not in Audience.values:
            raise ValueError(f"Unknown kind of concern: {audience}.")
        if not roles:
            raise ValueError(f"Someone must read {Audience(audience).label.lower()}.")
        unknown = set(roles) - set(Role.values)
        if unknown:
            raise ValueError(f"Unknown roles: {', '.join(sorted(unknown))}.")
        if set(roles) & NEVER_READ.get(audience, frozenset()):
            raise ValueError("A concern about the headteacher cannot be read by a headteacher.")


def concern_settings(school) -> ConcernSettings:
    found = getattr(school, "_concern_settings", None)
    if found is None:
        found = ConcernSettings.objects.filter(school=school).first() or ConcernSettings(school=school)
        school._concern_settings = found
    return found


def reader_roles_in(settings: ConcernSettings, audience: str) -> frozenset[str]:
    """The roles that read an audience under these settings (the defaults where the table leaves it out)."""
    roles = frozenset((settings.readers or {}).get(audience) or DEFAULT_READERS[audience])
    return roles - NEVER_READ.get(audience, frozenset())


def reader_roles(school, audience: str) -> frozenset[str]:
    return reader_roles_in(concern_settings(school), audience)


def all_reader_roles(school) -> frozenset[str]:
    return frozenset().union(*(reader_roles(school, audience) for audience in Audience.values))


def audience_for(school, subject_users) -> str:
    """A concern about the headteacher, about another member of the school, or neither."""
    users = list(subject_users)
    if any(Role.HEADTEACHER in school.roles_of(user) for user in users):
        return Audience.HEADTEACHER
    return Audience.STAFF if users else Audience.SAFEGUARDING


def may_read(user, concern: Concern) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.pk in concern.subject_user_ids():
        return False
    return bool(concern.school.roles_of(user) & reader_roles(concern.school, concern.audience))


def may_read_any(user, school) -> bool:
    """Whether the person reads some kind of concern here (the concern log is theirs to open)."""
    return bool(school.roles_of(user) & all_reader_roles(school))


def readable_by(user, school) -> QuerySet[Concern]:
    """The school's concerns this person may read: their roles read the audience, and it is not about them."""
    roles = school.roles_of(user)
    audiences = [audience for audience in Audience.values if roles & reader_roles(school, audience)]
    if not user.is_authenticated or not user.is_active or not audiences:
        return Concern.objects.none()
    return Concern.objects.filter(school=school, audience__in=audiences).exclude(Q(subjects__user=user))


def readers_of(concern: Concern) -> list:
    """Everyone who may read the concern now (for "a new concern needs your attention")."""
    roles = reader_roles(concern.school, concern.audience)
    excluded = concern.subject_user_ids()
    return [user for user in concern.school.members_with_role(*roles) if user.pk not in excluded]
