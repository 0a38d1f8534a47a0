"""The inbox's disclosure and self-harm cues (screening/incoming.py) on the sets written for them. These are the
examples the cues were written against: a regression guard, not a measure of how they do on words they have not
seen (bench/disclosure.py prints that, on disclosures_unseen.csv, and it is far lower)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from schoolgate.screening.incoming import DISCLOSURE, screen_incoming
from schoolgate.screening.roster import Roster

SETS = Path(__file__).resolve().parents[1] / "testsets"


def rows(name: str) -> list[dict]:
    with (SETS / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def suggested(text: str) -> str:
    return screen_incoming(text, roster=Roster([])).category


@pytest.mark.parametrize("row", rows("disclosures.csv"), ids=lambda row: row["text"][:40])
def test_it_sends_each_written_example_of_a_disclosure_or_self_harm_to_the_dsl(row):
    assert suggested(row["text"]) == DISCLOSURE


def test_it_raises_no_false_alarm_on_ordinary_school_comments():
    alarms = [row["text"] for row in rows("ordinary_comments.csv") if suggested(row["text"]) == DISCLOSURE]
    assert alarms == []


def test_it_says_which_kind_of_worry_it_saw():
    found = screen_incoming("i cut myself again and my dad hits me", roster=Roster([]))
    assert found.category == DISCLOSURE
    assert any("harm themselves" in reason for reason in found.reasons)
    assert any("disclosure" in reason for reason in found.reasons)
