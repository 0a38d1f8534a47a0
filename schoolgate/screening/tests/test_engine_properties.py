"""Property-based tests of the screening engine: any text at all gives findings or none, never an exception."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schoolgate.screening.engine import FIRST_NAMES_ONLY, NO_NAMES, ScreeningRules, screen
from schoolgate.screening.roster import PupilName, Roster

ROSTER = Roster.build(
    [
        PupilName(1, ("Siobhán",), ("O’Brien",)),
        PupilName(2, ("Amelia", "Millie"), ("Khan",)),
        PupilName(3, ("Grace",), ("Smith-Jones",)),
        PupilName(4, ("İlkay",), ("Straße",)),  # letters whose lower case is longer than they are
    ]
)
RULES = [ScreeningRules(naming_rule=rule) for rule in (NO_NAMES, FIRST_NAMES_ONLY, "no_names_with_photos")]

# Pieces that have tripped text code before: names, marks, controls, direction marks, surrogates, odd cases.
PIECES = st.sampled_from(
    [
        "Siobhan",
        "Siobha\u0301n",
        "O'Brien",
        "O\u2019Brien",
        "#SiobhanOBrien",
        "Amelia K.",
        "Millie's",
        "Grace Smith\u2011Jones",
        "İLKAY",
        "STRASSE",
        "\u200f",
        "\u202e",
        "\u200b",
        "\x00",
        "\r\n",
        "\ud800",
        "\udfff",
        "\u0301",
        "ﬁ",
        "07700 900123",
        "amelia@example.com",
        "SW1A 1AA",
        "12 High Street",
        "at the park at 3pm",
        "http://shop.example.com",
        " ",
        ".",
    ]
)
ANY_CHARACTER = st.characters(exclude_categories=())  # surrogates, controls, unassigned code points included
TEXTS = st.one_of(
    st.text(ANY_CHARACTER, max_size=400),
    st.lists(st.one_of(PIECES, st.text(ANY_CHARACTER, max_size=8)), max_size=40).map("".join),
    st.tuples(
        st.binary(max_size=400), st.sampled_from(["replace", "ignore", "surrogateescape", "backslashreplace"])
    ).map(lambda pair: pair[0].decode("utf-8", errors=pair[1])),
)


def assert_sound(text: str, findings) -> None:
    assert isinstance(findings, list)
    for finding in findings:
        assert 0 <= finding.start <= finding.end <= len(text), finding
        assert finding.text == text[finding.start : finding.end]
        assert finding.severity in {"blocking", "advisory"} and finding.message


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS, rules=st.sampled_from(RULES), has_images=st.booleans())
def test_it_screens_any_text_without_an_exception_and_with_offsets_in_the_text(text, rules, has_images):
    assert_sound(text, screen(text, roster=ROSTER, rules=rules, has_images=has_images))


@settings(max_examples=100, deadline=None)
@given(text=TEXTS)
def test_it_finds_roster_names_within_the_text_whatever_it_holds(text):
    for match in ROSTER.find(text):
        assert 0 <= match.start < match.end <= len(text)


@pytest.mark.parametrize("size", [0, 100_000])
def test_it_screens_an_empty_and_a_100_kb_text(size):
    piece = "Siobhan O’Brien\u200f met Amelia K. at 12 High Street, SW1A 1AA \ud800 07700 900123. "
    text = (piece * (size // len(piece) + 1))[:size]
    findings = screen(text, roster=ROSTER, rules=ScreeningRules(naming_rule=FIRST_NAMES_ONLY))
    assert_sound(text, findings)
    assert (not findings) if size == 0 else any(f.category == "pupil_name" for f in findings)
