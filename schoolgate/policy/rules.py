"""Policy settings written out as the readable rules printed in the policy document."""

from __future__ import annotations

from schoolgate.schools.roles import Role


def _role(value: str) -> str:
    return Role(value).label.lower().replace("dsl", "DSL") if value else ""


def describe_settings(policy) -> list[str]:
    rules = [
        f"New official social media accounts are approved by the {_role(policy.account_approver_role)} "
        "before they are created or used, registered with a school email address, protected with two-factor "
        f"authentication, and their passwords changed at least every {policy.account_password_max_age_days} days."
    ]
    reviewers = policy.required_reviewers
    if reviewers:
        colleagues = "one colleague" if reviewers == 1 else f"{reviewers} colleagues"
        rules.append(f"Every public post is read and agreed by at least {colleagues} other than its author.")
    if policy.final_post_approver_role:
        rule = f"The {_role(policy.final_post_approver_role)} approves every post before it goes live"
        if policy.final_approver_deputy_role:
            rule += (
                f"; the {_role(policy.final_approver_deputy_role)} does so when the "
                f"{_role(policy.final_post_approver_role)} is away or wrote the post"
            )
        rules.append(rule + ".")
    rules.append("Nobody approves their own post.")

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
    rules.append(rule + ".")
    rules.append(f"Naming pupils in public posts: {policy.get_pupil_naming_rule_display().lower()}.")
    rules.append(
        "When a parent or carer withdraws consent, every post showing their child is removed from our accounts "
        f"and our news page within {policy.takedown_deadline_hours} hours."
    )
    rules.append(f"Comments on official accounts are {policy.get_comments_default_display().lower()} by default.")
    if policy.private_messages_forbidden:
        rules.append("Official accounts never send direct or private messages to pupils, parents or carers.")
    return rules
