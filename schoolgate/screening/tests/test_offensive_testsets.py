"""The screen over the robustness test sets in screening/testsets/: how people write, and what must not be flagged.

Each CSV row is a text and whether a careful moderator would want it flagged (`offensive` 1) or not (0). The
thresholds are what the shipped model and word lists meet now (MODEL_CARD.md lists the misses); raise them as
the screen improves, never lower them to let a change through.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from schoolgate.screening import harms
from schoolgate.screening.engine import screen
from schoolgate.screening.incoming import ABUSE, screen_incoming
from schoolgate.screening.roster import Roster

TESTSETS = Path(__file__).resolve().parents[1] / "testsets"
EMPTY = Roster([])

# set: (least share of offensive rows caught, most share of other rows flagged)
THRESHOLDS = {
    "abuse_comments": (1.0, 0.0),
    "leetspeak_spacing": (1.0, 0.0),
    "emoji": (1.0, 0.0),
    "repeated_letters": (1.0, 0.2),  # flags "sooooo proud of you all" (the model)
    "quoting": (1.0, 0.0),
    "reclaimed": (0.5, 0.34),  # flags "queer" used of oneself; misses "queers should not be teachers"
    "scunthorpe": (0.0, 0.0),
    "school_comments": (0.0, 0.0),
}


def load(name: str) -> list[tuple[str, int]]:
    with (TESTSETS / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return [(row["text"], int(row["offensive"])) for row in csv.DictReader(handle)]


def is_flagged(text: str) -> bool:
    return any(f.category in harms.ABUSIVE for f in screen(text, roster=EMPTY))


def test_it_finds_every_offensive_language_test_set():
    # The folder holds other screens' sets too (disclosures…); these are the ones with an `offensive` column.
    for name in THRESHOLDS:
        assert load(name), name


@pytest.mark.parametrize("name", sorted(THRESHOLDS))
def test_it_meets_each_sets_thresholds(name):
    rows = load(name)
    least_caught, most_flagged = THRESHOLDS[name]
    offensive = [text for text, label in rows if label]
    other = [text for text, label in rows if not label]
    missed = [text for text in offensive if not is_flagged(text)]
    false_flags = [text for text in other if is_flagged(text)]
    if offensive:
        assert 1 - len(missed) / len(offensive) >= least_caught, missed
    if other:
        assert len(false_flags) / len(other) <= most_flagged, false_flags


@pytest.mark.clause("RS-ABU-1")
@pytest.mark.parametrize("name", ["leetspeak_spacing", "emoji", "abuse_comments"])
def test_it_files_disguised_abuse_in_incoming_comments_as_abuse(name):
    # Incoming comments go through screen_incoming; abuse written to get past a filter must still be filed as
    # abuse (a disclosure outranks it, and these contain none).
    least_caught, _ = THRESHOLDS[name]
    offensive = [text for text, label in load(name) if label]
    filed = [text for text in offensive if screen_incoming(text, roster=EMPTY).category == ABUSE]
    assert len(filed) / len(offensive) >= least_caught, sorted(set(offensive) - set(filed))


@pytest.mark.parametrize("name", ["school_comments", "scunthorpe"])
def test_it_files_no_ordinary_comment_as_abuse(name):
    _, most_flagged = THRESHOLDS[name]
    other = [text for text, label in load(name) if not label]
    filed = [text for text in other if screen_incoming(text, roster=EMPTY).category == ABUSE]
    assert len(filed) / len(other) <= most_flagged, filed


BAD_INPUT = {
    "empty": ("", False),
    "blank": (" \n\t", False),
    "zero-width only": ("\u200b", False),
    "100 KB of one letter": ("a" * 100_000, False),
    "100 KB of swearing": (("fuck " * 20_000)[:100_000], True),
    "invalid UTF-8, replaced": (b"\xff\xfe\x80 hi \xed\xa0\x80 there".decode(errors="replace"), False),
    "Arabic": ("مرحبا بكم في مدرستنا", False),
    "Chinese": ("欢迎来到我们的学校", False),
    "Cyrillic": ("Добро пожаловать в нашу школу", False),
    "100 KB of emoji": ("\U0001f600" * 25_000, False),
}


@pytest.mark.parametrize("kind", BAD_INPUT)
def test_it_gives_a_clear_result_for_bad_input(kind):
    text, offensive = BAD_INPUT[kind]
    findings = screen(text, roster=EMPTY)
    assert all(0 <= f.start <= f.end <= len(text) for f in findings)
    assert any(f.category in harms.ABUSIVE for f in findings) is offensive
