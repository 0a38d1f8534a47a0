"""The public "our social media" page says what the school's policy settings say, and claims no enforcement."""

from __future__ import annotations

import pytest

from schoolgate.schools.roles import Role
from schoolgate.testing import make_school


def page(client, **settings) -> str:
    cast = make_school(settings=settings)
    return client.get(f"/p/{cast.school.slug}/social-media/").content.decode()


@pytest.mark.django_db
def test_it_promises_no_replies_to_comments_when_comments_are_off(client):
    html = page(client, comments_default="off", reply_deadline_hours=24)

    assert "within 24 hours" not in html
    assert "we say why" not in html
    assert "Keep comments kind" not in html
    assert "Comments are turned off on our accounts" in html
    assert "contact the school office directly" in html


@pytest.mark.django_db
def test_it_gives_the_schools_own_reply_deadline_and_moderation_when_comments_are_on(client):
    html = page(client, comments_default="moderated", reply_deadline_hours=36, clock_pauses_weekends=False)

    assert "Our policy is to answer comments, questions and complaints on our accounts within 36 hours" in html
    assert "at a weekend" not in html
    assert "comments are held until we have read them" in html
    assert "Comments are turned off" not in html
    assert "enforced" not in html.lower()


@pytest.mark.django_db
def test_it_describes_the_review_the_policy_asks_for(client):
    assert "at least 2 colleagues other than its author before it goes out." in page(client, required_reviewers=2)
    html = page(client, required_reviewers=0, final_post_approver_role=Role.HEADTEACHER)
    assert "Every post is approved by the headteacher before it goes out." in html
    assert "colleague" not in html
