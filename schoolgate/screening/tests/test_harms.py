"""The kinds of harm: each found by its list on text as people write it, and reported on the words as written."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schoolgate.policy.forms import PolicySettingsForm
from schoolgate.policy.models import Harm
from schoolgate.screening import harms
from schoolgate.screening.engine import screen
from schoolgate.screening.incoming import ABUSE, DISCLOSURE, POSSIBLE_WORRY, screen_incoming
from schoolgate.screening.roster import Roster

EMPTY = Roster([])


def kinds(text: str) -> list[tuple[str, str]]:
    return [(f.category, f.text) for f in screen(text, roster=EMPTY) if f.category in harms.LABELS]


def test_it_names_the_same_kinds_as_the_policy_settings():
    assert list(harms.LABELS) == Harm.values and list(harms.LABELS.values()) == Harm.labels


@pytest.mark.clause("AW-PUB-2")
@pytest.mark.parametrize(
    "text, kind, words",
    [
        ("I know where you live", "threat", "I know where you live"),
        ("we'll bomb the school", "threat", "bomb the school"),
        ("Go back to your own country", "hate", "Go back to your own country"),
        ("the new teacher is a f@ggot", "hate", "f@ggot"),
        ("you are a useless idiot", "offensive", "you are a useless"),
        ("suck my dick", "sexual", "suck my dick"),
        ("i want to kill myself", "self_harm", "kill myself"),
        ("my step dad hits me when mum is out", "disclosure", "hits me"),
    ],
)
def test_it_finds_each_kind_with_its_own_category_and_the_words_as_written(text, kind, words):
    assert (kind, words) in kinds(text)


@pytest.mark.clause("AW-PUB-2")
@pytest.mark.parametrize(
    "text, kind, words",
    [
        ("what a load of sh1t!", "offensive", "sh1t"),
        ("n 1 g g e r", "hate", "n 1 g g e r"),
        ("f.u.c.k off", "offensive", "f.u.c.k"),
        ("fu\u200bck off", "offensive", "fu\u200bck"),
        ("ＦＵＣＫ you", "offensive", "ＦＵＣＫ"),
        ("you are stuuupid", "offensive", "you are stuuupid"),
        ("don’t tell anyone i told you", "disclosure", "don’t tell anyone i"),
    ],
)
def test_it_reads_the_lists_through_the_tricks_people_use(text, kind, words):
    assert (kind, words) in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "Dick Van Dyke starred in Mary Poppins",
        "She graduated magna cum laude",
        "Ms Cumming will lead the assembly",
        "Blue tits nest in our school garden",
        "Our e-safety evening covers sexting and online pornography",  # teaching words: left to people
        "Scunthorpe United won 3-1",
    ],
)
def test_it_leaves_names_and_teaching_words_alone(text):
    assert kinds(text) == []


def test_it_suggests_the_kind_of_item_from_the_kinds_found():
    assert screen_incoming("you are a slut", roster=EMPTY).category == ABUSE
    assert screen_incoming("suck my dick", roster=EMPTY, semantic=False).harms == {"sexual"}
    found = screen_incoming("I can't take it anymore, I want to end it all", roster=EMPTY)
    assert found.category == DISCLOSURE and found.to_dsl and found.harms == {"self_harm", "disclosure"}
    assert found.reasons[0] == "Words that may mean someone could harm themselves: “end it all”."


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_it_maps_every_match_back_inside_the_text(text):
    for _kind, start, end, _message in harms.find(text):
        assert 0 <= start < end <= len(text)


def test_it_offers_the_kinds_as_ticks_on_the_policy_form_and_keeps_them_in_order():
    form = PolicySettingsForm()
    html = str(form["harms_hidden_on_arrival"])
    assert html.count('type="checkbox"') == len(Harm.values) and "Sexual content" in html
    field = form.fields["harms_blocking_posts"]
    assert field.clean(["sexual", "offensive"]) == ["offensive", "sexual"]
    assert field.clean([]) == []


@pytest.mark.clause("AW-CON-1")
def test_it_points_out_a_worry_in_words_no_cue_was_written_for_and_keeps_the_item_answerable():
    found = screen_incoming("mum's boyfriend shouts at me and locks me out of the house at night", roster=EMPTY)
    assert found.worry.startswith("Reads like a possible disclosure (nearest example from safeguarding guidance")
    assert found.worry in found.reasons and not found.to_dsl and found.category == "comment"
    [finding] = [f for f in found.findings if f.category == POSSIBLE_WORRY]
    assert finding.clause == "AW-CON-1" and 0 < finding.score < 1 and finding.severity == "advisory"
    complaint = screen_incoming("Nobody has replied about the trip money, who should I speak to?", roster=EMPTY)
    assert complaint.category in ("complaint", "query")  # whatever the model thinks, it keeps its deadline
    assert not screen_incoming("mum's boyfriend shouts at me", roster=EMPTY, semantic=False).worry


def test_it_keeps_screening_with_the_phrase_cues_when_the_model_cannot_run(monkeypatch, caplog):
    from schoolgate.screening import semantic

    def broken(*args, **kwargs):
        raise RuntimeError("model file missing")

    monkeypatch.setattr(semantic, "similar_concern", broken)
    assert not screen_incoming("mum's boyfriend shouts at me", roster=EMPTY).worry
    assert screen_incoming("please don't tell anyone, my dad hits me", roster=EMPTY).to_dsl
    assert "could not run" in caplog.text
