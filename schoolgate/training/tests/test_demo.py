"""The demo schools get courses, training records with some overdue, factsheets read by some, self-checks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from schoolgate.policy.models import Acknowledgement, DocumentVersion, GuidanceKind
from schoolgate.training.demo import seed_demo_training
from schoolgate.training.due import compute_dues
from schoolgate.training.models import Completion, Course, Deadline, PrivacyCheck

pytestmark = pytest.mark.django_db


def counts(school) -> tuple:
    return (
        Course.objects.filter(school=school).count(),
        Completion.objects.at_school(school).count(),
        PrivacyCheck.objects.filter(school=school).count(),
        DocumentVersion.objects.filter(document__school=school).count(),
        Acknowledgement.objects.filter(version__document__school=school).count(),
        Deadline.objects.filter(school=school).count(),
    )


def test_it_seeds_training_guidance_and_self_checks_for_each_demo_school(settings, tmp_path):
    from schoolgate.schools.demo_data import seed_demo

    settings.MEDIA_ROOT = tmp_path
    schools = seed_demo()
    assert len(schools) == 2
    today = timezone.localdate()
    for school in schools:
        dues = compute_dues(school)
        states = {d.state(today, soon_days=14) for d in dues}
        assert {"overdue", "due", "done", "ok"} <= states
        assert Deadline.objects.filter(school=school).overdue(today).exists()
        assert Completion.objects.at_school(school).pending().exists()
        assert Course.objects.filter(school=school).count() == 3
        factsheets = DocumentVersion.objects.at_school(school).current().filter(document__kind=GuidanceKind.FACTSHEET)
        assert factsheets.count() == 6 and factsheets.filter(number=2).exists()
        assert Acknowledgement.objects.filter(version__in=factsheets).exists()
        assert DocumentVersion.objects.at_school(school).current().filter(document__kind=GuidanceKind.PUPIL_GUIDANCE)
        assert PrivacyCheck.objects.filter(school=school).count() == 6
        # The new member of staff's induction is overdue: due 30 days after joining, 45 days ago.
        (new_joiner,) = [d for d in dues if d.course and d.course.kind == "induction" and d.due_on]
        assert new_joiner.due_on == today - dt.timedelta(days=15)
        stored = Deadline.objects.get(user_id=new_joiner.user_id, course=new_joiner.course)
        assert stored.due_on == new_joiner.due_on  # the dashboard's copy agrees

        people = {}  # seed again: nothing changes
        before = counts(school)
        seed_demo_training(school, people)
        assert counts(school) == before
