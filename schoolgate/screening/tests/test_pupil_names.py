"""Pupil names from the roster, their variants, ordinary-word names and each naming rule."""

from __future__ import annotations

import pytest

from schoolgate.screening.engine import ScreeningRules, screen
from schoolgate.screening.roster import PupilName, Roster

ROSTER = Roster.build(
    [
        PupilName(1, ("Amelia",), ("Khan",)),
        PupilName(2, ("Thomas", "Tom"), ("Okafor",)),
        PupilName(3, ("Grace",), ("Whitfield",)),
        PupilName(4, ("Elizabeth",), ("Nowak",)),
        PupilName(5, ("Summer",), ("Patel",)),
        PupilName(6, ("Oliver",), ("Bay",)),
    ]
)


def names(text: str, rule: str = "no_names", **kwargs) -> list[tuple[str, str]]:
    return [
        (f.text, f.severity)
        for f in screen(text, roster=ROSTER, rules=ScreeningRules(naming_rule=rule), **kwargs)
        if f.category == "pupil_name"
    ]


@pytest.mark.clause("AW-PUB-2")
def test_it_blocks_a_full_name_under_first_names_only():
    assert names("Well done to Amelia Khan for her poem.", "first_names_only") == [("Amelia Khan", "blocking")]


def test_it_allows_a_lone_first_name_under_first_names_only():
    assert names("Well done to Amelia for her poem.", "first_names_only") == []


@pytest.mark.clause("AW-PUB-2")
def test_it_blocks_a_lone_surname_under_first_names_only():
    assert names("A great goal from Okafor today.", "first_names_only") == [("Okafor", "blocking")]


def test_it_does_not_take_a_titled_staff_name_for_a_pupil_surname():
    assert names("Thank you to Mrs Khan and Mr. Okafor.", "no_names") == []


@pytest.mark.clause("AW-PUB-2")
def test_it_blocks_any_name_under_no_names():
    assert names("Well done Amelia!", "no_names") == [("Amelia", "blocking")]


@pytest.mark.clause("AW-PUB-2")
def test_it_blocks_first_names_alongside_photos_only_when_the_post_has_images():
    assert names("Amelia at sports day", "no_names_with_photos", has_images=False) == []
    assert names("Amelia at sports day", "no_names_with_photos", has_images=True) == [("Amelia", "blocking")]
    assert names("Amelia Khan at sports day", "no_names_with_photos") == [("Amelia Khan", "blocking")]


def test_it_only_advises_when_full_names_need_consent():
    assert names("Amelia Khan won the prize.", "full_names_with_consent") == [("Amelia Khan", "advisory")]


@pytest.mark.clause("AW-PUB-2")
@pytest.mark.parametrize(
    "text, expected",
    [
        ("Congratulations Amelia K. on your award", "Amelia K"),
        ("Congratulations Amelia K on your award", "Amelia K"),
        ("What a day for #AmeliaK and friends", "AmeliaK"),
        ("Go #AmeliaKhan!", "AmeliaKhan"),
        ("amelia khan was brilliant", "amelia khan"),
        ("Tommy Okafor scored twice", "Tommy Okafor"),
        ("Tom Okafor scored twice", "Tom Okafor"),
        ("Liz Nowak read aloud", "Liz Nowak"),
        ("Beth Nowak read aloud", "Beth Nowak"),
        ("That was Amelia Khan's best race", "Amelia Khan"),
    ],
)
def test_it_finds_name_variants(text, expected):
    assert names(text, "first_names_only") == [(expected, "blocking")]


def test_it_finds_a_possessive_first_name():
    assert names("We loved Amelia's painting.") == [("Amelia", "blocking")]


def test_it_needs_a_capital_initial():
    assert names("Amelia a star as always", "first_names_only") == []


def test_it_does_not_match_inside_other_words():
    assert names("Tomorrow the Okaforian society meets; Ameliana visits.") == []


@pytest.mark.parametrize(
    "text",
    [
        "Grace before lunch, then assembly.",
        "by the grace of the weather we stayed dry",
        "Our summer term starts on Monday.",
        "Summer fair this Saturday!",
        "We walked along the bay.",
        "Bay windows at the front.",
    ],
)
def test_it_ignores_names_that_are_ordinary_words_used_as_words(text):
    assert names(text) == []


@pytest.mark.clause("AW-PUB-2")
@pytest.mark.parametrize(
    "text, expected",
    [
        ("Today we met Grace in the library.", "Grace"),
        ("Grace Whitfield sang beautifully.", "Grace Whitfield"),
        ("grace whitfield sang beautifully.", "grace whitfield"),
        ("Well done Summer P. on your swim", "Summer P"),
        ("A goal from Oliver Bay", "Oliver Bay"),
    ],
)
def test_it_counts_ordinary_word_names_with_a_surname_or_capital_mid_sentence(text, expected):
    assert names(text) == [(expected, "blocking")]


def test_it_reports_how_many_pupils_share_a_name():
    roster = Roster.build([PupilName(1, ("Amelia",), ("Khan",)), PupilName(2, ("Amelia",), ("Jones",))])
    findings = screen("Amelia!", roster=roster, rules=ScreeningRules(naming_rule="no_names"))
    assert "2 pupils" in findings[0].message


def test_it_does_not_take_an_ordinary_word_for_a_run_together_name():
    roster = Roster.build([PupilName(1, ("Henry",), ("Fox",))])  # Hal + F runs together as "half"
    assert screen("See you after half term", roster=roster, rules=ScreeningRules(naming_rule="no_names")) == []
    assert [f.text for f in screen("Go #HalF!", roster=roster, rules=ScreeningRules(naming_rule="no_names"))] == [
        "HalF"
    ]


# Names as the information system spells them and as people type them: accents, curly apostrophes, hyphens.
FOLDED = Roster.build(
    [
        PupilName(10, ("Siobhán",), ("Murphy",)),
        PupilName(11, ("Sean",), ("O’Brien",)),
        PupilName(12, ("Zoe",), ("Smith-Jones",)),
        PupilName(13, ("Chloë",), ("Brontë",)),
    ]
)


def found(text: str) -> list[tuple[str, str, tuple]]:
    return [(text[m.start : m.end], m.kind, m.pupil_ids) for m in FOLDED.find(text)]


@pytest.mark.clause("AW-PUB-2")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Typed without the accent, a legal name with one is still found (and the other way round).
        ("Well done Siobhan Murphy!", [("Siobhan Murphy", "full_name", (10,))]),
        ("Siobhán Murphy read her poem.", [("Siobhán Murphy", "full_name", (10,))]),
        ("Zoë Smith-Jones ran", [("Zoë Smith-Jones", "full_name", (12,))]),
        ("Chloe Bronte sang", [("Chloe Bronte", "full_name", (13,))]),
        # The accent as a separate combining mark: the match still covers it.
        ("Siobha\u0301n Murphy", [("Siobha\u0301n Murphy", "full_name", (10,))]),
        # A straight apostrophe in the text, a curly one in the register, and the other way round.
        ("Sean O'Brien scored", [("Sean O'Brien", "full_name", (11,))]),
        ("Sean O\u2019Brien scored", [("Sean O\u2019Brien", "full_name", (11,))]),
        ("Sean O\u02bcBrien scored", [("Sean O\u02bcBrien", "full_name", (11,))]),
        # Hyphens as word processors write them: non-breaking, en dash.
        ("Zoe Smith\u2011Jones", [("Zoe Smith\u2011Jones", "full_name", (12,))]),
        ("Zoe Smith\u2013Jones", [("Zoe Smith\u2013Jones", "full_name", (12,))]),
        ("#SiobhanMurphy", [("SiobhanMurphy", "joined_name", (10,))]),
    ],
)
def test_it_matches_names_whatever_their_accents_apostrophes_and_hyphens(text, expected):
    assert found(text) == expected


def test_it_blocks_an_unaccented_full_name_for_an_accented_legal_name():
    findings = screen("Siobhan Murphy won.", roster=FOLDED, rules=ScreeningRules(naming_rule="first_names_only"))
    assert [(f.text, f.severity) for f in findings if f.category == "pupil_name"] == [("Siobhan Murphy", "blocking")]


def test_it_keeps_offsets_of_the_text_as_written_after_accented_letters():
    text = "Café trip: Zoë, Siobhán and Chloë — with Siobhan Murphy"
    assert [text[m.start : m.end] for m in FOLDED.find(text)] == ["Zoë", "Siobhán", "Chloë", "Siobhan Murphy"]


@pytest.mark.clause("AW-PUB-2")
def test_it_allows_a_first_name_and_initial_but_no_more_where_the_policy_says_so():
    rule = "first_name_and_initial"
    assert names("Well done Summer P. on her badge!", rule) == []
    assert names("Well done Summer!", rule) == []
    assert names("Well done Summer Patel!", rule) == [("Summer Patel", "blocking")]
    assert names("Well done Summer P. on her badge!", "first_names_only") == [("Summer P", "blocking")]
