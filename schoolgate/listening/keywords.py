"""Matching a school's keywords in a post: Aho-Corasick over folded text, so thousands of phrases stay fast."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick

# Beyond this a list is almost certainly pasted by mistake (a whole street directory); matching would still be fast.
MAX_KEYWORDS = 5000
MAX_KEYWORD_CHARS = 200


def fold(text: str) -> str:
    """Case, accents and spacing folded, so "St. Mary's", "st mary’s" and "ST MARYS" meet."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = text.replace("’", "'").replace("'", "")
    return " " + " ".join(re.findall(r"[#@]?\w+", text)) + " "


def too_many_message(count: int) -> str:
    return (
        f"That would make {count} keywords; Schoolgate watches at most {MAX_KEYWORDS} per school. Keep the names, "
        "nicknames, hashtags and nearby streets that people really use."
    )


@dataclass
class Matcher:
    """Built once per read from the school's keywords; `matches(text)` is linear in the text, not the list."""

    include: ahocorasick.Automaton | None
    exclude: ahocorasick.Automaton | None

    @classmethod
    def build(cls, include: Iterable[str], exclude: Iterable[str] = ()) -> Matcher:
        return cls(_automaton(include), _automaton(exclude))

    def matches(self, text: str) -> list[str]:
        """The keywords in `text` (whole words only), or [] when none, or when an exclusion is there too."""
        folded = fold(text)
        # A name inside a hashtag or handle counts too ("#HillsidePrimary" is not, "#Hillside" is "Hillside").
        texts = (folded, folded.replace("#", "").replace("@", ""))
        if self.exclude is not None and any(next(self.exclude.iter(t), None) is not None for t in texts):
            return []
        if self.include is None:
            return []
        return list(dict.fromkeys(original for t in texts for _end, original in self.include.iter(t)))


def _automaton(phrases: Iterable[str]) -> ahocorasick.Automaton | None:
    automaton = ahocorasick.Automaton()
    for phrase in phrases:
        folded = fold(phrase).strip()
        if not folded:
            continue
        # Padded with spaces, a phrase matches whole words only ("Oak" is not in "Oakley"); "#" stays distinct.
        automaton.add_word(f" {folded} ", phrase)
    if len(automaton) == 0:
        return None
    automaton.make_automaton()
    return automaton
