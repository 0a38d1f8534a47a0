"""What a person needs before they may write for the school's accounts, beyond their authorisation: the training
the school's policy asks for (PolicySettings.training_before_drafting), read from the training records."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from schoolgate.policy.models import PolicySettings
from schoolgate.training.due import missing_for_drafting


def training_problem(school, by) -> str:
    """Why the policy's training rule does not let this person draft yet, or "" (read from the training records)."""
    policy = PolicySettings.objects.in_force_at(school)
    missing = missing_for_drafting(school, by, rule=policy.training_before_drafting) if policy else []
    if not missing:
        return ""
    return (
        f"The school's policy asks for training before drafting posts: {', '.join(missing)} is not yet complete in "
        "your training record. Once it is recorded and confirmed you can draft."
    )


def check_training(school, by) -> None:
    problem = training_problem(school, by)
    if problem:
        raise PermissionDenied(problem)
