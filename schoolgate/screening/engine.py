"""Screens one text against a school's roster and rules, returning findings that cite the policy clause."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from schoolgate.screening import detectors, harms, offensive
from schoolgate.screening.roster import FORENAME, FULL, HASHTAG, INITIAL, SURNAME, NameMatch, PupilName, Roster

Severity = Literal["blocking", "advisory"]
BLOCKING: Severity = "blocking"
ADVISORY: Severity = "advisory"

# The clause each category enforces (shared/policy-clauses.md).
CLAUSES = {
    "pupil_name": "AW-PUB-2",
    "phone": "AW-PUB-2",
    "email": "AW-PUB-2",
    "postcode": "AW-PUB-2",
    "street_address": "AW-PUB-2",
    "date_of_birth": "AW-PUB-2",
    **dict.fromkeys(harms.HARMS, "AW-PUB-2"),
    "location": "AW-IMG-2",
    "commercial": "RS-PUB-2",
}
# On what reaches the school's accounts, abuse is handled under RS-ABU-1 and a safeguarding matter goes to the DSL.
INCOMING_CLAUSES = {
    **CLAUSES,
    **dict.fromkeys(harms.ABUSIVE, "RS-ABU-1"),
    **dict.fromkeys(harms.SAFEGUARDING, "AW-CON-1"),
}
PERSONAL_DATA = frozenset({"phone", "email", "postcode", "street_address", "date_of_birth"})

# Naming rule values, as stored in PolicySettings.pupil_naming_rule (PupilNamingRule).
NO_NAMES = "no_names"
FIRST_NAMES_ONLY = "first_names_only"
NO_NAMES_WITH_PHOTOS = "no_names_with_photos"
FULL_NAMES_WITH_CONSENT = "full_names_with_consent"
FIRST_NAME_AND_INITIAL = "first_name_and_initial"

__all__ = ["Finding", "PupilName", "Roster", "ScreeningRules", "screen"]


@dataclass(frozen=True)
class Finding:
    category: str
    start: int
    end: int
    text: str
    severity: Severity
    clause: str
    message: str
    score: float | None = None

    @property
    def is_blocking(self) -> bool:
        return self.severity == BLOCKING

    @property
    def label(self) -> str:
        return harms.LABELS.get(self.category, self.category.replace("_", " ").capitalize())

    def as_dict(self) -> dict:
        return {
            "category": self.category,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "severity": self.severity,
            "clause": self.clause,
            "message": self.message,
            "score": self.score,
            "label": self.label,
        }


@dataclass(frozen=True)
class ScreeningRules:
    """Which kinds of finding block approval and which only advise, the school's pupil-naming rule, and what each
    kind of harm does to a comment that reaches the school's accounts (hidden as it arrives, sent to the DSL)."""

    naming_rule: str = FIRST_NAMES_ONLY
    personal_data: Severity = BLOCKING
    blocking_harms: frozenset[str] = frozenset(harms.DEFAULT_BLOCKING)
    hidden_harms: frozenset[str] = frozenset(harms.DEFAULT_HIDDEN)
    dsl_harms: frozenset[str] = frozenset(harms.DEFAULT_TO_DSL)
    location: Severity = ADVISORY
    commercial: Severity = ADVISORY
    # Addresses at the school's own domains are its published contacts: advisory, not blocking.
    own_email_domains: frozenset[str] = field(default_factory=frozenset)
    offensive_threshold: float | None = None  # None: the shipped model's own threshold

    @classmethod
    def from_policy(cls, policy_settings, *, own_email_domains=()) -> ScreeningRules:
        return cls(
            naming_rule=policy_settings.pupil_naming_rule,
            blocking_harms=frozenset(policy_settings.harms_blocking_posts),
            hidden_harms=frozenset(policy_settings.harms_hidden_on_arrival),
            dsl_harms=frozenset(policy_settings.harms_to_dsl) | harms.ALWAYS_TO_DSL,
            own_email_domains=frozenset(d.lower().lstrip("@") for d in own_email_domains),
        )

    def severity_of(self, category: str) -> Severity:
        if category in PERSONAL_DATA:
            return self.personal_data
        if category in harms.LABELS:
            return BLOCKING if category in self.blocking_harms else ADVISORY
        return getattr(self, category)


def screen(
    text: str,
    *,
    roster: Roster,
    rules: ScreeningRules | None = None,
    has_images: bool = False,
    model: offensive.OffensiveModel | None = None,
    incoming: bool = False,
) -> list[Finding]:
    """Every finding in `text`, in text order.

    1. Pupil names from the roster, judged by the naming rule (and whether the post carries images).
    2. Personal data, location leaks and commercial promotion from the pattern detectors.
    3. Each kind of harm from its curated list (threats, hate, abuse, sexual content, self-harm, a possible
       disclosure), read on normalised text; then the shipped model's score, reported once for the whole text
       when it passes the threshold and no list found abuse (its span is the word that weighs most).
    `incoming`: the text reached the school's accounts, so a harm cites the clause of handling abuse or of
    passing a worry to the DSL rather than the clause of what a post may say.
    """
    rules = rules or ScreeningRules()
    findings: list[Finding] = []
    clauses = INCOMING_CLAUSES if incoming else CLAUSES

    def add(category: str, start: int, end: int, message: str, severity: Severity | None = None, score=None):
        findings.append(
            Finding(
                category=category,
                start=start,
                end=end,
                text=text[start:end],
                severity=severity or rules.severity_of(category),
                clause=clauses[category],
                message=message,
                score=score,
            )
        )

    for match in roster.find(text):
        verdict = judge_name(match, naming_rule=rules.naming_rule, has_images=has_images)
        if verdict:
            add("pupil_name", match.start, match.end, verdict[1], verdict[0])

    for hit in detectors.find_personal_data(text):
        severity = ADVISORY if hit.hint_only else None
        if hit.category == "email" and rules.own_email_domains:
            domain = text[hit.start : hit.end].rsplit("@", 1)[-1].lower()
            if any(domain == d or domain.endswith("." + d) for d in rules.own_email_domains):
                severity = ADVISORY
                hit = detectors.Hit(hit.category, hit.start, hit.end, "An address at the school's own domain.")
        add(hit.category, hit.start, hit.end, hit.message, severity)
    for hit in detectors.find_location_leaks(text):
        add(hit.category, hit.start, hit.end, hit.message)
    for hit in detectors.find_commercial(text):
        add(hit.category, hit.start, hit.end, hit.message)

    flagged = False
    for harm, start, end, message in harms.find(text):
        flagged = flagged or harm in harms.ABUSIVE
        add(harm, start, end, message, score=1.0)
    model = model or offensive.shipped_model()
    score = model.score(text)
    threshold = rules.offensive_threshold if rules.offensive_threshold is not None else model.threshold
    if score >= threshold and not flagged:
        span = model.strongest_word(text) or (0, len(text))
        add("offensive", span[0], span[1], "The offensive-language model scores this text high.", score=round(score, 3))

    findings = _drop_duplicates(findings)
    findings.sort(key=lambda f: (f.start, f.end, f.category))
    return findings


def judge_name(match: NameMatch, *, naming_rule: str, has_images: bool) -> tuple[Severity, str] | None:
    """(severity, message) for one name mention under the school's rule, or None when the rule allows it."""
    count = len(match.pupil_ids)
    who = "a pupil" if count == 1 else f"{count} pupils"
    identifying = match.kind in (FULL, INITIAL, HASHTAG, SURNAME)
    described = {
        FULL: "full name",
        INITIAL: "first name and surname initial",
        HASHTAG: "name written as a hashtag or handle",
        SURNAME: "surname",
        FORENAME: "first name",
    }[match.kind]
    if naming_rule == NO_NAMES:
        return BLOCKING, f"Names {who} ({described}); the policy allows no pupil names."
    if naming_rule == FULL_NAMES_WITH_CONSENT:
        return ADVISORY, f"Names {who} ({described}); check a parent has consented to naming."
    if naming_rule == NO_NAMES_WITH_PHOTOS and has_images:
        return BLOCKING, f"Names {who} ({described}) in a post with images; the policy forbids that."
    if naming_rule == FIRST_NAME_AND_INITIAL and match.kind == INITIAL:
        return None
    # first_names_only, first_name_and_initial (beyond an initial), and no_names_with_photos without images
    if identifying:
        allowed = "a first name and initial" if naming_rule == FIRST_NAME_AND_INITIAL else "first names only"
        return BLOCKING, f"Names {who} ({described}); the policy allows {allowed}."
    if match.also_surname:
        return ADVISORY, f"Matches {who}; it is also a pupil's surname, so check it is used as a first name."
    return None


def _drop_duplicates(findings: list[Finding]) -> list[Finding]:
    """Two patterns of one category over the same words count once (the longer span is kept)."""
    kept: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (f.category, f.start, -(f.end - f.start))):
        previous = kept[-1] if kept else None
        if previous and previous.category == finding.category and finding.start < previous.end:
            continue
        kept.append(finding)
    return kept
