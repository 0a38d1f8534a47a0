"""Which kinds of harm stop a post, as the school's policy says (PolicySettings.harms_blocking_posts)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from schoolgate.policy.models import Harm
from schoolgate.posts.actions import create_draft, submit_for_review
from schoolgate.posts.actions.screening import screen_post
from schoolgate.posts.models import PostStatus
from schoolgate.posts.tests.conftest import make_account
from schoolgate.testing import make_school

pytestmark = pytest.mark.django_db

# An e-safety post that quotes what a groomer writes: sexual content by the list, on purpose.
QUOTE = 'Parents: if an adult online writes "send me nudes" to your child, tell us at once.'


def submit(cast, text: str):
    account = make_account(cast, name="News", network="mastodon", staff=[cast.alice])
    post = create_draft(cast.school, by=cast.alice, text=text, accounts=[account])
    return post, submit_for_review(post, by=cast.alice)


@pytest.mark.clause("AW-PUB-2")
def test_it_stops_a_post_only_for_the_kinds_the_policy_says_block():
    default = make_school()
    advises = make_school(name="E-safety School", settings={"harms_blocking_posts": [Harm.OFFENSIVE, Harm.THREAT]})
    with pytest.raises(ValidationError) as blocked:
        submit(default, QUOTE)
    assert blocked.value.code == "blocked" and "Sexual content" in str(blocked.value)

    post, submitted = submit(advises, QUOTE)
    assert submitted.status == PostStatus.IN_REVIEW
    [sexual] = [f for f in screen_post(post) if f.category == Harm.SEXUAL]
    assert sexual.severity == "advisory" and sexual.text == "send me nudes" and sexual.clause == "AW-PUB-2"


@pytest.mark.clause("AW-PUB-2")
def test_it_advises_on_words_of_self_harm_in_a_post_without_blocking_it():
    cast = make_school()
    post, submitted = submit(cast, "Mental health week: if you are worried about self-harm, talk to Ms Patel.")
    assert submitted.status == PostStatus.IN_REVIEW
    assert [(f.category, f.severity) for f in screen_post(post)] == [("self_harm", "advisory")]
