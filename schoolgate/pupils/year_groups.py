"""Year groups as information-system exports write them ("R", "Y4", "Yr 4", "04", "L6"), as one canonical name."""

from __future__ import annotations

import re

NURSERY, NURSERY_1, NURSERY_2, RECEPTION = "Nursery", "Nursery 1", "Nursery 2", "Reception"
YEARS = tuple(f"Year {number}" for number in range(1, 14))
# Canonical name -> place in the school: Nursery < Reception < Year 1 < ... < Year 13. A plain "Nursery"
# (the export does not say which) sorts with the first nursery year.
ORDER = {NURSERY: -2, NURSERY_1: -2, NURSERY_2: -1, RECEPTION: 0, **{name: n for n, name in enumerate(YEARS, 1)}}
EXAMPLES = "Nursery, N1, N2, Reception, R, YR, Year 1 to Year 13, Y4, Yr 4, 4, L6 or U6"

_WORDS = {
    # Early years: N1/N2 are the two nursery years some schools have; FS1/FS2 the Foundation Stage names.
    NURSERY: {"n", "nur", "nurs", "nursery", "yn", "yearn", "fs1", "f1", "foundation1", "foundationstage1", "pre"},
    NURSERY_1: {"n1", "nursery1", "yn1"},
    NURSERY_2: {"n2", "nursery2", "yn2"},
    RECEPTION: {
        "r",
        "rec",
        "recep",
        "reception",
        "yr",
        "yearr",
        "yearreception",
        "fs2",
        "f2",
        "foundation2",
        "foundationstage2",
        "receptionyear",
    },
    # Sixth form as independent schools and some MIS write it.
    "Year 12": {"l6", "6l", "lvi", "lowersixth", "lower6", "lower6th", "lowersixthform", "6.1"},
    "Year 13": {"u6", "6u", "uvi", "uppersixth", "upper6", "upper6th", "uppersixthform", "6.2"},
}
_BY_WORD = {word: name for name, words in _WORDS.items() for word in words}
# "4", "04", "Year 4", "Year 04", "Y4", "Yr 4", "Yr.4", "NC Year 4", "Year Group 4", "Year 4 (NC)".
_NUMBERED = re.compile(r"^(?:nc\s*)?(?:(?:year|yr|y)\.?\s*(?:group\s*)?)?0*(\d{1,2})(?:\s*\(?nc\)?)?$")


def canonical(value: str) -> str | None:
    """The canonical name for a year group as written in an export; "" for blank, None when it is not one."""
    text = " ".join(value.split()).casefold()
    if not text:
        return ""
    squeezed = re.sub(r"[\s_\-]", "", text)
    if squeezed in _BY_WORD:
        return _BY_WORD[squeezed]
    match = _NUMBERED.match(text)
    if match and 1 <= int(match.group(1)) <= 13:
        return f"Year {int(match.group(1))}"
    return None


def sort_key(value: str) -> tuple:
    """Known years in school order, then anything else by name, then blanks ("(no year group)" last)."""
    name = canonical(value) if value and not value.startswith("(") else ""
    if name:
        return (0, ORDER[name], name)
    if value and not value.startswith("("):
        return (1, 0, value.casefold())
    return (2, 0, value)
