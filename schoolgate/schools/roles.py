"""The roles a person can hold at a school (AW-SCOPE-1), and which of them must use MFA."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    HEADTEACHER = "headteacher", "Headteacher"
    DSL = "dsl", "Designated Safeguarding Lead"
    DEPUTY_DSL = "deputy_dsl", "Deputy DSL"
    LEADERSHIP = "leadership", "Leadership team"
    STAFF = "staff", "Staff"
    VOLUNTEER = "volunteer", "Volunteer"
    GOVERNOR = "governor", "Governor"
    CHAIR_OF_GOVERNORS = "chair_of_governors", "Chair of governors"
    TRUST_ADMIN = "trust_admin", "Trust administrator"


MFA_REQUIRED_ROLES = frozenset({Role.HEADTEACHER, Role.DSL, Role.DEPUTY_DSL, Role.LEADERSHIP, Role.TRUST_ADMIN})
# People who lead the school's use of social media: they draft policy and are told of reviews.
LEADER_ROLES = frozenset({Role.HEADTEACHER, Role.LEADERSHIP})
SAFEGUARDING_ROLES = frozenset({Role.HEADTEACHER, Role.DSL, Role.DEPUTY_DSL})
GOVERNOR_ROLES = frozenset({Role.GOVERNOR, Role.CHAIR_OF_GOVERNORS})
ALL_ROLES = frozenset(Role)
