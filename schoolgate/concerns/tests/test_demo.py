"""The demo schools get concerns of several kinds in several states."""

from __future__ import annotations

import pytest

from schoolgate.concerns.models import Concern

pytestmark = pytest.mark.django_db


def test_it_seeds_concerns_in_several_states_for_each_demo_school(settings, tmp_path):
    from schoolgate.schools.demo_data import seed_demo

    settings.MEDIA_ROOT = tmp_path
    for school in seed_demo():
        concerns = Concern.objects.filter(school=school)
        assert {c.status for c in concerns} == {"new", "open", "closed"}
        assert concerns.filter(clocks__stopped_at__isnull=True, clocks__kind="lado").exists()
        assert concerns.filter(entries__kind="parent_contact").exists()
