"""Screening what reaches the school's accounts: the same engine as drafts, plus the cues that suggest what an
item is (a possible disclosure, abuse, a press enquiry, a complaint, a question, spam, a thank-you).

The suggestion is only a starting point for staff, who can change it; what matters most is that a possible
disclosure is never missed, so its cues lean towards false alarms (the DSL decides, not the pattern).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from schoolgate.screening import harms
from schoolgate.screening.engine import INCOMING_CLAUSES, Finding, Roster, ScreeningRules, screen

logger = logging.getLogger(__name__)

# The cues of a disclosure and of self-harm are harms.DISCLOSURE_PHRASES and harms.SELF_HARM_PHRASES: the screen
# reports them as findings of those kinds, here and on drafts.
DISCLOSURE_PATTERN = harms.DISCLOSURE_PATTERN
SELF_HARM_PATTERN = harms.SELF_HARM_PATTERN

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
# The finding of the sentence-embedding model: not a kind of harm (it routes and hides nothing by itself).
POSSIBLE_WORRY = "possible_worry"


@dataclass(frozen=True)
class Incoming:
    """What the screening found in an incoming item and what it suggests the item is."""

    category: str  # a value of inbox.models.Category
    reasons: tuple[str, ...]
    findings: tuple[Finding, ...]
    # What the school's policy says the kinds of harm found do (ScreeningRules.dsl_harms, .hidden_harms).
    to_dsl: bool = False
    hide: bool = False
    # What the sentence-embedding model read as a possible worry where no phrase found one: advice, not a route.
    # The item stays in the queue with its deadline (a misread complaint must still be answered) and the
    # safeguarding leads are told at once to look at it.
    worry: str = ""

    @property
    def may_be_disclosure(self) -> bool:
        return self.category == DISCLOSURE

    @property
    def harms(self) -> frozenset[str]:
        return frozenset(f.category for f in self.findings if f.category in harms.LABELS)


def screen_incoming(
    text: str, *, roster: Roster, rules: ScreeningRules | None = None, semantic: bool = True
) -> Incoming:
    """Findings for `text`, the suggested category, and what the policy says the harms found do.

    Suggested, most serious first:
    1. signs of a disclosure, or that someone may harm themselves → a possible safeguarding matter (the DSL);
    2. a threat, hate, sexual content or offensive language → abuse;
    3. spam; a press enquiry; a complaint; a question;
    4. a bare thank-you, praise or emoji → needs no answer; anything else is a comment.
    Pupil names and personal data are findings on any of them (the reason to hide or remove a comment). The item
    goes to the DSL when it is a possible safeguarding matter or holds a kind the policy sends there, and is hidden
    as it arrives when it holds a kind the policy hides.
    `semantic`: where the phrase cues find neither a worry nor abuse, ask the sentence-embedding model whether the
    text reads like a worry (semantic.py: it catches wordings the cues were not written for, ~10 ms a text); what
    it finds is `worry` (a finding and a reason), for the safeguarding leads to look at, not an automatic route.
    """
    rules = rules or ScreeningRules()
    findings = tuple(screen(text, roster=roster, rules=rules, incoming=True))
    found = {f.category for f in findings}
    policy = {"to_dsl": bool(found & rules.dsl_harms), "hide": bool(found & rules.hidden_harms)}
    # Not over abuse: short hostile comments ("piss off") sit near the prototypes, and an abusive comment is read
    # by a person anyway, who passes it to the DSL from the item page if it is a worry.
    worry = []
    if semantic and not found & (harms.SAFEGUARDING | harms.ABUSIVE):
        worry = _semantic_finding(text, rules)
        policy["worry"] = worry[0].message if worry else ""
    first = {}
    for finding in findings:
        first.setdefault(finding.category, finding)
    reasons = [
        f"{harms.MESSAGES[kind][:-1]}: “{first[kind].text}”."
        for kind in (harms.SELF_HARM, harms.DISCLOSURE)
        if kind in first
    ]
    if reasons:
        return Incoming(DISCLOSURE, tuple(reasons), findings, to_dsl=True, hide=policy["hide"])
    findings += tuple(worry)
    reasons += [f.message for f in worry]
    abusive = [f for f in findings if f.category in harms.ABUSIVE]
    if abusive:
        reasons.extend(f.message for f in abusive)
        return Incoming(ABUSE, tuple(dict.fromkeys(reasons)), findings, **policy)
    for pattern, category, reason in (
        (SPAM_PATTERN, "spam", "Looks like spam."),
        (PRESS_PATTERN, "press", "Looks like a press enquiry."),
        (COMPLAINT_PATTERN, "complaint", "Looks like a complaint."),
        (QUESTION_PATTERN, "query", "Asks a question."),
    ):
        if pattern.search(text):
            return Incoming(category, (*reasons, reason), findings, **policy)
    stripped = text.strip()
    if not worry and (not stripped or _EMOJI_ONLY.match(stripped) or THANKS_PATTERN.match(stripped)):
        return Incoming("no_answer", ("A thank-you, praise or a reaction.",), findings, **policy)
    return Incoming("comment", tuple(reasons), findings, **policy)


def _semantic_finding(text: str, rules: ScreeningRules) -> list[Finding]:
    """A possible disclosure or words of self-harm the model sees, as a finding over the whole text; nothing if the
    model cannot run (logged: the phrase cues still stand, and a person can pass any item to the DSL)."""
    try:
        from schoolgate.screening import semantic

        concern = semantic.similar_concern(text, threshold=semantic.MARGIN_WITH_CUES)
    except Exception:  # the model is a second line; a broken install must not stop comments arriving
        logger.exception("the semantic disclosure screen could not run")
        return []
    if concern is None:
        return []
    what = "a possible disclosure" if concern.kind == harms.DISCLOSURE else "words of self-harm"
    # Advice for the safeguarding leads to read, whatever the policy says a disclosure found by a phrase does.
    return [
        Finding(
            category=POSSIBLE_WORRY,
            start=0,
            end=len(text),
            text=text,
            severity="advisory",
            clause=INCOMING_CLAUSES[concern.kind],
            message=f"Reads like {what} (nearest example from safeguarding guidance: “{concern.nearest_prototype}”).",
            score=round(concern.score, 3),
        )
    ]
