"""The demo schools get concerns of several kinds in several states, led, referred, closed and due for review."""

from __future__ import annotations

import pytest
from django.utils import timezone

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
        assert concerns.filter(lead__isnull=False).exists()
        referred = concerns.get(procedure="allegations", entries__agency="lado", entries__agency_decision="referred")
        assert referred.clocks.get(kind="lado").stopped_at is not None
        assert concerns.filter(review_on__lte=timezone.localdate(), status="closed").exists()
        assert not concerns.filter(review_on__isnull=True).exists()
