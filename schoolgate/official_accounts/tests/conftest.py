"""Fixtures for official accounts: a school with email domains and a ready proposal."""

import pytest

from schoolgate.testing import make_school


@pytest.fixture
def cast(db):
    cast = make_school()
    cast.school.email_domains = "testschool.sch.uk"
    cast.school.save(update_fields=["email_domains"])
    return cast


@pytest.fixture
def proposal_data():
    return {
        "name": "Test School news",
        "kind": "social_network",
        "network": "bluesky",
        "registration_email": "office@testschool.sch.uk",
        "aim": "Share class news with families.",
        "intended_audience": "Parents and carers",
        "promotion": "Newsletter and website",
        "visibility": "open",
        "objectives": "Community engagement",
        "intended_outcomes": "Families informed about school life",
        "risks": "Inappropriate replies",
        "likelihood": "medium",
        "mitigations": "Replies monitored daily",
        "involves_pupils": False,
    }
