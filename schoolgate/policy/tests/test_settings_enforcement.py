"""Which policy settings Schoolgate enforces and which it only records: one table, read by the document, the
settings form and the policy pages, and kept honest (every enforced setting has a behaviour test; no recorded
setting is quietly read by the product's code)."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone
from django.utils.html import escape

from schoolgate.official_accounts.models import AccountStatus, OfficialAccount
from schoolgate.policy.actions import SETTINGS_FIELDS, start_new_version
from schoolgate.policy.documents import render_document_html
from schoolgate.policy.forms import PolicySettingsForm
from schoolgate.policy.rules import SETTING_RULES, SettingRule, describe_settings_by_enforcement, enforced_setting_names
from schoolgate.testing import make_school

PACKAGE = Path(__file__).resolve().parents[2]
RECORDED_HEADING = "Rules this policy sets that Schoolgate records but does not yet check"

# For each enforced setting, the tests that prove the product behaves differently when it changes.
BEHAVIOUR_TESTS = {
    "account_approver_role": [
        "official_accounts/tests/test_proposals.py::test_it_follows_a_school_whose_policy_names_another_approver"
    ],
    "final_post_approver_role": [
        "posts/tests/test_review_chain.py::test_it_needs_the_headteachers_final_approval_where_the_policy_says_so"
    ],
    "final_approver_deputy_role": [
        "posts/tests/test_review_chain.py::test_it_lets_the_deputy_approve_when_the_headteacher_is_away_or_wrote_the_post"
    ],
    "required_reviewers": ["posts/tests/test_review_chain.py::test_it_waits_for_as_many_colleagues_as_the_policy_says"],
    "approver_may_also_review": [
        "posts/tests/test_review_chain.py::test_it_keeps_the_final_approver_out_of_the_colleague_reviews",
        "posts/tests/test_review_chain.py::test_it_lets_the_final_approver_also_review_where_the_policy_says_so",
    ],
    "takedown_deadline_hours": [
        "posts/tests/test_takedown.py::test_it_takes_a_post_off_the_news_page_at_once_and_off_bluesky_through_its_api"
    ],
    "bank_holiday_nation": [
        "concerns/tests/test_clocks.py::test_it_counts_the_bank_holidays_of_the_schools_nation",
        "inbox/tests/test_deadlines.py::test_it_counts_the_bank_holidays_of_the_schools_nation",
    ],
    "reply_deadline_hours": ["inbox/tests/test_deadlines.py::test_it_follows_what_the_policy_says_stops_the_clock"],
    "clock_pauses_weekends": ["inbox/tests/test_deadlines.py::test_it_follows_what_the_policy_says_stops_the_clock"],
    "clock_pauses_bank_holidays": [
        "inbox/tests/test_deadlines.py::test_it_follows_what_the_policy_says_stops_the_clock"
    ],
    "clock_pauses_closures": ["inbox/tests/test_deadlines.py::test_it_follows_what_the_policy_says_closures_stop"],
    "comments_default": [
        "inbox/tests/test_premoderation.py::test_it_holds_replies_where_the_policy_moderates_comments"
    ],
    "private_messages_forbidden": [
        "inbox/tests/test_replies.py::test_it_refuses_a_private_reply_to_a_known_parent_and_logs_the_attempt"
    ],
    "pupil_naming_rule": ["screening/tests/test_screen_command.py::test_it_follows_the_schools_naming_rule"],
    "pupil_photos": [
        "posts/tests/test_image_gate.py::test_it_refuses_any_photo_of_a_pupil_where_the_policy_allows_none"
    ],
    "training_before_drafting": [
        "posts/tests/test_training_prerequisite.py::"
        "test_it_lets_only_people_with_their_induction_draft_where_the_policy_says_so",
        "posts/tests/test_training_prerequisite.py::test_it_asks_for_every_course_up_to_date_where_the_policy_says_so",
    ],
    "harms_blocking_posts": [
        "posts/tests/test_harm_settings.py::test_it_stops_a_post_only_for_the_kinds_the_policy_says_block"
    ],
    "harms_hidden_on_arrival": ["inbox/tests/test_harm_settings.py::test_it_hides_only_the_kinds_the_policy_hides"],
    "harms_to_dsl": ["inbox/tests/test_harm_settings.py::test_it_sends_the_kinds_the_policy_names_straight_to_the_dsl"],
    "account_password_max_age_days": [
        "policy/tests/test_settings_enforcement.py::test_it_turns_the_checklist_red_after_the_policys_password_age"
    ],
}


def test_it_classifies_every_setting_once():
    assert set(SETTING_RULES) == set(SETTINGS_FIELDS)


def test_it_lists_as_enforced_only_the_settings_that_have_a_behaviour_test():
    # Adding a name here means writing the test that proves the product follows it; see BEHAVIOUR_TESTS.
    assert enforced_setting_names() == set(BEHAVIOUR_TESTS)
    assert enforced_setting_names() == {
        "account_approver_role",
        "final_post_approver_role",
        "final_approver_deputy_role",
        "required_reviewers",
        "approver_may_also_review",
        "takedown_deadline_hours",
        "bank_holiday_nation",
        "pupil_naming_rule",
        "account_password_max_age_days",
        "reply_deadline_hours",
        "clock_pauses_weekends",
        "clock_pauses_bank_holidays",
        "clock_pauses_closures",
        "comments_default",
        "private_messages_forbidden",
        "harms_blocking_posts",
        "harms_hidden_on_arrival",
        "harms_to_dsl",
        "training_before_drafting",
        "pupil_photos",
    }


@pytest.mark.parametrize(("name", "reference"), [(name, ref) for name, refs in BEHAVIOUR_TESTS.items() for ref in refs])
def test_it_has_a_behaviour_test_that_changes_each_enforced_setting(name, reference):
    path, function = reference.split("::")
    tree = ast.parse((PACKAGE / path).read_text())
    (test,) = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == function]
    source = ast.unparse(test)
    helpers = [  # a test may set the policy through a helper in its file (set_policy, two_reviews_and_the_head…)
        ast.unparse(node) for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in source
    ]
    assert name in source or any(name in helper and helper.split("(")[0][4:] in source for helper in helpers)
    assert "assert" in source or "raises" in source


def _product_sources() -> dict[Path, str]:
    skip = {"migrations", "tests"}
    return {
        path: path.read_text()
        for path in PACKAGE.rglob("*.py")
        if not skip & set(path.relative_to(PACKAGE).parts)
        and path.relative_to(PACKAGE).parts[0] != "policy"
        and path.name not in {"demo_data.py", "testing.py", "conftest.py"}
    }


def test_it_reads_each_enforced_setting_somewhere_outside_the_policy_app():
    sources = "\n".join(_product_sources().values())
    for name in enforced_setting_names():
        assert re.search(rf"\b{name}\b", sources), f"{name} is listed as enforced but no code reads it"


def test_it_notices_when_code_starts_reading_a_recorded_setting():
    # If the inbox starts enforcing the reply deadline, move it to enforced (with its test) in rules.py.
    for path, source in _product_sources().items():
        for name in set(SETTING_RULES) - enforced_setting_names():
            assert not re.search(rf"\b{name}\b", source), f"{path} reads {name}, which is listed as recorded only"


@pytest.fixture
def cast(db):
    return make_school(settings={"reply_deadline_hours": 24, "private_messages_forbidden": True})


@pytest.fixture
def one_rule_recorded(monkeypatch):
    """Every setting is enforced today; the recorded-only heading is kept for a school's next new setting, so these
    tests put one back to recorded-only."""
    label = SETTING_RULES["private_messages_forbidden"].label
    monkeypatch.setitem(SETTING_RULES, "private_messages_forbidden", SettingRule(label))


def test_it_prints_recorded_rules_under_their_own_heading_in_the_document(client, cast, one_rule_recorded):
    enforced, recorded = describe_settings_by_enforcement(cast.policy.settings)
    reply = "Official accounts never send direct or private messages to pupils, parents or carers."
    assert reply in recorded
    assert any(rule.startswith("Comments, queries and complaints") for rule in enforced)
    assert "Nobody approves their own post." in enforced
    assert not any("answered within" in rule for rule in recorded)

    html = client.get(f"/p/{cast.school.slug}/policy/").content.decode()
    enforced_at, recorded_at, text_at = (
        html.index("The rules we follow (enforced by Schoolgate)"),
        html.index(RECORDED_HEADING),
        html.index("Our policy."),
    )
    assert enforced_at < html.index(escape("Nobody approves their own post.")) < recorded_at
    assert recorded_at < html.index(escape(reply)) < text_at
    assert render_document_html(cast.policy).count(RECORDED_HEADING) == 1


def test_it_groups_the_settings_form_and_says_where_each_enforced_one_is_checked(client, cast, one_rule_recorded):
    draft = start_new_version(cast.policy.document, by=cast.head)
    client.force_login(cast.head)

    html = client.get(f"/s/{cast.school.slug}/policy/v/{draft.pk}/edit/").content.decode()

    enforced_at, recorded_at = html.index("Rules Schoolgate enforces"), html.index(RECORDED_HEADING)
    assert enforced_at < html.index('name="required_reviewers"') < recorded_at
    assert enforced_at < html.index('name="account_password_max_age_days"') < recorded_at
    for name in ("reply_deadline_hours", "comments_default", "clock_pauses_weekends"):
        assert enforced_at < html.index(f'name="{name}"') < recorded_at
    assert html.index('name="private_messages_forbidden"') > recorded_at
    assert "Enforced: checked when a post is given final approval." in html
    assert "Change official account passwords at least every … days" in html
    assert "Account password max age days" not in html


def test_it_labels_every_setting_for_people():
    form = PolicySettingsForm()
    for name, field in form.fields.items():
        assert field.label == SETTING_RULES[name].label
        assert field.label != name.replace("_", " ").capitalize()  # never "Account password max age days"


def test_it_turns_the_checklist_red_after_the_policys_password_age(client, cast):
    account = OfficialAccount.objects.create(
        school=cast.school,
        name="School news",
        network="bluesky",
        registration_email="news@example.org",
        proposed_by=cast.head,
        proposed_at=timezone.now(),
        status=AccountStatus.APPROVED,
        two_factor_enabled=True,
        recovery_email="office@example.org",
        password_changed_on=timezone.localdate() - dt.timedelta(days=60),
    )
    client.force_login(cast.head)
    page = f"/s/{cast.school.slug}/accounts/{account.pk}/"
    assert "more than" not in client.get(page).content.decode()

    cast.policy.settings.account_password_max_age_days = 30
    cast.policy.settings.save()

    assert "more than 30 days ago" in client.get(page).content.decode()


def test_it_prints_no_recorded_heading_when_the_product_checks_every_rule(client, cast):
    enforced, recorded = describe_settings_by_enforcement(cast.policy.settings)
    assert recorded == []
    assert "Official accounts never send direct or private messages to pupils, parents or carers." in enforced
    assert RECORDED_HEADING not in client.get(f"/p/{cast.school.slug}/policy/").content.decode()
