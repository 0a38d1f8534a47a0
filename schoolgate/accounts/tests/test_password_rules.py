"""Password rules: a password too like the person's own name or email address is refused."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from schoolgate.testing import PASSWORD, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    # An email address with nothing of the name in it, as many school addresses are (head@…, office@…).
    return make_user("Philippa Worthington", email="head@oakfield.sch.example")


@pytest.mark.parametrize("password", ["Philippa Worthington", "philippaworthington", "Worthington1", "Philippa2025"])
def test_it_refuses_a_password_like_the_persons_name(person, password):
    with pytest.raises(ValidationError) as refused:
        validate_password(password, person)

    assert "too similar to the full name" in " ".join(refused.value.messages)


def test_it_still_refuses_a_password_like_the_email_address(person):
    with pytest.raises(ValidationError):
        validate_password("oakfield.sch", person)


def test_it_accepts_a_password_unlike_the_name(person):
    validate_password("marmalade-lighthouse-47", person)


def test_it_refuses_the_name_when_a_person_changes_their_password(client, person):
    client.force_login(person)

    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "Philippa Worthington", "password2": "Philippa Worthington"},
    )

    assert response.status_code == 200
    assert "too similar to the full name" in response.content.decode()
    person.refresh_from_db()
    assert person.check_password(PASSWORD)
