"""The school's declaration settings: set by the headteacher, checked, audited, and read by the rules."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.html import escape

from schoolgate.audit.models import AuditEntry
from schoolgate.declarations import actions
from schoolgate.declarations.models import DEFAULT_DISCLAIMER, DeclarationSettings

pytestmark = pytest.mark.django_db


def data(**overrides) -> dict:
    values = {
        "disclaimer_text": "My views, not the school's.",
        "annual_interval_months": "12",
        "annual_notice_days": "30",
        "relationship_reviewer_roles": ["dsl", "deputy_dsl"],
        "relationship_review_months": "12",
        "exception_approver_role": "headteacher",
        "exception_reader_roles": ["dsl"],
        "exception_reminder_days": "14",
    }
    values.update(overrides)
    return values


def test_it_lets_the_headteacher_alone_change_the_settings_and_audits_it(client, cast):
    url = f"/s/{cast.school.slug}/declarations/settings/"
    for person in cast.everyone():
        client.force_login(person)
        assert client.get(url).status_code == (200 if person == cast.head else 403), person
    client.force_login(cast.head)
    assert escape(DEFAULT_DISCLAIMER) in client.get(url).content.decode()

    response = client.post(url, data())

    assert response.status_code == 302
    assert DeclarationSettings.objects.get(school=cast.school).disclaimer_text == "My views, not the school's."
    entry = AuditEntry.objects.get(action="declarations.settings_changed")
    assert entry.changes == {"disclaimer_text": [DEFAULT_DISCLAIMER, "My views, not the school's."]}
    with pytest.raises(PermissionDenied):
        actions.update_settings(cast.school, by=cast.dsl, annual_interval_months=6)


def test_it_refuses_reviewers_outside_the_safeguarding_leads_and_keeps_what_was_typed(client, cast):
    client.force_login(cast.head)

    response = client.post(
        f"/s/{cast.school.slug}/declarations/settings/",
        data(relationship_reviewer_roles=[], annual_interval_months="0"),
    )

    assert response.status_code == 400
    assert "My views, not the school" in response.content.decode()
    assert not DeclarationSettings.objects.exists()
    with pytest.raises(ValidationError, match="DSL, the deputy DSLs and the headteacher"):
        actions.update_settings(cast.school, by=cast.head, relationship_reviewer_roles=["staff"])
