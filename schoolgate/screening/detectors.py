"""Pattern detectors for personal data, location leaks and commercial promotion, each yielding raw hits."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Hit:
    category: str
    start: int
    end: int
    message: str
    # True where the words only hint at the data ("DOB" with no date): advisory whatever the rules say.
    hint_only: bool = False


# UK numbers: 0 or +44 / 0044 (optionally "(0)"), then 9 or 10 national digits with single separators.
# Deliberately no number-plan validation: the Ofcom drama range 07700 900000-900999 (which `phonenumbers`
# rejects as invalid) is exactly what example posts and test data use, and must be caught like any mobile.
PHONE = re.compile(r"(?<![\w+])(?:(?:\+|00)\s?44[\s-]?(?:\(0\)[\s-]?)?|\(?0)[1-9](?:[\s.-]?\)?[\s.-]?\d){8,9}(?![\d])")
EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+"
)
# Outward code, optional space, inward code (whose letters never include C, I, K, M, O or V).
POSTCODE = re.compile(r"(?<![\w])(?:[A-Z]{1,2}\d[A-Z\d]?|GIR)(\s?)\d[ABD-HJLNP-UW-Z]{2}(?![\w])", re.IGNORECASE)
STREET_TYPES = (
    r"Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Close|Cl|Crescent|Cres|Way|Gardens|Gdns|Place|Pl|Court|Ct"
    r"|Terrace|Terr|Grove|Gr|Hill|Park|Row|Square|Sq|Mews|View|Walk|Rise|Green|Parade|Boulevard|Vale|Wharf"
)
STREET_ADDRESS = re.compile(
    r"(?<![\w])(?:(?:flat|apartment|apt)\s+\d+[a-z]?,?\s+)?\d{1,4}[a-zA-Z]?,?\s+"
    r"(?:[A-Z][a-zA-Z'-]+\s+){1,3}(?:" + STREET_TYPES + r")\b\.?"
)
_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"  # noqa: E501
_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"
    r"|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"(?:,?\s+\d{4})?"
    r"|" + _MONTH + r"\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?"
    r"|\d{4}-\d{2}-\d{2})"
)
DATE_OF_BIRTH = re.compile(
    r"(?<![\w])(?:born(?:\s+on)?|d\.?o\.?b\.?|date\s+of\s+birth|birth\s*date)[\s:,-]*(?:the\s+)?" + _DATE + r"(?![\w])",
    re.IGNORECASE,
)
DOB_LABEL = re.compile(r"(?<![\w])(?:DOB|D\.O\.B\.?|[Dd]ate of [Bb]irth)(?![\w])")

# Location leaks (AW-IMG-2): where a pupil is, or will be, that a stranger could act on.
_TIME = r"\d{1,2}(?:[:.]\d{2})?\s?(?:am|pm)|\d{1,2}[:.]\d{2}|noon|midday"
_VENUE = r"(?:the\s+)?(?:[A-Z][\w'&-]*\s?){1,5}"
LOCATION_PATTERNS = (
    (re.compile(r"(?<![\w])home alone(?![\w])", re.IGNORECASE), "Says a child is home alone."),
    (
        re.compile(
            r"(?<![\w])(?:walks?|walking|goes|going|cycles?|cycling|gets? the bus)\s+(?:home|to school)\s+"
            r"(?:alone|on (?:his|her|their) own|by (?:him|her|them)sel(?:f|ves))(?![\w])",
            re.IGNORECASE,
        ),
        "Says when a child travels alone.",
    ),
    (
        re.compile(r"(?<![\w])(?:is|are|'s|will be|was|were|stays?|staying)\s+at home(?![\w])", re.IGNORECASE),
        "Says a pupil is at home.",
    ),
    (re.compile(r"(?<![\w])at home (?:today|tonight|this (?:week|afternoon|morning))(?![\w])", re.IGNORECASE), None),
    (
        re.compile(
            r"(?<![\w])(?i:at|visiting|to|arrive at|arriving at|leave|leaving)\s+"
            + _VENUE
            + r"[^.!?\n]{0,40}?(?<![\w])(?i:at|from|until|till|by|between|before|after)\s+(?i:"
            + _TIME
            + r")(?![\w])"
        ),
        "Names a venue with a time: strangers learn where pupils will be.",
    ),
    (
        re.compile(
            r"(?<![\w])(?i:at|from|until|by)\s+(?i:"
            + _TIME
            + r")[^.!?\n]{0,30}?(?<![\w])(?i:at|to|visiting)\s+"
            + _VENUE
            + r"(?=[\s.,!?]|$)"
        ),
        "Names a venue with a time: strangers learn where pupils will be.",
    ),
    (
        re.compile(
            r"(?<![\w])(?:waiting|waits|wait)\s+at\s+(?:the\s+)?(?:bus stop|station|park|gate|shop)s?(?![\w])",
            re.IGNORECASE,
        ),
        "Says where a pupil waits.",
    ),
    (
        re.compile(r"(?<![\w])(?:live|lives|living)\s+(?:on|in|at|near)\s+" + _VENUE.strip() + r"(?=[\s.,!?]|$)"),
        "Says where someone lives.",
    ),
)

TIME = re.compile(r"(?<![\w])(?:" + _TIME + r")(?![\w])", re.IGNORECASE)
TIMED_PATTERNS = {LOCATION_PATTERNS[4][0], LOCATION_PATTERNS[5][0]}

# Personal gain and commercial promotion (RS-PUB-2).
COMMERCIAL = re.compile(
    r"(?<![\w])(?:discount codes?|promo(?:tional)? codes?|voucher codes?|coupon codes?|use (?:my )?code\s+\w+"
    r"|buy (?:my|from my|from me)|(?:dm|pm|message|inbox|msg) me for (?:prices?|details|orders?|more info|info)"
    r"|order (?:yours|now) from (?:me|my)|my (?:etsy|online|small) (?:shop|store|business)"
    r"|check out my (?:shop|store|page|business)"
    r"|link in (?:my )?bio|referral (?:link|code)|(?:use|sign up with|join with) my (?:link|referral)"
    r"|\d{1,2}\s?% off|for sale|selling my|prices? (?:start|starting) (?:at|from))(?![\w])",
    re.IGNORECASE,
)
REFERRAL_LINK = re.compile(
    r"(?:https?://|www\.)\S*?(?:[?&](?:ref|referral|refcode|aff|affiliate|aff_id|tag|invite)=|/ref/|/referral/|/r/)\S*"
    r"|(?<![\w.])(?:amzn\.to|bit\.ly|tinyurl\.com)/\S+",
    re.IGNORECASE,
)


_DIGIT = re.compile(r"\d")


def find_personal_data(text: str) -> Iterator[Hit]:
    # Phones, postcodes, street numbers and dates all contain a digit, and emails an "@": most texts
    # have neither, so one cheap search skips the costlier patterns.
    has_digit = _DIGIT.search(text) is not None
    if has_digit:
        for match in PHONE.finditer(text):
            yield Hit("phone", match.start(), match.end(), "A UK phone number.")
    if "@" in text:
        for match in EMAIL.finditer(text):
            yield Hit("email", match.start(), match.end(), "An email address.")
    dob_spans = []
    if has_digit:
        for match in POSTCODE.finditer(text):
            # Without a space, only an all-capitals postcode counts ("SW1A1AA"), not a word such as "ab12cd".
            if match.group(1) or match.group().isupper():
                yield Hit("postcode", match.start(), match.end(), "A UK postcode.")
        for match in STREET_ADDRESS.finditer(text):
            yield Hit("street_address", match.start(), match.end(), "A street address.")
        for match in DATE_OF_BIRTH.finditer(text):
            dob_spans.append((match.start(), match.end()))
            yield Hit("date_of_birth", match.start(), match.end(), "A date of birth.")
    for match in DOB_LABEL.finditer(text):
        if not any(start <= match.start() < end for start, end in dob_spans):
            yield Hit("date_of_birth", match.start(), match.end(), "Mentions a date of birth.", hint_only=True)


def find_location_leaks(text: str) -> Iterator[Hit]:
    has_time = TIME.search(text) is not None
    for pattern, message in LOCATION_PATTERNS:
        if pattern in TIMED_PATTERNS and not has_time:
            continue  # the venue-with-time patterns are the slow ones; most texts name no time
        for match in pattern.finditer(text):
            yield Hit("location", match.start(), match.end(), message or "Says a pupil is at home.")


def find_commercial(text: str) -> Iterator[Hit]:
    for match in COMMERCIAL.finditer(text):
        yield Hit("commercial", match.start(), match.end(), "Promotes something for sale or personal gain.")
    if "/" not in text:  # every referral or shortened link has a slash
        return
    for match in REFERRAL_LINK.finditer(text):
        yield Hit("commercial", match.start(), match.end(), "A referral, affiliate or shortened link.")
