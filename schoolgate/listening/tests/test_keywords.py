"""Keywords: whole words in any case, exclusions, hashtags; thousands of them stay fast, too many are refused."""

from __future__ import annotations

import time

import pytest
from django.core.exceptions import ValidationError

from schoolgate.listening.actions import configure
from schoolgate.listening.keywords import MAX_KEYWORDS, Matcher
from schoolgate.listening.models import Keyword

pytestmark = pytest.mark.clause("RS-WATCH-1")


def test_it_matches_whole_words_in_any_case_and_spelling():
    matcher = Matcher.build(["Hillside Primary", "St Mary's", "Mrs Okafor", "Oak"])

    assert matcher.matches("Great concert at HILLSIDE primary tonight!") == ["Hillside Primary"]
    assert matcher.matches("st marys fete on Saturday") == ["St Mary's"]
    assert matcher.matches("Thanks mrs   okafor.") == ["Mrs Okafor"]
    assert matcher.matches("Oakley Road is closed") == []  # "Oak" is not a word of "Oakley"


def test_it_finds_a_name_inside_a_hashtag_and_a_hashtag_keyword():
    matcher = Matcher.build(["Hillside", "#HillsideFete"])

    assert matcher.matches("Loved the #Hillside choir") == ["Hillside"]
    assert matcher.matches("See you at #hillsidefete") == ["#HillsideFete"]


def test_it_leaves_out_posts_with_an_exclusion():
    matcher = Matcher.build(["Hillside"], ["Hillside Football Club"])

    assert matcher.matches("Hillside Football Club won 3-0") == []
    assert matcher.matches("Hillside school play") == ["Hillside"]


def test_it_matches_thousands_of_keywords_quickly():
    phrases = [f"Street number {i} Road" for i in range(MAX_KEYWORDS)] + ["Hillside"]
    started = time.monotonic()
    matcher = Matcher.build(phrases)
    text = "Lots of words about nothing in particular. " * 2000 + " Hillside " + "Street number 4999 Road"
    found = matcher.matches(text)

    assert set(found) == {"Hillside", "Street number 4999 Road"}
    assert time.monotonic() - started < 2


def test_it_refuses_a_list_over_the_limit_with_a_clear_message(cast):
    with pytest.raises(ValidationError) as refused:
        configure.add_keywords(cast.school, by=cast.head, phrases=[f"Place {i}" for i in range(MAX_KEYWORDS + 1)])

    assert f"at most {MAX_KEYWORDS}" in " ".join(refused.value.messages)
    assert not Keyword.objects.filter(school=cast.school).exists()


def test_it_adds_keywords_once_from_lines_and_commas(cast):
    phrases = configure.parse_keyword_lines("Hillside Primary\nHillside, Mrs Okafor\n\nHillside")
    added = configure.add_keywords(cast.school, by=cast.head, phrases=phrases, kind="name")
    again = configure.add_keywords(cast.school, by=cast.head, phrases=["Hillside"], kind="name")

    assert (added, again) == (3, 0)
    assert sorted(Keyword.objects.values_list("text", flat=True)) == ["Hillside", "Hillside Primary", "Mrs Okafor"]


def test_it_lets_only_the_people_who_configure_change_keywords(cast):
    from django.core.exceptions import PermissionDenied

    for person in (cast.dsl, cast.deputy_dsl, cast.leader):
        configure.add_keywords(cast.school, by=person, phrases=[f"By {person.pk}"])
    for person in (cast.alice, cast.volunteer, cast.governor):
        with pytest.raises(PermissionDenied):
            configure.add_keywords(cast.school, by=person, phrases=["Nope"])
