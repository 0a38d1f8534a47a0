"""Screening what reaches the school's accounts: the same engine as drafts, plus the cues that suggest what an
item is (a possible disclosure, abuse, a press enquiry, a complaint, a question, spam, a thank-you).

The suggestion is only a starting point for staff, who can change it; what matters most is that a possible
disclosure is never missed, so its cues lean towards false alarms (the DSL decides, not the pattern).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from schoolgate.screening.engine import Finding, Roster, ScreeningRules, screen

# Words of a child (or about a child) that may be a disclosure, and of someone who may harm themselves. Recall comes
# first: a false alarm costs the DSL a minute, a miss may cost a child. Written from the signs public safeguarding
# guidance lists (physical, sexual and emotional abuse, neglect, domestic abuse, grooming online and off,
# exploitation, secrecy imposed by an adult, not being believed). They catch the phrasings they were written
# against and few others: bench/disclosure.py measures them on a held-out set (recall 0.05 there), so a person who
# reads a worry the cues missed passes it to the DSL from the item page; a learned model is issue 14's work.
_SUBJECT = (
    r"(?:he|she|they|someone|my (?:dad|mum|mom|step ?dad|step ?mum|uncle|brother|sister|teacher|coach)|\w+'s \w+)"
)
_HARM = r"(?:hits?|hit|hurts?|hurt|beats?|beat|kicks?|kicked|slaps?|slapped|punch(?:es|ed)|chok(?:es|ed)|burns?|burnt)"
DISCLOSURE_CUES = (
    rf"{_HARM} me\b",
    rf"{_SUBJECT} touch(?:es|ed)? me",
    r"touched me|touch(?:es|ed)? me (?:and|when|at|in)|(?:in )?a place (?:they|he|she) shouldn'?t",
    r"does things to me|makes? me do things",
    r"(?:abus(?:e|ed|es|ing)|groom(?:s|ed|ing)) me|\bgroom(?:ed|ing)\b",
    r"(?:scared|afraid|frightened) (?:to go|of going) home|(?:don'?t|do not) want to go home",
    r"(?:please )?(?:don'?t|do not) tell (?:my (?:mum|dad|mom|parents|teacher)|anyone (?:i|what|about))",
    r"(?:said|says|told me)(?: that)? (?:it'?s|it is) (?:our|a) (?:little )?secret|to keep (?:it )?(?:a )?secret",
    r"(?:says|said|told me) not to tell|not allowed to (?:say|tell)|nobody (?:knows|believes me)",
    r"(?:asked|asks|asking) (?:me )?for (?:pictures|pics|photos) of (?:my|me)",
    r"(?:send|sending|sent)(?: me)? (?:nudes?|naked (?:pictures|photos|pics))|naked (?:pics|pictures|photos)|nudes?\b",
    r"(?:older|grown[- ]up) (?:guy|man|boy|girl|person|lady|woman)\b.{0,40}\bmeet|wants? to meet me",
    r"says i'?m special|buys me (?:things|presents|stuff)",
    r"(?:no food|nothing to eat|anything to eat) (?:at home|for days)|haven'?t (?:eaten|had (?:any )?food) for days",
    r"haven'?t had anything to eat",
    r"on my own all night|nobody (?:picks me up|looks after me|feeds me)",
    r"(?:dad|mum|mom|step ?dad|he|she) (?:hit|hits|hurt|hurts|beat|beats) (?:my )?(?:mum|mom|dad|mother|father)",
    r"fight every night|hide in my room",
    r"(?:make|makes|made) me (?:carry|sell|deliver|hold|hide)|they'?ll (?:hurt|beat|get) (?:my family|me up|me)",
    r"can'?t take it any ?more|bull(?:y|ies|ied|ying) me\b",
    r"(?:it'?s |it is )?still happening|nothing (?:happened|was done) and",
    r"checks my phone|not allowed to see my friends",
)
SELF_HARM_CUES = (
    r"(?:kill|hurt|harm|cut|cutting|hurting|harming|killing) myself|self[- ]?harm(?:ing|ed)?|suicid(?:e|al)",
    r"end (?:it all|my life)|i (?:want|wanna|am going|'m going|am gonna|'m gonna) (?:to )?die\b|want to die\b",
    r"(?:don'?t|do not) want to (?:be alive|live|be here)(?: any ?more)?|better off without me",
)


def _cues(patterns) -> re.Pattern:
    return re.compile(r"(?<![\w])(?:" + "|".join(f"(?:{p})" for p in patterns) + r")", re.IGNORECASE)


DISCLOSURE_PATTERN = _cues(DISCLOSURE_CUES)
SELF_HARM_PATTERN = _cues(SELF_HARM_CUES)

PRESS_PATTERN = re.compile(
    r"(?<![\w])(?:journalist|reporter|newspaper|newsroom|press (?:office|enquiry|inquiry)|media enquiry"
    r"|(?:for|in) (?:a|our|the) (?:story|article|piece|report)|comment for (?:the|our)"
    r"|on behalf of (?:the )?[A-Z][\w]*(?: [A-Z][\w]*)* (?:Gazette|Echo|Post|Times|News|Herald|Telegraph|Mail"
    r"|Chronicle|Mirror|Express|Standard|Observer|Guardian|Argus|Courier|Star)"
    r"|\bBBC\b|\bITV\b|Sky News)(?![\w])",
    re.IGNORECASE,
)
COMPLAINT_PATTERN = re.compile(
    r"(?<![\w])(?:complain(?:t|ts|ing|ed)?|disappointed|disgusted|unacceptable|not good enough|appalled|appalling"
    r"|furious|outrageous|shocking|(?:very|really|so) (?:unhappy|upset|angry)|how dare|this is a disgrace"
    r"|nobody (?:has )?(?:replied|answered|got back)|still (?:waiting|no reply|no answer))(?![\w])",
    re.IGNORECASE,
)
QUESTION_PATTERN = re.compile(
    r"\?|(?:^|[.!]\s+)(?:when|what|where|who|why|how|is|are|can|could|will|would|does|do|did|should)\b"
    r"|(?<![\w])(?:please (?:can|could|let me know|tell|confirm)|i was wondering|does anyone know)(?![\w])",
    re.IGNORECASE,
)
SPAM_PATTERN = re.compile(
    r"(?<![\w])(?:crypto|bitcoin|forex|investment opportunity|earn \$?£?\d+|click (?:the )?link|dm me for"
    r"|follow (?:me )?for follow|f4f|giveaway winner|you(?:'ve| have) won|promo code|cheap followers"
    r"|work from home and earn)(?![\w])",
    re.IGNORECASE,
)
THANKS_PATTERN = re.compile(
    r"^\W*(?:(?:thank(?:s| you)(?: so much| very much)?|ty|well done|congratulations|congrats|brilliant"
    r"|lovely|amazing|fantastic|great|wonderful|fab(?:ulous)?|superb|so proud|proud|love (?:this|it)"
    r"|what a (?:lovely|great|fantastic) \w+)[\s,!.]*)+(?:(?:to )?(?:all|everyone|the staff|the team|you all)"
    r"[\s,!.]*)?\W*$",
    re.IGNORECASE,
)
_EMOJI_ONLY = re.compile(r"^[\W_]*$", re.UNICODE)

DISCLOSURE = "safeguarding"
ABUSE = "abuse"


@dataclass(frozen=True)
class Incoming:
    """What the screening found in an incoming item and what it suggests the item is."""

    category: str  # a value of inbox.models.Category
    reasons: tuple[str, ...]
    findings: tuple[Finding, ...]

    @property
    def may_be_disclosure(self) -> bool:
        return self.category == DISCLOSURE


def screen_incoming(text: str, *, roster: Roster, rules: ScreeningRules | None = None) -> Incoming:
    """Findings for `text` and the suggested category, most serious first:

    1. signs of a disclosure, or that someone may harm themselves → a possible safeguarding matter (the DSL);
    2. a threat or offensive language → abuse;
    3. spam; a press enquiry; a complaint; a question;
    4. a bare thank-you, praise or emoji → needs no answer; anything else is a comment.
    Pupil names and personal data are findings on any of them (the reason to hide or remove a comment).
    """
    findings = tuple(screen(text, roster=roster, rules=rules))
    reasons: list[str] = []
    harm = SELF_HARM_PATTERN.search(text)
    if harm:
        reasons.append(f"Words that may mean someone could harm themselves: “{harm.group(0)}”.")
    disclosure = DISCLOSURE_PATTERN.search(text)
    if disclosure:
        reasons.append(f"Words that may be a disclosure: “{disclosure.group(0)}”.")
    if reasons:
        return Incoming(DISCLOSURE, tuple(reasons), findings)
    abusive = [f for f in findings if f.category in ("offensive", "threat")]
    if abusive:
        reasons.extend(f.message for f in abusive)
        return Incoming(ABUSE, tuple(dict.fromkeys(reasons)), findings)
    for pattern, category, reason in (
        (SPAM_PATTERN, "spam", "Looks like spam."),
        (PRESS_PATTERN, "press", "Looks like a press enquiry."),
        (COMPLAINT_PATTERN, "complaint", "Looks like a complaint."),
        (QUESTION_PATTERN, "query", "Asks a question."),
    ):
        if pattern.search(text):
            return Incoming(category, (reason,), findings)
    stripped = text.strip()
    if not stripped or _EMOJI_ONLY.match(stripped) or THANKS_PATTERN.match(stripped):
        return Incoming("no_answer", ("A thank-you, praise or a reaction.",), findings)
    return Incoming("comment", (), findings)
