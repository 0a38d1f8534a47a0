"""What each kind of harm does to a comment, as the school's policy says (PolicySettings.harms_hidden_on_arrival,
harms_to_dsl): hidden as it arrives, or passed straight to the DSL."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import TestCase
from django.utils import timezone

from schoolgate.concerns.models import Category as ConcernCategory
from schoolgate.concerns.models import Concern
from schoolgate.connectors.base import RemoteItem
from schoolgate.inbox.actions.ingest import ingest
from schoolgate.inbox.models import Category, InboxItem, ItemStatus, ModerationPurpose, Visibility
from schoolgate.inbox.tests.peer import bluesky_thread
from schoolgate.notifications.models import Notification
from schoolgate.policy.models import Harm, PolicySettings
from schoolgate.posts.tests.conftest import make_account
from schoolgate.testing import make_school

pytestmark = pytest.mark.django_db

THREAT = "i know where you live, watch your back"
RUDE = "this school is a fucking joke"


def arrive(cast, text: str) -> InboxItem:
    """A reply on a Mastodon account of the school that does not involve pupils (so nothing is pre-moderated)."""
    account = make_account(cast, name="News", network="mastodon", staff=[cast.alice])
    with TestCase.captureOnCommitCallbacks(execute=True):
        [item] = ingest(
            account,
            [
                RemoteItem(
                    remote_id="1090",
                    author_id="7",
                    author_handle="someone@social.example",
                    text=text,
                    created_at=timezone.now() - dt.timedelta(minutes=5),
                    in_reply_to="108999",
                )
            ],
        )
    return InboxItem.objects.get(pk=item.pk)


@pytest.mark.clause("RS-ABU-1")
def test_it_hides_a_threat_on_bluesky_as_it_arrives_and_names_the_kind(cast, bsky_peer):
    thread = bluesky_thread(cast, bsky_peer, involves_pupils=False)
    item = thread.reply(THREAT)
    assert thread.hidden_replies() == [item.remote_id]
    assert item.visibility == Visibility.HELD and item.status == ItemStatus.OPEN
    [held] = item.moderation.all()
    assert held.purpose == ModerationPurpose.HOLD and held.by is None
    assert held.reason == "held for approval: the policy hides a threat or violence as it arrives"
    assert {f["category"] for f in item.findings} >= {"threat"}
    assert all(f["clause"] == "RS-ABU-1" for f in item.findings if f["category"] == "threat")


@pytest.mark.clause("RS-ABU-1")
def test_it_hides_only_the_kinds_the_policy_hides():
    default = make_school()
    hides_rudeness = make_school(
        name="Strict School", settings={"harms_hidden_on_arrival": [Harm.OFFENSIVE, Harm.THREAT]}
    )
    hides_nothing = make_school(name="Open School", settings={"harms_hidden_on_arrival": []})
    # Mastodon cannot hide a reply: a held one waits first in the queue until someone approves it.
    assert arrive(default, THREAT).held_first
    assert not arrive(default, RUDE).held_first
    assert arrive(hides_rudeness, RUDE).held_first
    assert not arrive(hides_nothing, THREAT).held_first
    assert arrive(hides_nothing, THREAT).category == Category.ABUSE


@pytest.mark.clause("AW-CON-1")
def test_it_sends_the_kinds_the_policy_names_straight_to_the_dsl():
    default = make_school()
    threats_to_dsl = make_school(
        name="Careful School", settings={"harms_to_dsl": [*PolicySettings().harms_to_dsl, Harm.THREAT]}
    )

    kept = arrive(default, THREAT)
    assert kept.status == ItemStatus.OPEN and kept.concern is None and kept.text == THREAT

    sent = arrive(threats_to_dsl, THREAT)
    assert sent.status == ItemStatus.WITH_DSL and sent.text == ""  # the words now live only in the concern
    concern = Concern.objects.get(pk=sent.concern_id)
    assert concern.school == threats_to_dsl.school
    assert concern.category == ConcernCategory.UNACCEPTABLE_CONDUCT
    assert THREAT in concern.content["text"]


@pytest.mark.clause("AW-CON-1")
def test_it_always_sends_a_possible_disclosure_to_the_dsl_whatever_the_policy_adds():
    school = make_school(settings={"harms_to_dsl": [Harm.SELF_HARM, Harm.DISCLOSURE, Harm.HATE]})
    item = arrive(school, "please don’t tell anyone but my dad hits me")  # a phone's curly apostrophe
    assert item.status == ItemStatus.WITH_DSL and item.category == Category.SAFEGUARDING
    assert Concern.objects.get(pk=item.concern_id).category == ConcernCategory.DISCLOSURE


def test_it_refuses_a_policy_that_keeps_disclosures_from_the_dsl():
    school = make_school()
    settings = PolicySettings.objects.get(version__document__school=school.school)
    settings.harms_to_dsl = [Harm.THREAT]
    with pytest.raises(ValidationError) as refused:
        settings.full_clean()
    assert "always go to the DSL" in str(refused.value.message_dict["harms_to_dsl"])
    settings.harms_to_dsl = [Harm.SELF_HARM, Harm.DISCLOSURE, "gossip"]
    with pytest.raises(ValidationError) as refused:
        settings.full_clean()
    assert "Choose from" in str(refused.value.message_dict["harms_to_dsl"])


@pytest.mark.clause("AW-CON-1")
def test_it_tells_the_safeguarding_leads_of_a_worry_only_the_model_saw_and_keeps_the_item_in_the_queue():
    cast = make_school()
    worry = "mum's boyfriend shouts at me and locks me out of the house at night"
    item = arrive(cast, worry)
    assert item.status == ItemStatus.OPEN and item.text == worry and item.due_at is not None
    assert any(f["category"] == "possible_worry" for f in item.findings)
    told = Notification.objects.filter(about=f"inbox:item:{item.pk}:worry")
    assert {n.user for n in told} == {cast.dsl, cast.deputy_dsl}
    assert all(worry not in n.subject + n.body and "boyfriend" not in n.body for n in told)
    ordinary = arrive(make_school(name="Quiet School"), "What time does the disco finish on Friday?")
    assert not Notification.objects.filter(about=f"inbox:item:{ordinary.pk}:worry").exists()
