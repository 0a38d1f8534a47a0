"""Disclosure and self-harm cues of the inbox screening (screening/incoming.py): recall first.

Run: `.venv/bin/python bench/disclosure.py`. Three sets written for the project from the signs public safeguarding
guidance lists (schoolgate/screening/testsets/):

- disclosures_held_out.csv: written last, measured once, never used to change anything (the headline);
- disclosures_second.csv: written after the phrase cues; then used to design a broader rule (rejected), so seen;
- disclosures.csv: the examples the phrase cues were written against (in-distribution);
- ordinary_comments.csv: everyday school comments, for false alarms (including first-person ones with words
  like "scared", "starving", "on my own").
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "schoolgate.settings")

import django  # noqa: E402

django.setup()

from schoolgate.screening.incoming import DISCLOSURE, screen_incoming  # noqa: E402
from schoolgate.screening.roster import Roster  # noqa: E402

SETS = ROOT / "schoolgate" / "screening" / "testsets"
RECALL_TARGET = 0.95


def rows(name: str) -> list[dict]:
    with (SETS / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def flagged(text: str) -> bool:
    return screen_incoming(text, roster=Roster([])).category == DISCLOSURE


def main() -> None:
    print(f"{'set':<44}{'caught':>10}{'recall':>8}  target")
    for name, label in (
        ("disclosures_held_out.csv", "held-out examples (headline)"),
        ("disclosures_second.csv", "second set (seen while designing)"),
        ("disclosures.csv", "examples the cues were written against"),
    ):
        examples = rows(name)
        caught = sum(flagged(row["text"]) for row in examples)
        recall = caught / len(examples)
        verdict = "met" if recall >= RECALL_TARGET else "NOT MET"
        print(f"{label:<44}{caught:>5}/{len(examples):<4}{recall:>8.2f}  >= {RECALL_TARGET} {verdict}")
        for row in examples:
            if not flagged(row["text"]):
                print(f"    missed ({row['kind']}): {row['text']}")
    ordinary = rows("ordinary_comments.csv")
    alarms = [row["text"] for row in ordinary if flagged(row["text"])]
    print(f"{'false alarms on ordinary school comments':<44}{len(alarms):>5}/{len(ordinary):<4}")
    for text in alarms:
        print(f"    false alarm: {text}")


if __name__ == "__main__":
    main()
