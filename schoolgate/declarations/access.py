"""Who reads and decides declarations: the school's settings over the defaults, and the rules that always hold.

Always: nobody reviews their own relationship declaration or decides their own exception. A relationship is
reviewed by the roles the settings name (default: the DSL and deputies), or by the headteacher where nobody but
the declarant holds those roles; an exception is read by the person asking, the approver role (default: the
headteacher) and the settings' reader roles (default: the DSL), and decided by the approver role, or by the chair
of governors when the person asking holds that role. Personal accounts and annual declarations are on the register
of "declarations.review" (schools/permissions.py).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from schoolgate.declarations.models import (
    ContactException,
    DeclarationSettings,
    RelationshipDeclaration,
)
from schoolgate.schools.models import Membership
from schoolgate.schools.roles import Role

DECLARE_PERMISSION = "declarations.declare"
REVIEW_PERMISSION = "declarations.review"
CHOOSE_PUPILS_PERMISSION = "declarations.choose_pupils"
CONFIGURE_PERMISSION = "declarations.configure"


def declaration_settings(school) -> DeclarationSettings:
    found = getattr(school, "_declaration_settings", None)
    if found is None:
        found = DeclarationSettings.objects.filter(school=school).first() or DeclarationSettings(school=school)
        school._declaration_settings = found
    return found


def _active(user) -> bool:
    return bool(user.is_authenticated and user.is_active)


def _holders(school, *roles: str) -> QuerySet:
    """The active members holding any of these roles, as a subquery of user ids."""
    return Membership.objects.filter(school=school, role__in=roles, user__is_active=True).values("user")


# --- relationships -------------------------------------------------------------------------------------------


def _relationship_roles(school) -> frozenset[str]:
    return frozenset(declaration_settings(school).relationship_reviewer_roles)


def _reviewer_ids(school) -> frozenset[int]:
    found = getattr(school, "_relationship_reviewer_ids", None)
    if found is None:
        found = frozenset(row["user"] for row in _holders(school, *_relationship_roles(school)))
        school._relationship_reviewer_ids = found
    return found


def reviewer_roles(declaration: RelationshipDeclaration) -> frozenset[str]:
    """The settings' roles, or the headteacher where nobody but the declarant holds them (a small school whose only
    DSL declares a relationship)."""
    school = declaration.school
    if _reviewer_ids(school) - {declaration.declared_by_id}:
        return _relationship_roles(school)
    return frozenset({Role.HEADTEACHER})


def may_review_relationship(user, declaration: RelationshipDeclaration) -> bool:
    if not _active(user) or user.pk == declaration.declared_by_id:
        return False
    return bool(declaration.school.roles_of(user) & reviewer_roles(declaration))


def may_read_relationship(user, declaration: RelationshipDeclaration) -> bool:
    return _active(user) and (user.pk == declaration.declared_by_id or may_review_relationship(user, declaration))


def relationships_to_review(user, school) -> QuerySet[RelationshipDeclaration]:
    """Every relationship declaration at the school this person reviews, by the rule of `may_review_relationship`,
    as one query."""
    everything = RelationshipDeclaration.objects.filter(school=school).exclude(declared_by=user)
    if not _active(user):
        return everything.none()
    roles = school.roles_of(user)
    reviewer_roles_here = _relationship_roles(school)
    if roles & reviewer_roles_here:
        return everything  # they hold the roles, so for every other declarant someone does: them
    if Role.HEADTEACHER not in roles:
        return everything.none()
    # The headteacher reviews the declarations of people who alone hold the reviewer roles (or of anyone, where
    # nobody holds them).
    another_reviewer = Membership.objects.filter(
        school=school, role__in=reviewer_roles_here, user__is_active=True
    ).exclude(user=OuterRef("declared_by"))
    return everything.filter(~Exists(another_reviewer))


def reviews_relationships(user, school) -> bool:
    """Whether the list of relationship declarations is this person's to open."""
    roles = school.roles_of(user)
    return _active(user) and bool(roles & (_relationship_roles(school) | {Role.HEADTEACHER}))


def relationship_reviewers(declaration: RelationshipDeclaration) -> list:
    roles = reviewer_roles(declaration)
    return list(declaration.school.members_with_role(*roles).exclude(pk=declaration.declared_by_id))


# --- exceptions ----------------------------------------------------------------------------------------------


def _approver_role(school) -> str:
    return declaration_settings(school).exception_approver_role


def approver_roles(exception: ContactException) -> frozenset[str]:
    school = exception.school
    role = _approver_role(school)
    if role in school.roles_of(exception.requested_by):
        return frozenset({Role.CHAIR_OF_GOVERNORS})
    return frozenset({role})


def exception_reader_roles(exception: ContactException) -> frozenset[str]:
    return approver_roles(exception) | frozenset(declaration_settings(exception.school).exception_reader_roles)


def may_decide_exception(user, exception: ContactException) -> bool:
    if not _active(user) or user.pk == exception.requested_by_id:
        return False
    return bool(exception.school.roles_of(user) & approver_roles(exception))


def may_read_exception(user, exception: ContactException) -> bool:
    if not _active(user):
        return False
    return user.pk == exception.requested_by_id or bool(
        exception.school.roles_of(user) & exception_reader_roles(exception)
    )


def _exceptions_where(user, school, *, deciding: bool) -> Q | None:
    roles = school.roles_of(user)
    approver = _approver_role(school)
    asked_by_approver = Q(requested_by__in=_holders(school, approver))
    parts = []
    if not deciding and roles & set(declaration_settings(school).exception_reader_roles):
        return Q()
    if approver in roles:
        parts.append(~asked_by_approver)
    if Role.CHAIR_OF_GOVERNORS in roles:
        parts.append(asked_by_approver)
    if not parts:
        return None
    where = parts[0]
    for part in parts[1:]:
        where |= part
    return where


def readable_exceptions(user, school) -> QuerySet[ContactException]:
    """The school's exceptions this person reads besides their own, by the rule of `may_read_exception`."""
    everything = ContactException.objects.filter(school=school).exclude(requested_by=user)
    where = _exceptions_where(user, school, deciding=False) if _active(user) else None
    return everything.none() if where is None else everything.filter(where)


def decidable_exceptions(user, school) -> QuerySet[ContactException]:
    everything = ContactException.objects.filter(school=school).exclude(requested_by=user)
    where = _exceptions_where(user, school, deciding=True) if _active(user) else None
    return everything.none() if where is None else everything.filter(where)


def reads_exceptions(user, school) -> bool:
    settings = declaration_settings(school)
    roles = {settings.exception_approver_role, Role.CHAIR_OF_GOVERNORS, *settings.exception_reader_roles}
    return _active(user) and bool(school.roles_of(user) & roles)


def exception_approvers(exception: ContactException) -> list:
    return list(exception.school.members_with_role(*approver_roles(exception)).exclude(pk=exception.requested_by_id))


def exception_readers(exception: ContactException) -> list:
    roles = exception_reader_roles(exception)
    return list(exception.school.members_with_role(*roles).exclude(pk=exception.requested_by_id))
