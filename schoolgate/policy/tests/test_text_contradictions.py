"""Warnings when a policy's wording contradicts its settings, shown on the draft's page to its drafters and
approvers — and silent on the two real school policies with the settings that match them."""

from __future__ import annotations

from pathlib import Path

import pytest

from schoolgate.policy.actions import start_new_version
from schoolgate.policy.consistency import contradictions
from schoolgate.policy.models import PolicySettings
from schoolgate.schools.demo_data import DEMO_DIR, SCHOOLS
from schoolgate.schools.roles import Role
from schoolgate.testing import make_school

SEEDS = Path(__file__).resolve().parents[3].parent / "shared" / "seeds"
DEMO = {school["slug"]: school for school in SCHOOLS}


def settings(**values) -> PolicySettings:
    return PolicySettings(**values)


def seed_cases():
    cases = [(slug, (DEMO_DIR / school["policy_file"]).read_text()) for slug, school in DEMO.items()]
    # The shared seeds are the same two policies as first received (Applebee Wood, then The Raleigh School).
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text()
        cases.append(("raleigh" if "Raleigh" in text[:200] else "applebee-wood", text))
    return cases


@pytest.mark.parametrize(("slug", "text"), seed_cases(), ids=lambda v: v if len(v) < 40 else "text")
def test_it_finds_nothing_wrong_with_the_real_policies_and_their_settings(slug, text):
    assert contradictions(text, settings(**DEMO[slug]["settings"])) == []


def test_it_covers_both_shared_seed_policies():
    assert len(list(SEEDS.glob("*.txt"))) >= 2
    assert {slug for slug, _ in seed_cases()} == {"applebee-wood", "raleigh"}


RALEIGH = (DEMO_DIR / DEMO["raleigh"]["policy_file"]).read_text()
APPLEBEE = (DEMO_DIR / DEMO["applebee-wood"]["policy_file"]).read_text()


def test_it_warns_when_the_text_gives_another_reply_deadline():
    text = RALEIGH.replace("within 24 hours", "within 48 hours")

    assert contradictions(text, settings(**DEMO["raleigh"]["settings"])) == [
        "The text says messages are answered within 48 hours, but the reply deadline setting is 24 hours."
    ]
    assert contradictions(text, settings(**{**DEMO["raleigh"]["settings"], "reply_deadline_hours": 48})) == []
    assert contradictions("We reply to all messages within two days.", settings(reply_deadline_hours=24)) == [
        "The text says messages are answered within two days, but the reply deadline setting is 24 hours."
    ]


def test_it_warns_when_the_text_names_another_post_approver():
    raleigh = DEMO["raleigh"]["settings"]

    assert contradictions(RALEIGH, settings(**{**raleigh, "final_post_approver_role": Role.CHAIR_OF_GOVERNORS})) == [
        "The text says the headteacher approves every post, but the settings name the chair of governors."
    ]
    assert contradictions(
        RALEIGH, settings(**{**raleigh, "final_post_approver_role": "", "final_approver_deputy_role": ""})
    ) == ["The text says the headteacher approves every post, but the settings name no final approver."]
    # The deputy standing in for the named approver is not a contradiction.
    assert contradictions("The deputy headteacher approves all posts.", settings(**raleigh)) == []
    # A role heading further up the list does not carry over to another role's items.
    assert contradictions("- Headteacher\n - Leads training\n- Staff\n - Approve all posts", settings(**raleigh)) == []


def test_it_warns_when_the_text_names_another_account_approver():
    assert contradictions(RALEIGH, settings(**{**DEMO["raleigh"]["settings"], "account_approver_role": "dsl"})) == [
        "The text says the headteacher approves new accounts, but the settings name the designated safeguarding lead."
    ]


def test_it_warns_when_the_text_turns_comments_off_but_the_setting_leaves_them_open():
    text = APPLEBEE + "\n\nComments are turned off on all official accounts."

    assert contradictions(text, settings(**{**DEMO["applebee-wood"]["settings"], "comments_default": "open"})) == [
        "The text says comments are turned off, but the setting for comments is “Open (monitored)”."
    ]
    assert contradictions(text, settings(**{**DEMO["applebee-wood"]["settings"], "comments_default": "off"})) == []


def test_it_warns_when_the_text_promises_answers_to_comments_but_the_setting_turns_them_off():
    assert contradictions(RALEIGH, settings(**{**DEMO["raleigh"]["settings"], "comments_default": "off"})) == [
        "The text promises answers to comments, but the setting turns comments off."
    ]


def test_it_warns_about_private_messages_weekends_and_take_downs():
    applebee = DEMO["applebee-wood"]["settings"]
    assert contradictions(APPLEBEE, settings(**{**applebee, "private_messages_forbidden": False})) == [
        "The text forbids private messages to families, but the setting does not."
    ]
    assert contradictions(RALEIGH, settings(**{**DEMO["raleigh"]["settings"], "clock_pauses_weekends": False})) == [
        "The text says weekends do not count towards the reply deadline, but the setting says they do."
    ]
    text = "If consent is withdrawn, posts are taken down within 48 hours."
    assert contradictions(text, settings(takedown_deadline_hours=24)) == [
        "The text says posts come down within 48 hours of consent being withdrawn, but the take-down setting is "
        "24 hours."
    ]
    assert contradictions(text, settings(takedown_deadline_hours=48)) == []


@pytest.fixture
def draft(db):
    cast = make_school(settings={"reply_deadline_hours": 24})
    draft = start_new_version(cast.policy.document, by=cast.head)
    draft.text = "We answer every comment within 48 hours."
    draft.save(update_fields=["text"])
    return cast, draft


@pytest.mark.parametrize(("person", "sees"), [("head", True), ("leader", True), ("chair", True), ("alice", False)])
def test_it_shows_the_warnings_on_the_drafts_page_to_drafters_and_approvers(client, draft, person, sees):
    cast, version = draft
    client.force_login(getattr(cast, person))

    html = client.get(f"/s/{cast.school.slug}/policy/v/{version.pk}/").content.decode()

    warning = "The text says messages are answered within 48 hours, but the reply deadline setting is 24 hours."
    assert (warning in html) is sees
    assert ("The wording and the settings disagree" in html) is sees
