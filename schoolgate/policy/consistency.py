"""Warnings when a policy's own wording contradicts its settings (the text says 48 hours, the setting says 24).

Deliberately a small set of plain pattern checks: each looks for one kind of statement people write in school
policies and compares it with the setting it restates. A check that finds nothing it understands says nothing,
so an unusual wording can be missed but is never reported wrongly on the schools' real policies (see the tests).
"""

from __future__ import annotations

import re

from schoolgate.policy.models import CommentsDefault
from schoolgate.schools.roles import Role

NUMBER_WORDS = {
    "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "twelve": 12, "twenty-four": 24, "forty-eight": 48, "seventy-two": 72,
}  # fmt: skip
WITHIN = re.compile(
    r"\bwithin\s+(?P<n>\d+|" + "|".join(NUMBER_WORDS) + r")\s+(?:(?P<working>working|school)\s+)?"
    r"(?P<unit>hours?|hrs?|days?)\b",
    re.IGNORECASE,
)
REPLY_WORDS = re.compile(r"\b(respond\w*|response|repl(?:y|ies|ied)|answer\w*|acknowledg\w*)\b", re.IGNORECASE)
TAKEDOWN_WORDS = re.compile(r"\bconsent\b.*\bwithdraw|\bwithdraw\w*\b.*\bconsent\b", re.IGNORECASE)
# Longer names first, so "deputy headteacher" is not read as "headteacher".
ROLE_NAMES = [
    (re.compile(r"\bdeputy\s+head(?:\s?teacher)?\b|\b(?:senior\s+)?leadership\s+team\b", re.I), Role.LEADERSHIP),
    (re.compile(r"\bdeputy\s+(?:DSL|designated\s+safeguarding\s+lead)\b", re.I), Role.DEPUTY_DSL),
    (re.compile(r"\bchair\s+of\s+(?:the\s+)?governors\b", re.I), Role.CHAIR_OF_GOVERNORS),
    (re.compile(r"\bhead\s?teacher\b|\bhead(?:master|mistress)\b|\bprincipal\b", re.I), Role.HEADTEACHER),
    (re.compile(r"\bDSL\b|\bdesignated\s+safeguarding\s+lead\b", re.I), Role.DSL),
]
APPROVES_POSTS = re.compile(
    r"\bapprov\w*\s+(?:all|every|each)\s+(?:public\s+|social\s+media\s+)?(?:posts?|updates?|content)\b"
    r"|\b(?:posts?|updates?)\b[^.\n]{0,40}\bapproved\s+by\b",
    re.IGNORECASE,
)
APPROVES_ACCOUNTS = re.compile(
    r"\bapprov\w*\s+(?:the\s+)?(?:new\s+)?account\s+creation\b"
    r"|\baccounts?\b[^.\n]{0,60}\bapproved\s+by\b",
    re.IGNORECASE,
)
COMMENTS_OFF = re.compile(
    r"\bcomments?\b[^.\n]{0,30}\b(?:turned\s+off|switched\s+off|disabled|closed|not\s+(?:allowed|permitted|enabled))\b",
    re.IGNORECASE,
)
NO_PRIVATE_MESSAGES = re.compile(r"\b(?:no|not|never|nor)\b[^.\n]{0,40}\b(?:direct|private)\s+messag\w*", re.IGNORECASE)
BULLET = re.compile(r"^\s*(?:[-*•]|o\b|\d+[.)])\s*")


def _sentences(text: str) -> list[str]:
    # Lines first (policies are mostly lists), then sentences within a line.
    return [s for line in text.splitlines() for s in re.split(r"(?<=[.!?])\s+", line) if s.strip()]


def _hours(match: re.Match) -> tuple[int, str]:
    raw = match["n"].lower()
    n = int(raw) if raw.isdigit() else NUMBER_WORDS[raw]
    unit = match["unit"].lower()
    if unit.startswith("h"):
        return n, f"{n} hour{'s' if n != 1 else ''}"
    return n * 24, match.group(0)[len("within ") :]


def _role_in(text: str) -> str | None:
    for pattern, role in ROLE_NAMES:
        if pattern.search(text):
            return role
    return None


def _role_for_line(lines: list[str], index: int) -> str | None:
    """The role a line names, or the role heading of the list it sits in (\"- Headteacher\" then sub-items)."""
    role = _role_in(lines[index])
    if role:
        return role
    indent = len(lines[index]) - len(lines[index].lstrip())
    for previous in reversed(lines[max(0, index - 12) : index]):
        if not previous.strip():
            return None  # a blank line ends the list
        if len(previous) - len(previous.lstrip()) < indent:
            # The first shallower line is the item this one sits under: a role heading or nothing.
            heading = BULLET.sub("", previous).strip()
            return _role_in(heading) if len(heading) < 40 else None
    return None


def _label(role: str) -> str:
    return Role(role).label.lower().replace("dsl", "DSL")


def contradictions(text: str, policy) -> list[str]:
    """Plain-English warnings where the policy text says something its settings do not."""
    warnings: list[str] = []
    seen: set[str] = set()

    def warn(message: str) -> None:
        if message not in seen:
            seen.add(message)
            warnings.append(message)

    for sentence in _sentences(text):
        if TAKEDOWN_WORDS.search(sentence):
            for match in WITHIN.finditer(sentence):
                hours, said = _hours(match)
                if hours != policy.takedown_deadline_hours and not match["working"]:
                    warn(
                        f"The text says posts come down within {said} of consent being withdrawn, but the "
                        f"take-down setting is {policy.takedown_deadline_hours} hours."
                    )
        elif REPLY_WORDS.search(sentence):
            for match in WITHIN.finditer(sentence):
                hours, said = _hours(match)
                if not match["working"] and hours != policy.reply_deadline_hours:
                    warn(
                        f"The text says messages are answered within {said}, but the reply deadline setting is "
                        f"{policy.reply_deadline_hours} hours."
                    )
            if (
                re.search(r"\bweekends?\b", sentence, re.I)
                and WITHIN.search(sentence)
                and not policy.clock_pauses_weekends
            ):
                warn("The text says weekends do not count towards the reply deadline, but the setting says they do.")
            if re.search(r"\bcomments?\b", sentence, re.I) and policy.comments_default == CommentsDefault.OFF:
                warn("The text promises answers to comments, but the setting turns comments off.")
        if COMMENTS_OFF.search(sentence) and policy.comments_default != CommentsDefault.OFF:
            warn(
                "The text says comments are turned off, but the setting for comments is "
                f"“{policy.get_comments_default_display()}”."
            )
        if NO_PRIVATE_MESSAGES.search(sentence) and not policy.private_messages_forbidden:
            warn("The text forbids private messages to families, but the setting does not.")

    lines = text.splitlines()
    for index, line in enumerate(lines):
        if APPROVES_POSTS.search(line):
            role = _role_for_line(lines, index)
            if role and not policy.final_post_approver_role:
                warn(f"The text says the {_label(role)} approves every post, but the settings name no final approver.")
            elif role and role not in (policy.final_post_approver_role, policy.final_approver_deputy_role):
                warn(
                    f"The text says the {_label(role)} approves every post, but the settings name the "
                    f"{_label(policy.final_post_approver_role)}."
                )
        if APPROVES_ACCOUNTS.search(line):
            role = _role_for_line(lines, index)
            if role and role != policy.account_approver_role:
                warn(
                    f"The text says the {_label(role)} approves new accounts, but the settings name the "
                    f"{_label(policy.account_approver_role)}."
                )
    return warnings
