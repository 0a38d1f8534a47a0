"""The demo schools get declarations: personal accounts, annual declarations with some overdue, a reviewed and a
waiting relationship, an approved exception near its end; seeding again changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from schoolgate.declarations.demo import seed_demo_declarations
from schoolgate.declarations.models import (
    AnnualDeclaration,
    ContactException,
    PersonalAccount,
    RelationshipDeclaration,
)
from schoolgate.schools.roles import Role

pytestmark = pytest.mark.django_db


def test_it_seeds_declarations_for_each_demo_school(settings, tmp_path):
    from schoolgate.schools.demo_data import seed_demo

    settings.MEDIA_ROOT = tmp_path
    today = timezone.localdate()
    schools = seed_demo()
    assert len(schools) == 2
    for school in schools:
        assert PersonalAccount.objects.filter(school=school, disclaimer_confirmed_at__isnull=False).count() >= 2
        assert AnnualDeclaration.objects.open().filter(school=school, due_on__lt=today).exists()
        assert AnnualDeclaration.objects.answered().filter(school=school).exists()
        statuses = set(RelationshipDeclaration.objects.filter(school=school).values_list("status", flat=True))
        assert statuses == {"acknowledged", "pending"}
        exception = ContactException.objects.get(school=school)
        assert exception.is_active() and exception.expires_on <= today + dt.timedelta(days=14)

    counts = [model.objects.count() for model in (PersonalAccount, AnnualDeclaration, RelationshipDeclaration)]
    people = {Role.STAFF: schools[0].members_with_role(Role.STAFF).first()}
    seed_demo_declarations(schools[0], people, [])
    assert counts == [model.objects.count() for model in (PersonalAccount, AnnualDeclaration, RelationshipDeclaration)]
