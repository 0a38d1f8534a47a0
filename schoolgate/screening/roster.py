"""A school's pupil names as one Aho-Corasick automaton of name variants, matched on word boundaries.

Variants built per pupil (legal and preferred forms alike), all matched case-insensitively:
- full names ("Amelia Khan"), with every forename form (legal, preferred, nicknames from `NICKNAMES`);
- forename + surname initial ("Amelia K", "Amelia K." — the initial must be a capital letter in the text);
- hashtags and handles run together ("#AmeliaKhan", "#AmeliaK", "ameliak");
- lone forenames and nickname forms ("Amelia", "Millie") and lone surnames ("Khan");
- possessives ("Amelia's") need no variant of their own: the apostrophe ends the word.

Names and texts are compared folded (`fold`): accents dropped ("Siobhan" finds the legal name "Siobhán" and
"Zoë" finds "Zoe"), curly apostrophes and Unicode hyphens made plain ("O’Brien", "Smith‑Jones"), compatibility
forms made plain (full-width letters); offsets in matches are always those of the text as written.

Names that are also ordinary words (`ORDINARY_WORDS`: Grace, Rose, Summer, Hazel, Bay, Will…) are only
counted on their own when the text writes them with a capital letter and not at the start of a sentence
("we met Grace today" counts; "Grace before lunch", "by the grace of", "summer term" do not). Followed by a
surname or an initial they always count, because the full-name variant matches. A lone surname counts
only when capitalised and not straight after a title (Mr, Mrs, Ms, Miss, Mx, Dr), so "Mrs Khan's class" is
a member of staff, not a pupil; an ordinary-word surname (Brown, Green, Bell…) also follows the
capital-letter rule above.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

import ahocorasick

# Forename -> common short and pet forms. Small on purpose; the school can add its pupils' preferred names.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "thomas": ("tom", "tommy"),
    "william": ("will", "bill", "billy", "liam", "willy"),
    "elizabeth": ("liz", "lizzie", "lizzy", "beth", "betty", "eliza", "libby"),
    "alexander": ("alex", "xander", "sandy"),
    "alexandra": ("alex", "lexi", "sandra"),
    "benjamin": ("ben", "benji", "benny"),
    "charles": ("charlie", "chas"),
    "charlotte": ("lottie", "charlie", "lotte"),
    "christopher": ("chris", "kit"),
    "daniel": ("dan", "danny"),
    "edward": ("ed", "eddie", "ted", "teddy", "ned"),
    "frederick": ("fred", "freddie", "freddy"),
    "harrison": ("harry",),
    "henry": ("harry", "hal"),
    "isabella": ("bella", "izzy", "issy"),
    "isabelle": ("bella", "izzy", "issy"),
    "jacob": ("jake",),
    "james": ("jim", "jimmy", "jamie"),
    "jessica": ("jess", "jessie"),
    "jonathan": ("jon", "jonny"),
    "joseph": ("joe", "joey"),
    "joshua": ("josh",),
    "katherine": ("kate", "katie", "kat", "kitty"),
    "catherine": ("cat", "cathy", "kate", "katie"),
    "margaret": ("maggie", "meg", "peggy"),
    "matthew": ("matt", "matty"),
    "michael": ("mike", "mikey", "mick"),
    "nicholas": ("nick", "nicky"),
    "oliver": ("ollie", "olly"),
    "olivia": ("liv", "livvy", "livy"),
    "patrick": ("pat", "paddy"),
    "rebecca": ("becky", "becca"),
    "richard": ("rich", "richie", "dick"),
    "robert": ("rob", "robbie", "bob", "bobby", "bert"),
    "samuel": ("sam", "sammy"),
    "samantha": ("sam", "sammy"),
    "sophia": ("sophie",),
    "stephen": ("steve", "stevie"),
    "theodore": ("theo", "ted", "teddy"),
    "victoria": ("vicky", "tori"),
    "zachary": ("zach", "zack"),
    "amelia": ("millie", "amy", "mia"),
    "emily": ("em", "emmy", "millie"),
    "abigail": ("abbie", "abby"),
    "gabriel": ("gabe",),
    "nathaniel": ("nat", "nate"),
    "nathan": ("nat", "nate"),
    "florence": ("flo", "florrie"),
    "penelope": ("penny",),
    "anthony": ("tony", "ant"),
    "matilda": ("tilly", "tilda"),
    "harriet": ("hattie",),
    "eleanor": ("ellie", "nell", "nora"),
    "muhammad": ("mo",),
    "mohammed": ("mo",),
}

# Names that are also everyday English words; on their own they need a capital and a mid-sentence position.
ORDINARY_WORDS = frozenset(
    [
        "grace",
        "rose",
        "summer",
        "hazel",
        "bay",
        "will",
        "bill",
        "pat",
        "sue",
        "rob",
        "art",
        "joy",
        "hope",
        "faith",
        "may",
        "june",
        "april",
        "august",
        "autumn",
        "winter",
        "dawn",
        "sky",
        "storm",
        "rain",
        "river",
        "brook",
        "brooke",
        "forest",
        "heather",
        "holly",
        "ivy",
        "iris",
        "lily",
        "daisy",
        "poppy",
        "violet",
        "jasmine",
        "ruby",
        "pearl",
        "amber",
        "crystal",
        "jade",
        "scarlet",
        "sunny",
        "star",
        "honey",
        "bunny",
        "penny",
        "cat",
        "kit",
        "ted",
        "nat",
        "mo",
        "ed",
        "em",
        "ant",
        "chase",
        "hunter",
        "mason",
        "archer",
        "carter",
        "cooper",
        "baker",
        "taylor",
        "fletcher",
        "mark",
        "rich",
        "sandy",
        "dick",
        "amy",
        "mia",
        "bob",
        "bert",
        "angel",
        "blessing",
        "precious",
        "major",
        "rocky",
        "reed",
        "ray",
        "roman",
        "sage",
        "sterling",
        "justice",
        "liberty",
        "harmony",
        "melody",
        "brown",
        "green",
        "white",
        "black",
        "gray",
        "grey",
        "bell",
        "long",
        "short",
        "young",
        "king",
        "wood",
        "hill",
        "stone",
        "bird",
        "fox",
        "lamb",
        "moss",
        "marsh",
        "rivers",
        "banks",
        "hall",
        "street",
        "church",
        "field",
        "fields",
        "house",
        "little",
        "small",
        "nice",
        "love",
        "best",
    ]
)

TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "sir", "madam", "prof", "professor", "mister"})

# Variant kinds, most specific first where two kinds share a key.
FULL = "full_name"
INITIAL = "forename_initial"
HASHTAG = "joined_name"
FORENAME = "forename"
SURNAME = "surname"
KIND_RANK = {FULL: 0, HASHTAG: 1, INITIAL: 2, FORENAME: 3, SURNAME: 4}

_SPLIT = re.compile(r"[\s\-']+")


@dataclass(frozen=True)
class PupilName:
    """What screening needs to know of a pupil: an id (for the reviewer) and name forms."""

    pupil_id: int | str
    forenames: tuple[str, ...]
    surnames: tuple[str, ...]


@dataclass(frozen=True)
class NameMatch:
    start: int
    end: int
    kind: str
    pupil_ids: tuple
    # A lone name that is one pupil's forename and another's surname ("Taylor"): the naming rule decides.
    also_surname: bool = False


# Characters people type for the same mark: apostrophes (’ ‘ ʼ ′ ＇ `) and hyphens or dashes (‐ ‑ ‒ – — ― −).
_PLAIN = str.maketrans(
    {
        **dict.fromkeys("\u2019\u2018\u02bc\u2032\uff07\u0060\u00b4", "'"),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d", "-"),
    }
)


def _fold_char(char: str) -> str:
    """One character without its accents (and in its plain compatibility form): "", one character, or `char`."""
    if char.isascii():
        return char
    plain = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    plain = plain.translate(_PLAIN)
    return plain if len(plain) <= 1 else char  # a ligature or fraction stays whole, so offsets stay simple


class _FoldTable(dict):
    """str.translate's table, filled on first sight of each character (so folding runs in C after that)."""

    def __missing__(self, code: int) -> str:
        if len(self) > 50_000:  # random text can hold any of a million code points: stay small
            self.clear()
        self[code] = folded = _fold_char(chr(code))
        return folded


_FOLD = _FoldTable()


def fold(text: str) -> tuple[str, list[int] | None]:
    """The text folded for matching, case kept, and for each folded character the index it came from in `text`
    (None when that is its own index, as for any text without combining marks).

    Combining marks fold to nothing ("Siobha\u0301n" is "Siobhan"); every other character to one character."""
    if text.isascii():
        return text, None
    folded = text.translate(_FOLD)
    if len(folded) == len(text):
        return folded, None
    origin = [index for index, char in enumerate(text) if _FOLD[ord(char)]]
    return folded, origin


def _clean(name: str) -> str:
    return " ".join(fold(name)[0].split()).lower()


def forename_forms(forename: str) -> set[str]:
    """The forename itself, each part of a double-barrelled or two-word forename, and nickname forms."""
    forename = _clean(forename)
    if not forename:
        return set()
    forms = {forename}
    first = _SPLIT.split(forename)[0]
    forms.add(first)
    for form in list(forms):
        forms.update(NICKNAMES.get(form, ()))
    return forms


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


@dataclass
class Roster:
    """Build once per school (it is immutable after `build`) and reuse for every text screened."""

    pupils: list[PupilName] = field(default_factory=list)
    automaton: ahocorasick.Automaton | None = None
    size: int = 0

    @classmethod
    def build(cls, pupils: Iterable[PupilName]) -> Roster:
        pupils = list(pupils)
        variants: dict[str, dict[str, set]] = {}

        def add(key: str, kind: str, pupil_id) -> None:
            if len(key) < 2:
                return
            variants.setdefault(key, {}).setdefault(kind, set()).add(pupil_id)

        for pupil in pupils:
            forenames = set().union(*(forename_forms(f) for f in pupil.forenames)) if pupil.forenames else set()
            surnames = {_clean(s) for s in pupil.surnames if s.strip()}
            for surname in surnames:
                add(surname, SURNAME, pupil.pupil_id)
            for forename in forenames:
                add(forename, FORENAME, pupil.pupil_id)
                for surname in surnames:
                    add(f"{forename} {surname}", FULL, pupil.pupil_id)
                    add(f"{forename} {surname[0]}", INITIAL, pupil.pupil_id)
                    joined = (forename + surname).replace(" ", "").replace("-", "").replace("'", "")
                    add(joined, HASHTAG, pupil.pupil_id)
                    add((forename + surname[0]).replace(" ", ""), HASHTAG, pupil.pupil_id)
        automaton = ahocorasick.Automaton()
        for key, kinds in variants.items():
            kind = min(kinds, key=KIND_RANK.__getitem__)
            # A key that is one pupil's surname and another's forename keeps its most specific kind.
            ids = tuple(sorted({pid for group in kinds.values() for pid in group}, key=str))
            automaton.add_word(key, (len(key), kind, ids, key in ORDINARY_WORDS, SURNAME in kinds))
        if variants:
            automaton.make_automaton()
        return cls(pupils=pupils, automaton=automaton if variants else None, size=len(variants))

    def find(self, text: str) -> list[NameMatch]:
        """Every pupil-name mention, longest match first where mentions overlap."""
        if self.automaton is None:
            return []
        written = text
        text, origin = fold(written)
        lowered = text.lower()
        if len(lowered) != len(text):  # a few characters change length when lowercased; keep offsets true
            lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
        candidates = []
        n = len(text)
        for end_index, (length, kind, ids, ordinary, also_surname) in self.automaton.iter(lowered):
            start, end = end_index - length + 1, end_index + 1
            if start > 0 and _is_word_char(text[start - 1]):
                continue
            if end < n and _is_word_char(text[end]):
                continue
            if not self._counts(text, start, end, kind, ordinary):
                continue
            candidates.append(NameMatch(start, end, kind, ids, also_surname and kind == FORENAME))
        candidates.sort(key=lambda m: (m.start, -(m.end - m.start)))
        chosen: list[NameMatch] = []
        last_end = -1
        for match in candidates:
            if match.start >= last_end:
                chosen.append(match)
                last_end = match.end
        if origin is None:
            return chosen
        # Back to offsets in the text as written: a match ends where the next folded character begins, so a
        # combining accent on its last letter stays inside it.
        return [
            NameMatch(
                origin[m.start], origin[m.end] if m.end < n else len(written), m.kind, m.pupil_ids, m.also_surname
            )
            for m in chosen
        ]

    @staticmethod
    def _counts(text: str, start: int, end: int, kind: str, ordinary: bool) -> bool:
        if kind == INITIAL:
            # "Amelia K" only with a capital initial, so "Amelia a lovely…" is not "Amelia A."
            return text[end - 1].isupper()
        if kind == HASHTAG:
            # Run-together names ("AmeliaK", "HalF") are also words ("half"): only after # or @, or with an
            # inner capital letter as hashtags and handles are written.
            return (start > 0 and text[start - 1] in "#@") or any(c.isupper() for c in text[start + 1 : end])
        if kind == FULL:
            return True
        capitalised = text[start].isupper()
        if kind == SURNAME:
            if not capitalised or _after_title(text, start):
                return False
            return not ordinary or not _starts_sentence(text, start)
        if ordinary:
            return capitalised and not _starts_sentence(text, start)
        return True


def _starts_sentence(text: str, start: int) -> bool:
    i = start
    while i > 0 and text[i - 1] in " \t\"'(#@\u201c\u2018":
        i -= 1
    return i == 0 or text[i - 1] in ".!?:;\n\r"


def _after_title(text: str, start: int) -> bool:
    words = text[max(0, start - 12) : start].lower().replace(".", " ").split()
    return bool(words) and words[-1] in TITLES
