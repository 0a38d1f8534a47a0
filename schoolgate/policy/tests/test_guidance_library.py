"""The guidance library: versioned staff factsheets, approved by the headteacher or the DSL, that staff confirm
reading, version by version (AW-STAFF-1)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from schoolgate.policy.actions import (
    acknowledge_version,
    add_starter_factsheets,
    approve_version,
    create_factsheet,
    save_draft,
    start_new_version,
)
from schoolgate.policy.guidance import STARTER_FACTSHEETS
from schoolgate.policy.models import Document, DocumentKind, DocumentVersion, GuidanceKind, VersionStatus
from schoolgate.schools.roles import Role

pytestmark = pytest.mark.django_db

TEXT = "Set your profile to friends only.\n\n- Hide your friends list.\n- Review tags."


def publish_factsheet(cast, title="Privacy settings", *, by=None, approver=None, role=Role.DSL, text=TEXT):
    draft = create_factsheet(cast.school, by=by or cast.leader, title=title)
    save_draft(draft, by=by or cast.leader, fields={"text": text})
    approve_version(draft, by=approver or cast.dsl, role=role)
    return DocumentVersion.objects.get(pk=draft.pk)


def revise(cast, document: Document, text: str) -> DocumentVersion:
    draft = start_new_version(document, by=cast.leader)
    save_draft(draft, by=cast.leader, fields={"text": text})
    approve_version(draft, by=cast.head, role=Role.HEADTEACHER)
    return DocumentVersion.objects.get(pk=draft.pk)


@pytest.mark.clause("AW-STAFF-1")
def test_it_keeps_many_factsheets_per_school_but_one_of_each_policy(cast):
    first = publish_factsheet(cast, "Privacy settings")
    second = publish_factsheet(cast, "Location sharing")

    assert first.document.kind == second.document.kind == GuidanceKind.FACTSHEET
    assert first.is_current and second.is_current
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.create(school=cast.school, kind=DocumentKind.SOCIAL_MEDIA_POLICY, title="Another")
    with pytest.raises(ValidationError):
        create_factsheet(cast.school, by=cast.leader, title="privacy  settings")


@pytest.mark.clause("AW-STAFF-1")
def test_it_brings_a_factsheet_into_force_with_one_approval_from_the_headteacher_or_the_dsl(cast):
    by_dsl = publish_factsheet(cast, "Location sharing", approver=cast.dsl, role=Role.DSL)
    by_head = publish_factsheet(cast, "Logging out", approver=cast.head, role=Role.HEADTEACHER)

    assert by_dsl.status == by_head.status == VersionStatus.CURRENT
    assert [a.role for a in by_dsl.valid_approvals()] == [Role.DSL]


def test_it_refuses_approval_by_the_chair_the_drafter_or_a_second_approver(cast):
    draft = create_factsheet(cast.school, by=cast.head, title="Passwords")
    save_draft(draft, by=cast.head, fields={"text": TEXT})

    with pytest.raises(ValidationError):
        approve_version(draft, by=cast.chair, role=Role.CHAIR_OF_GOVERNORS)
    with pytest.raises(ValidationError):
        approve_version(draft, by=cast.head, role=Role.HEADTEACHER)  # drafted it
    with pytest.raises(PermissionDenied):
        approve_version(draft, by=cast.deputy_dsl, role=Role.DSL)
    approve_version(draft, by=cast.dsl, role=Role.DSL)
    assert DocumentVersion.objects.get(pk=draft.pk).is_current


def test_it_keeps_the_social_media_policys_two_approvals(cast):
    draft = start_new_version(cast.policy.document, by=cast.head)

    with pytest.raises(ValidationError):
        approve_version(draft, by=cast.dsl, role=Role.DSL)
    approve_version(draft, by=cast.head, role=Role.HEADTEACHER)
    assert DocumentVersion.objects.get(pk=draft.pk).is_draft  # still waits for the chair
    with pytest.raises(PermissionDenied):
        start_new_version(cast.policy.document, by=cast.dsl)  # the DSL drafts guidance, not policy


@pytest.mark.clause("AW-STAFF-1")
def test_it_asks_for_a_new_acknowledgement_for_each_new_version_of_a_factsheet(cast):
    v1 = publish_factsheet(cast)
    acknowledge_version(v1, by=cast.alice)
    assert v1 not in DocumentVersion.objects.unacknowledged_by(cast.alice, cast.school)

    v2 = revise(cast, v1.document, TEXT + "\n\nAnd turn off face recognition.")

    assert v2 in DocumentVersion.objects.unacknowledged_by(cast.alice, cast.school)
    with pytest.raises(ValidationError):
        acknowledge_version(v1, by=cast.bob)  # superseded
    acknowledge_version(v2, by=cast.alice)
    assert set(cast.alice.acknowledgements.values_list("version__number", flat=True)) == {1, 2}


@pytest.mark.clause("AW-STAFF-1")
def test_it_shows_the_record_keepers_who_has_read_each_factsheet(client, cast):
    version = publish_factsheet(cast)
    acknowledge_version(version, by=cast.alice)

    client.force_login(cast.governor)
    library = client.get(f"/s/{cast.school.slug}/guidance/").content.decode()
    assert "Privacy settings" in library and "1 of 7 staff have confirmed" in library
    page = client.get(f"/s/{cast.school.slug}/guidance/acknowledgements/").content.decode()
    outstanding = page[page.index("Not yet confirmed") :]
    assert "Bob Staff" in outstanding and "Alice Staff" not in outstanding
    assert "Gus Governor" not in page  # governors are not asked to read staff factsheets
    client.force_login(cast.bob)
    assert client.get(f"/s/{cast.school.slug}/guidance/acknowledgements/").status_code == 403


@pytest.mark.clause("AW-STAFF-1")
def test_it_asks_staff_and_volunteers_to_read_and_confirm_on_the_dashboard(client, cast):
    version = publish_factsheet(cast)

    for person, asked in [(cast.alice, True), (cast.volunteer, True), (cast.governor, False)]:
        client.force_login(person)
        page = client.get(f"/s/{cast.school.slug}/").content.decode()
        card = page[page.index('id="ack-h"') : page.index("</section>", page.index('id="ack-h"'))]
        assert (f"/policy/v/{version.pk}/" in card) is asked, person
    acknowledge_version(version, by=cast.alice)
    client.force_login(cast.alice)
    page = client.get(f"/s/{cast.school.slug}/").content.decode()
    assert f"/policy/v/{version.pk}/" not in page


def test_it_adds_the_starter_factsheets_as_drafts_once(cast):
    drafts = add_starter_factsheets(cast.school, by=cast.dsl)

    assert len(drafts) == len(STARTER_FACTSHEETS) == 6
    assert all(d.is_draft and d.text for d in drafts)
    assert add_starter_factsheets(cast.school, by=cast.dsl) == []
    with pytest.raises(PermissionDenied):
        add_starter_factsheets(cast.school, by=cast.alice)


def test_it_writes_and_approves_a_factsheet_through_the_pages(client, cast):
    client.force_login(cast.deputy_dsl)
    response = client.post(f"/s/{cast.school.slug}/guidance/new/", {"title": "Gaming chat"})
    draft = DocumentVersion.objects.get(document__title="Gaming chat")
    assert response["Location"] == f"/s/{cast.school.slug}/guidance/v/{draft.pk}/edit/"
    response = client.post(
        response["Location"], {"change_summary": "First version", "review_cycle_months": "12", "text": TEXT}
    )
    assert response.status_code == 302
    client.force_login(cast.head)
    assert client.get(f"/s/{cast.school.slug}/policy/v/{draft.pk}/edit/").status_code == 404  # not a policy
    page = client.get(f"/s/{cast.school.slug}/policy/v/{draft.pk}/").content.decode()
    assert "<li>Hide your friends list.</li>" in page
    client.post(f"/s/{cast.school.slug}/policy/v/{draft.pk}/approve/headteacher/")
    assert DocumentVersion.objects.get(pk=draft.pk).is_current


def test_it_starts_a_policy_review_only_for_policy_kinds(client, cast):
    publish_factsheet(cast)
    client.force_login(cast.head)

    assert client.post(f"/s/{cast.school.slug}/policy/new/factsheet/").status_code == 404
