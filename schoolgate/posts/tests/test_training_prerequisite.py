"""Training before drafting, where the school's policy asks for it (PolicySettings.training_before_drafting): read
from the training records when a post is drafted or sent for review."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from schoolgate.policy.models import DraftingTraining
from schoolgate.posts.actions import create_draft, submit_for_review
from schoolgate.posts.models import PostStatus
from schoolgate.posts.tests.conftest import make_account
from schoolgate.testing import make_school
from schoolgate.training.actions import record_attendance
from schoolgate.training.tests.helpers import days, induction, refresher, set_up

pytestmark = pytest.mark.django_db


def school_with(rule: str):
    cast = make_school(name=f"School {rule}", settings={"training_before_drafting": rule})
    set_up(cast)  # the default induction and refresher courses, everyone joined three years ago
    return cast, make_account(cast, name="News", network="mastodon", staff=[cast.alice])


def draft(cast, account):
    return create_draft(cast.school, by=cast.alice, text="Our choir sang at the care home today.", accounts=[account])


@pytest.mark.clause("RS-ROLE-3")
def test_it_lets_only_people_with_their_induction_draft_where_the_policy_says_so(client):
    cast, account = school_with(DraftingTraining.INDUCTION)
    with pytest.raises(PermissionDenied, match=induction(cast).name):
        draft(cast, account)
    client.force_login(cast.alice)
    page = client.get(f"/s/{cast.school.slug}/posts/new/").content.decode()
    assert "asks for training before drafting posts" in page and induction(cast).name in page

    record_attendance(induction(cast), by=cast.dsl, users=[cast.alice], completed_on=days(-1))
    post = draft(cast, account)
    assert submit_for_review(post, by=cast.alice).status == PostStatus.IN_REVIEW
    assert "asks for training" not in client.get(f"/s/{cast.school.slug}/posts/new/").content.decode()


@pytest.mark.clause("RS-ROLE-3")
def test_it_asks_for_every_course_up_to_date_where_the_policy_says_so():
    cast, account = school_with(DraftingTraining.UP_TO_DATE)
    record_attendance(induction(cast), by=cast.dsl, users=[cast.alice], completed_on=days(-1))
    with pytest.raises(PermissionDenied, match=refresher(cast).name):  # overdue: joined three years ago
        draft(cast, account)
    record_attendance(refresher(cast), by=cast.dsl, users=[cast.alice], completed_on=days(-1))
    with pytest.raises(PermissionDenied, match="Privacy self-check"):
        draft(cast, account)


def test_it_needs_no_training_where_the_policy_asks_none():
    cast, account = school_with(DraftingTraining.NONE)
    assert draft(cast, account).status == PostStatus.DRAFT


def test_it_refuses_to_send_an_old_draft_for_review_once_the_rule_applies():
    cast, account = school_with(DraftingTraining.NONE)
    post = draft(cast, account)
    cast.policy.settings.training_before_drafting = DraftingTraining.INDUCTION
    cast.policy.settings.save(update_fields=["training_before_drafting"])
    with pytest.raises(PermissionDenied, match="training"):
        submit_for_review(post, by=cast.alice)
