"""The personal-account privacy self-check: what each member of staff checks, and the advice for each item."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class Answer(models.TextChoices):
    YES = "yes", "Done"
    NOT_YET = "not_yet", "Not yet"
    NOT_APPLICABLE = "not_applicable", "Does not apply to me"


@dataclass(frozen=True)
class Item:
    key: str
    question: str
    advice: str
    factsheet: str  # the title of the starter factsheet with more (policy/guidance.py)


# The advice both policies give staff about their own accounts, as things a person can check they have done.
ITEMS: list[Item] = [
    Item(
        "privacy_settings",
        "I have reviewed the privacy settings of each of my personal accounts, so only people I choose see my posts, "
        "photos and friends.",
        "Set posts, photos and your friends list to friends only, and review posts you are tagged in.",
        "Privacy settings on your personal accounts",
    ),
    Item(
        "location_sharing",
        "Location sharing is off (or limited to people I trust) in my apps and my phone's camera.",
        "Turn off location in social apps and camera tags, and do not check in from school or home.",
        "Location sharing",
    ),
    Item(
        "public_listing",
        "My personal profiles do not publicly list me as working at the school, or say my views are my own where "
        "they do; I have opted out of public listings.",
        "Leave the employer field empty, or add a disclaimer where a profile names the school.",
        "Public listings: saying where you work",
    ),
    Item(
        "logging_out",
        "I log out of my accounts after using a shared or school device.",
        "Closing the browser is not enough: log out, and never tick “remember me” on a shared device.",
        "Logging out after use",
    ),
    Item(
        "passwords",
        "My personal accounts have strong passwords I use nowhere else and share with nobody, with two-step "
        "verification where it is offered.",
        "Use a password manager and turn on two-step verification.",
        "Passwords and two-step verification",
    ),
    Item(
        "personal_views",
        "I do not present my personal views as the school's.",
        "Only the school's official accounts speak for it; say that your views are your own.",
        "Your personal views are not the school's",
    ),
]
ITEM_KEYS = [item.key for item in ITEMS]
