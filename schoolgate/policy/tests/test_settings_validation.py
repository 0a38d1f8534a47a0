"""Bad policy settings are refused clearly, by save_draft and on the edit page, and nothing is half-saved."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils.html import escape

from schoolgate.audit.models import AuditEntry
from schoolgate.notifications.models import Notification
from schoolgate.policy.actions import SETTINGS_FIELDS, approve_version, save_draft, start_new_version
from schoolgate.policy.models import DocumentVersion, PolicySettings
from schoolgate.policy.rules import describe_settings
from schoolgate.schools.roles import Role
from schoolgate.testing import make_school

pytestmark = pytest.mark.django_db

ORIGINAL_TEXT = "Our policy.\n\nSecond paragraph."
REVIEWERS_FLOOR = "At least one colleague other than the author must read every post"


@pytest.fixture
def draft(cast):
    return start_new_version(cast.policy.document, by=cast.head)


def settings_of(version: DocumentVersion) -> dict:
    return dict(PolicySettings.objects.filter(version=version).values(*SETTINGS_FIELDS).get())


def assert_untouched(version: DocumentVersion, settings_before: dict) -> None:
    """Neither the text nor any setting reached the database, and no edit was audited."""
    stored = DocumentVersion.objects.get(pk=version.pk)
    assert stored.text == ORIGINAL_TEXT
    assert stored.change_summary == ""
    assert stored.review_cycle_months == 12
    assert settings_of(version) == settings_before
    assert not AuditEntry.objects.filter(action="policy.version.edited").exists()


def form_data(version: DocumentVersion, **overrides) -> dict:
    """What the edit page posts back when nothing is changed, with `overrides` applied."""
    data = {
        "text": version.text,
        "change_summary": version.change_summary,
        "review_cycle_months": version.review_cycle_months,
    }
    for field, value in settings_of(version).items():
        if isinstance(value, bool):
            if value:
                data[field] = "on"
        else:
            data[field] = value
    for field, value in overrides.items():
        if value is False:
            data.pop(field, None)
        else:
            data[field] = "on" if value is True else value
    return data


# Through the action


@pytest.mark.clause("AW-PUB-1")
def test_it_refuses_no_colleague_review_without_a_final_approver(cast, draft):
    before = settings_of(draft)

    with pytest.raises(ValidationError) as refused:
        save_draft(draft, by=cast.head, fields={}, settings={"required_reviewers": 0, "final_post_approver_role": ""})

    assert REVIEWERS_FLOOR in " ".join(refused.value.message_dict["required_reviewers"])
    assert settings_of(draft) == before


@pytest.mark.clause("AW-PUB-1")
def test_it_refuses_dropping_colleague_review_when_there_is_no_final_approver(cast, draft):
    # The copied settings have no final approver, so dropping the one colleague review leaves nobody.
    with pytest.raises(ValidationError, match=REVIEWERS_FLOOR):
        save_draft(draft, by=cast.head, fields={}, settings={"required_reviewers": 0})

    assert settings_of(draft)["required_reviewers"] == 1


def test_it_accepts_no_colleague_review_when_a_final_approver_reads_every_post(cast, draft):
    save_draft(
        draft, by=cast.head, fields={}, settings={"required_reviewers": 0, "final_post_approver_role": Role.HEADTEACHER}
    )

    assert settings_of(draft)["required_reviewers"] == 0
    assert settings_of(draft)["final_post_approver_role"] == "headteacher"


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        (0, "The reply deadline must be at least 1 hour."),
        (-24, "The reply deadline must be at least 1 hour."),
        (169, "The reply deadline cannot be longer than a week (168 hours)."),
    ],
)
def test_it_refuses_a_reply_deadline_out_of_range(cast, draft, hours, message):
    with pytest.raises(ValidationError) as refused:
        save_draft(draft, by=cast.head, fields={}, settings={"reply_deadline_hours": hours})

    assert refused.value.message_dict["reply_deadline_hours"] == [message]
    assert settings_of(draft)["reply_deadline_hours"] == 24


@pytest.mark.parametrize("hours", [1, 168])
def test_it_accepts_a_reply_deadline_at_the_limits(cast, draft, hours):
    save_draft(draft, by=cast.head, fields={}, settings={"reply_deadline_hours": hours})

    assert settings_of(draft)["reply_deadline_hours"] == hours


@pytest.mark.parametrize(
    ("months", "message"),
    [
        (0, "The review cycle must be at least 1 month."),
        (37, "The review cycle cannot be longer than 36 months."),
    ],
)
def test_it_refuses_a_review_cycle_out_of_range(cast, draft, months, message):
    with pytest.raises(ValidationError) as refused:
        save_draft(draft, by=cast.head, fields={"review_cycle_months": months})

    assert refused.value.message_dict["review_cycle_months"] == [message]
    assert DocumentVersion.objects.get(pk=draft.pk).review_cycle_months == 12


@pytest.mark.parametrize("months", [1, 36])
def test_it_accepts_a_review_cycle_at_the_limits(cast, draft, months):
    save_draft(draft, by=cast.head, fields={"review_cycle_months": months})

    assert DocumentVersion.objects.get(pk=draft.pk).review_cycle_months == months


def test_it_refuses_a_deputy_without_a_final_approver(cast, draft):
    with pytest.raises(ValidationError) as refused:
        save_draft(
            draft,
            by=cast.head,
            fields={},
            settings={"final_post_approver_role": "", "final_approver_deputy_role": Role.LEADERSHIP},
        )

    assert refused.value.message_dict["final_approver_deputy_role"] == [
        "A deputy can only be named when there is a final approver."
    ]
    assert settings_of(draft)["final_approver_deputy_role"] == ""


def test_it_refuses_a_deputy_who_is_the_final_approver(cast, draft):
    with pytest.raises(ValidationError) as refused:
        save_draft(
            draft,
            by=cast.head,
            fields={},
            settings={"final_post_approver_role": Role.HEADTEACHER, "final_approver_deputy_role": Role.HEADTEACHER},
        )

    assert refused.value.message_dict["final_approver_deputy_role"] == [
        "The deputy must be a different role from the final approver."
    ]


def test_it_refuses_more_than_five_colleague_reviews(cast, draft):
    with pytest.raises(ValidationError, match="No more than 5 colleague reviews"):
        save_draft(draft, by=cast.head, fields={}, settings={"required_reviewers": 6})


@pytest.mark.clause("AW-PUB-1")
def test_it_saves_neither_text_nor_settings_when_the_settings_are_invalid(cast, draft):
    approve_version(draft, by=cast.head, role=Role.HEADTEACHER)
    Notification.objects.all().delete()
    before = settings_of(draft)

    with pytest.raises(ValidationError):
        save_draft(
            draft,
            by=cast.leader,
            fields={"text": "New wording.", "change_summary": "Tried to change", "review_cycle_months": 24},
            settings={"reply_deadline_hours": 12, "required_reviewers": 0, "final_post_approver_role": ""},
        )

    assert_untouched(draft, before)
    # The refused edit did not void the approval already given, nor tell anyone it had.
    assert DocumentVersion.objects.get(pk=draft.pk).approval_for(Role.HEADTEACHER) is not None
    assert not Notification.objects.exists()


def test_it_saves_neither_text_nor_settings_when_the_text_fields_are_invalid(cast, draft):
    before = settings_of(draft)

    with pytest.raises(ValidationError):
        save_draft(
            draft,
            by=cast.leader,
            fields={"text": "New wording.", "review_cycle_months": 0},
            settings={"reply_deadline_hours": 12},
        )

    assert_untouched(draft, before)


# Through the edit page


def edit_url(cast, version) -> str:
    return f"/s/{cast.school.slug}/policy/v/{version.pk}/edit/"


def test_it_saves_a_valid_edit_from_the_page(client, cast, draft):
    client.force_login(cast.leader)

    response = client.post(
        edit_url(cast, draft),
        form_data(draft, text="Page wording.", reply_deadline_hours=36, clock_pauses_weekends=False),
    )

    assert response.status_code == 302
    stored = DocumentVersion.objects.get(pk=draft.pk)
    assert stored.text == "Page wording."
    assert settings_of(draft)["reply_deadline_hours"] == 36
    assert settings_of(draft)["clock_pauses_weekends"] is False


@pytest.mark.clause("AW-PUB-1")
def test_it_shows_the_reviewers_floor_on_the_page_and_saves_nothing(client, cast, draft):
    client.force_login(cast.head)
    before = settings_of(draft)

    response = client.post(
        edit_url(cast, draft),
        form_data(
            draft, text="New wording.", change_summary="Drop review", required_reviewers=0, final_post_approver_role=""
        ),
    )

    assert response.status_code == 200
    assert REVIEWERS_FLOOR in response.content.decode()
    assert response.context["settings_form"].errors["required_reviewers"]
    assert_untouched(draft, before)


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ("0", "The reply deadline must be at least 1 hour."),
        ("-5", "The reply deadline must be at least 1 hour."),
    ],
)
def test_it_shows_a_bad_reply_deadline_on_the_page_and_saves_nothing(client, cast, draft, hours, message):
    client.force_login(cast.head)
    before = settings_of(draft)

    response = client.post(edit_url(cast, draft), form_data(draft, text="New wording.", reply_deadline_hours=hours))

    assert response.status_code == 200
    assert escape(message) in response.content.decode()
    assert_untouched(draft, before)


@pytest.mark.parametrize(
    ("months", "message"),
    [
        ("0", "The review cycle must be at least 1 month."),
        ("48", "The review cycle cannot be longer than 36 months."),
    ],
)
def test_it_shows_a_bad_review_cycle_on_the_page_and_saves_nothing(client, cast, draft, months, message):
    client.force_login(cast.head)
    before = settings_of(draft)

    response = client.post(
        edit_url(cast, draft),
        form_data(draft, text="New wording.", review_cycle_months=months, reply_deadline_hours=12),
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert_untouched(draft, before)


def test_it_shows_a_deputy_without_a_final_approver_on_the_page_and_saves_nothing(client, cast, draft):
    client.force_login(cast.head)
    before = settings_of(draft)

    response = client.post(
        edit_url(cast, draft),
        form_data(draft, text="New wording.", final_post_approver_role="", final_approver_deputy_role=Role.LEADERSHIP),
    )

    assert response.status_code == 200
    assert "A deputy can only be named when there is a final approver." in response.content.decode()
    assert_untouched(draft, before)


def test_it_keeps_what_was_typed_on_the_page_after_an_error(client, cast, draft):
    client.force_login(cast.head)

    response = client.post(edit_url(cast, draft), form_data(draft, text="Typed but refused.", reply_deadline_hours=0))

    assert "Typed but refused." in response.content.decode()


def test_it_does_not_let_staff_open_the_edit_page(client, cast, draft):
    client.force_login(cast.alice)

    assert client.get(edit_url(cast, draft)).status_code == 403
    assert client.post(edit_url(cast, draft), form_data(draft, text="Staff edit.")).status_code == 403
    assert DocumentVersion.objects.get(pk=draft.pk).text == ORIGINAL_TEXT


def test_it_sends_the_editor_back_when_the_version_is_in_force(client, cast):
    client.force_login(cast.head)

    response = client.post(edit_url(cast, cast.policy), form_data(cast.policy, text="Rewritten in force."))

    assert response.status_code == 302
    assert DocumentVersion.objects.get(pk=cast.policy.pk).text == ORIGINAL_TEXT


# Two schools, two rule books


def test_it_writes_each_schools_own_settings_as_its_rules(client):
    applebee = make_school("Applebee Wood", settings={"required_reviewers": 1, "reply_deadline_hours": 24})
    raleigh = make_school(
        "The Raleigh School",
        settings={
            "required_reviewers": 0,
            "final_post_approver_role": Role.HEADTEACHER,
            "final_approver_deputy_role": Role.LEADERSHIP,
            "reply_deadline_hours": 48,
            "clock_pauses_weekends": False,
            "clock_pauses_bank_holidays": False,
            "clock_pauses_closures": False,
            "private_messages_forbidden": False,
        },
    )

    applebee_rules = describe_settings(applebee.policy.settings)
    raleigh_rules = describe_settings(raleigh.policy.settings)

    colleague_rule = "Every public post is read and agreed by at least one colleague other than its author."
    head_rule = (
        "The headteacher approves every post before it goes live; the leadership team does so when "
        "the headteacher is away or wrote the post."
    )
    assert colleague_rule in applebee_rules
    assert not any("approves every post" in rule for rule in applebee_rules)
    assert (
        "Comments, queries and complaints on our accounts are answered within 24 hours, even if only to "
        "acknowledge them; weekends, bank holidays in England and days the school is closed do not "
        "count, so a message received then is answered on the next working day."
    ) in applebee_rules
    no_messages = "Official accounts never send direct or private messages to pupils, parents or carers."
    assert no_messages in applebee_rules

    assert head_rule in raleigh_rules
    assert colleague_rule not in raleigh_rules
    assert (
        "Comments, queries and complaints on our accounts are answered within 48 hours, even if only to "
        "acknowledge them."
    ) in raleigh_rules
    assert not any("private messages" in rule for rule in raleigh_rules)
    assert "Nobody approves their own post." in applebee_rules
    assert "Nobody approves their own post." in raleigh_rules

    # The same difference reaches each school's published policy, side by side in one deployment.
    applebee_page = client.get(f"/p/{applebee.school.slug}/policy/").content.decode()
    raleigh_page = client.get(f"/p/{raleigh.school.slug}/policy/").content.decode()
    assert escape(head_rule) in raleigh_page
    assert escape(head_rule) not in applebee_page
    assert escape(colleague_rule) in applebee_page
    assert escape(colleague_rule) not in raleigh_page


@pytest.mark.parametrize(
    ("reviewers", "expected"),
    [
        (2, "Every public post is read and agreed by at least 2 colleagues other than its author."),
        (5, "Every public post is read and agreed by at least 5 colleagues other than its author."),
    ],
)
def test_it_counts_the_colleagues_in_the_review_rule(reviewers, expected):
    policy = PolicySettings(required_reviewers=reviewers)

    assert expected in describe_settings(policy)


def test_it_names_only_the_pauses_the_school_chose():
    policy = PolicySettings(
        reply_deadline_hours=24,
        clock_pauses_weekends=True,
        clock_pauses_bank_holidays=False,
        clock_pauses_closures=True,
        bank_holiday_nation="SCT",
        final_post_approver_role=Role.DEPUTY_DSL,
    )

    rules = describe_settings(policy)

    assert (
        "Comments, queries and complaints on our accounts are answered within 24 hours, even if only to "
        "acknowledge them; weekends and days the school is closed do not count, so a message received "
        "then is answered on the next working day."
    ) in rules
    assert "The deputy DSL approves every post before it goes live." in rules
