"""A school's name goes into every email's subject and sender: it is refused with line breaks or control characters."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from schoolgate.audit.models import AuditEntry
from schoolgate.schools.actions import create_school, update_school_details
from schoolgate.schools.models import School, Trust
from schoolgate.testing import make_user

BAD_NAMES = ["Oak\r\nBcc: everyone@example.org", "Oak\nAsh", "Oak\tAsh", "Oak\x00Ash", "Oak\u2028Ash"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_it_refuses_a_name_with_control_characters_on_the_school_itself(cast, name):
    cast.school.name = name
    with pytest.raises(ValidationError) as refused:
        cast.school.full_clean()
    assert "one line" in refused.value.message_dict["name"][0]


def test_it_refuses_a_name_with_a_line_break_on_the_details_page_and_changes_nothing(client, cast):
    client.force_login(cast.head)

    response = client.post(
        f"/s/{cast.school.slug}/details/",
        {"name": "Oak\r\nBcc: everyone@example.org", "website": "", "email_domains": ""},
    )

    assert response.status_code == 200
    assert "Write the name on one line" in response.content.decode()
    assert School.objects.get(pk=cast.school.pk).name == "Test School"
    assert not AuditEntry.objects.filter(action="school.details.changed").exists()


def test_it_refuses_the_name_in_the_action_too_before_changing_anything(cast):
    with pytest.raises(ValidationError) as refused:
        update_school_details(cast.school, by=cast.head, name="Oak\nAsh", website="", email_domains="")

    assert "name" in refused.value.message_dict
    assert cast.school.name == "Test School"  # not even the object in hand was changed
    assert School.objects.get(pk=cast.school.pk).name == "Test School"


def test_it_still_accepts_an_ordinary_name_with_accents_and_punctuation(cast):
    update_school_details(
        cast.school, by=cast.head, name="  Ysgol Gymraeg Pen-y-Bryn & St Mary’s  ", website="", email_domains=""
    )

    assert School.objects.get(pk=cast.school.pk).name == "Ysgol Gymraeg Pen-y-Bryn & St Mary’s"


def test_it_refuses_a_new_school_named_with_a_line_break(db):
    admin = make_user("Tess Trust", totp=True)
    trust = Trust.objects.create(name="Test Trust")
    trust.admins.add(admin)

    with pytest.raises(ValidationError) as refused:
        create_school(
            by=admin,
            trust=trust,
            name="Oak\r\nAsh",
            slug="oak",
            headteacher_email="head@oak.example",
            headteacher_name="Olive Head",
        )

    assert "name" in refused.value.message_dict
    assert not School.objects.filter(slug="oak").exists()
