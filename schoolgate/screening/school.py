"""Builds a school's roster and screening rules from its pupils and its current policy settings."""

from __future__ import annotations

from schoolgate.policy.models import PolicySettings
from schoolgate.pupils.models import Pupil
from schoolgate.screening.engine import ScreeningRules
from schoolgate.screening.roster import PupilName, Roster


def roster_for_school(school) -> Roster:
    """Every pupil on the school's roll, former pupils included: their names are still personal data."""
    rows = Pupil.objects.filter(school=school).values_list(
        "pk", "legal_forename", "preferred_forename", "legal_surname", "preferred_surname"
    )
    return Roster.build(
        PupilName(
            pupil_id=pk,
            forenames=tuple(name for name in (legal_fore, preferred_fore) if name),
            surnames=tuple(name for name in (legal_sur, preferred_sur) if name),
        )
        for pk, legal_fore, preferred_fore, legal_sur, preferred_sur in rows
    )


def rules_for_school(school) -> ScreeningRules:
    """The school's current policy settings as rules; the defaults (first names only) when none is in force."""
    settings = PolicySettings.objects.in_force_at(school)
    domains = school.email_domain_list()
    if settings is None:
        return ScreeningRules(own_email_domains=frozenset(d.lower() for d in domains))
    return ScreeningRules.from_policy(settings, own_email_domains=domains)
