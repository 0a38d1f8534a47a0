"""Policy settings written out as the readable rules printed in the policy document, and which of them
Schoolgate enforces (and where) versus only records until the part of the product that checks them exists."""

from __future__ import annotations

from dataclasses import dataclass

from schoolgate.policy.models import DraftingTraining, Harm, PupilPhotos
from schoolgate.schools.roles import Role


@dataclass(frozen=True)
class SettingRule:
    """How one policy setting is presented: its label for people and where Schoolgate checks it."""

    label: str
    # Where the product reads the setting and changes what happens; empty means recorded only (printed in the
    # policy so people follow it, but nothing in Schoolgate checks it yet). `test_settings_enforcement` keeps
    # this honest: every enforced setting has a behaviour test.
    enforced_where: str = ""

    @property
    def enforced(self) -> bool:
        return bool(self.enforced_where)


# The one table the document, the settings form and the policy pages read. Every PolicySettings field is here.
SETTING_RULES: dict[str, SettingRule] = {
    "account_approver_role": SettingRule(
        "Who approves new official accounts", "checked when an account proposal is approved or refused"
    ),
    "final_post_approver_role": SettingRule(
        "Who gives every post final approval", "checked when a post is given final approval"
    ),
    "final_approver_deputy_role": SettingRule(
        "Who gives final approval when that person is away or wrote the post",
        "checked when a post is given final approval",
    ),
    "required_reviewers": SettingRule(
        "Colleague reviews required per post", "checked before a post can be approved and go out"
    ),
    "approver_may_also_review": SettingRule(
        "The final approver may also count as a colleague reviewer",
        "checked when a colleague reviews a post and at final approval",
    ),
    "reply_deadline_hours": SettingRule(
        "Answer comments, queries and complaints within … hours",
        "sets the reply deadline of every inbox item that needs an answer",
    ),
    "takedown_deadline_hours": SettingRule(
        "Take posts down within … hours of consent being withdrawn", "sets the deadline of every take-down"
    ),
    "clock_pauses_weekends": SettingRule(
        "Weekends stop the reply clock", "sets the reply deadline of every inbox item that needs an answer"
    ),
    "clock_pauses_bank_holidays": SettingRule(
        "Bank holidays stop the reply clock", "sets the reply deadline of every inbox item that needs an answer"
    ),
    "clock_pauses_closures": SettingRule(
        "School closures stop the reply clock", "sets the reply deadline of every inbox item that needs an answer"
    ),
    "bank_holiday_nation": SettingRule(
        "Whose bank holidays count",
        "decides which bank holidays stop the reply clock and the working-day clocks on safeguarding concerns",
    ),
    "pupil_naming_rule": SettingRule("Naming pupils in public posts", "checked when every post is screened"),
    "comments_default": SettingRule(
        "Comments on official accounts by default",
        "“moderated” holds every reply on the school's accounts for approval on arrival",
    ),
    "account_password_max_age_days": SettingRule(
        "Change official account passwords at least every … days",
        "shown on each account's security checklist, which turns red when a password is older",
    ),
    "private_messages_forbidden": SettingRule(
        "Private messages to pupils, parents and carers are forbidden",
        "refuses, and logs, a private reply to anyone the inbox knows as a pupil, parent or carer",
    ),
    "pupil_photos": SettingRule(
        "Photos of pupils", "checked for every photo of a post before review, approval and publishing"
    ),
    "training_before_drafting": SettingRule(
        "Training needed before drafting a post",
        "checked from the training records when a post is drafted or sent for review",
    ),
    "harms_blocking_posts": SettingRule(
        "Kinds of harm that stop a post's approval", "checked when every post is screened"
    ),
    "harms_hidden_on_arrival": SettingRule(
        "Kinds of harm that hide a comment as it arrives",
        "a comment on the school's accounts with one of these is hidden as it arrives and waits for approval",
    ),
    "harms_to_dsl": SettingRule(
        "Kinds of harm sent straight to the DSL",
        "a comment on the school's accounts with one of these is passed to the DSL as a concern and hidden",
    ),
}


def enforced_setting_names() -> set[str]:
    return {name for name, rule in SETTING_RULES.items() if rule.enforced}


def _role(value: str) -> str:
    return Role(value).label.lower().replace("dsl", "DSL") if value else ""


def _kinds(values) -> str:
    labels = [Harm(v).label.lower() for v in Harm.values if v in (values or [])]
    return ", ".join(labels[:-1]) + (" or " if len(labels) > 1 else "") + (labels[-1] if labels else "")


def _harm_sentences(policy) -> list[tuple[str, tuple[str, ...]]]:
    sentences = []
    if policy.harms_blocking_posts:
        sentences.append(
            (
                f"A post is not approved while the screening finds {_kinds(policy.harms_blocking_posts)} in it.",
                ("harms_blocking_posts",),
            )
        )
    if policy.harms_hidden_on_arrival:
        sentences.append(
            (
                f"A comment on our accounts containing {_kinds(policy.harms_hidden_on_arrival)} is hidden as it "
                "arrives, where the network allows, until a member of staff has read it.",
                ("harms_hidden_on_arrival",),
            )
        )
    sentences.append(
        (
            f"A comment on our accounts containing {_kinds(policy.harms_to_dsl)} is passed straight to the "
            "Designated Safeguarding Lead.",
            ("harms_to_dsl",),
        )
    )
    return sentences


def _sentences(policy) -> list[tuple[str, tuple[str, ...]]]:
    """Each rule sentence with the settings it states (a sentence is enforced only if all of them are)."""
    sentences = [
        (
            f"New official social media accounts are approved by the {_role(policy.account_approver_role)} "
            "before they are created or used, registered with a school email address, protected with two-factor "
            f"authentication, and their passwords changed at least every {policy.account_password_max_age_days} "
            "days.",
            ("account_approver_role", "account_password_max_age_days"),
        )
    ]
    reviewers = policy.required_reviewers
    if reviewers:
        colleagues = "one colleague" if reviewers == 1 else f"{reviewers} colleagues"
        sentences.append(
            (
                f"Every public post is read and agreed by at least {colleagues} other than its author.",
                ("required_reviewers",),
            )
        )
    if policy.final_post_approver_role:
        rule = f"The {_role(policy.final_post_approver_role)} approves every post before it goes live"
        if policy.final_approver_deputy_role:
            rule += (
                f"; the {_role(policy.final_approver_deputy_role)} does so when the "
                f"{_role(policy.final_post_approver_role)} is away or wrote the post"
            )
        sentences.append((rule + ".", ("final_post_approver_role", "final_approver_deputy_role")))
        if reviewers and not policy.approver_may_also_review:
            sentences.append(
                (
                    "Whoever gives a post final approval is not also one of its colleague reviewers.",
                    ("approver_may_also_review",),
                )
            )
    sentences.append(("Nobody approves their own post.", ()))

    pauses = [
        label
        for flag, label in [
            (policy.clock_pauses_weekends, "weekends"),
            (policy.clock_pauses_bank_holidays, f"bank holidays in {policy.get_bank_holiday_nation_display()}"),
            (policy.clock_pauses_closures, "days the school is closed"),
        ]
        if flag
    ]
    rule = (
        f"Comments, queries and complaints on our accounts are answered within {policy.reply_deadline_hours} "
        "hours, even if only to acknowledge them"
    )
    if pauses:
        rule += "; " + ", ".join(pauses[:-1]) + (" and " if len(pauses) > 1 else "") + pauses[-1]
        rule += " do not count, so a message received then is answered on the next working day"
    sentences.append(
        (
            rule + ".",
            (
                "reply_deadline_hours",
                "clock_pauses_weekends",
                "clock_pauses_bank_holidays",
                "clock_pauses_closures",
                "bank_holiday_nation",
            ),
        )
    )
    sentences.append(
        (f"Naming pupils in public posts: {policy.get_pupil_naming_rule_display().lower()}.", ("pupil_naming_rule",))
    )
    sentences.append(
        (
            "When a parent or carer withdraws consent, every post showing their child is removed from our accounts "
            f"and our news page within {policy.takedown_deadline_hours} hours.",
            ("takedown_deadline_hours",),
        )
    )
    sentences.append(
        (
            f"Comments on official accounts are {policy.get_comments_default_display().lower()} by default.",
            ("comments_default",),
        )
    )
    if policy.private_messages_forbidden:
        sentences.append(
            (
                "Official accounts never send direct or private messages to pupils, parents or carers.",
                ("private_messages_forbidden",),
            )
        )
    if policy.pupil_photos == PupilPhotos.NONE:
        sentences.append(
            (
                "We publish no photos in which a pupil can be recognised: their faces are blurred before a photo "
                "is used.",
                ("pupil_photos",),
            )
        )
    if policy.training_before_drafting != DraftingTraining.NONE:
        need = {
            DraftingTraining.INDUCTION: "has completed their induction training",
            DraftingTraining.UP_TO_DATE: "is up to date with every training course the school requires of them",
        }[policy.training_before_drafting]
        sentences.append(
            (f"Only a member of staff who {need} drafts posts for our accounts.", ("training_before_drafting",))
        )
    sentences.extend(_harm_sentences(policy))
    return sentences


def describe_settings_by_enforcement(policy) -> tuple[list[str], list[str]]:
    """The rule sentences split into (enforced by Schoolgate, recorded only)."""
    enforced, recorded = [], []
    for sentence, fields in _sentences(policy):
        (enforced if all(SETTING_RULES[f].enforced for f in fields) else recorded).append(sentence)
    return enforced, recorded


def describe_settings(policy) -> list[str]:
    """Every rule sentence, enforced ones first."""
    enforced, recorded = describe_settings_by_enforcement(policy)
    return enforced + recorded
