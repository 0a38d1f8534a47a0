"""Members confirm reading each version in force (RS-ROLE-3), related documents included (AW-LIFE-2)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from schoolgate.audit.models import AuditEntry
from schoolgate.policy.actions import acknowledge_version, approve_version, save_draft, start_new_version
from schoolgate.policy.models import (
    Acknowledgement,
    Document,
    DocumentKind,
    DocumentVersion,
    PolicySettings,
    VersionStatus,
)
from schoolgate.schools.roles import Role
from schoolgate.testing import make_school, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.clause("RS-ROLE-3")]


def acknowledged_audits(version: DocumentVersion):
    return AuditEntry.objects.filter(action="policy.version.acknowledged", object_id=str(version.pk))


def publish(document: Document, cast, text: str) -> DocumentVersion:
    """Draft, write and approve a new version of `document`, as the school would."""
    draft = start_new_version(document, by=cast.head)
    save_draft(draft, by=cast.head, fields={"text": text})
    approve_version(draft, by=cast.head, role=Role.HEADTEACHER)
    approve_version(draft, by=cast.chair, role=Role.CHAIR_OF_GOVERNORS)
    return DocumentVersion.objects.get(pk=draft.pk)


def section_of(page: str, heading: str) -> str:
    """The part of the page from `heading` to the end of its section."""
    start = page.index(heading)
    return page[start : page.index("</section>", start)]


def acknowledgements_page(client, cast, person) -> str:
    client.force_login(person)
    response = client.get(f"/s/{cast.school.slug}/policy/acknowledgements/")
    assert response.status_code == 200
    return response.content.decode()


# acknowledge_version


def test_it_records_a_members_acknowledgement_once(cast):
    first = acknowledge_version(cast.policy, by=cast.alice)
    again = acknowledge_version(cast.policy, by=cast.alice)

    assert again.pk == first.pk
    assert again.acknowledged_at == first.acknowledged_at
    rows = Acknowledgement.objects.values_list("version_id", "user_id")
    assert list(rows) == [(cast.policy.pk, cast.alice.pk)]
    entry = acknowledged_audits(cast.policy).get()
    assert entry.actor == cast.alice


@pytest.mark.parametrize("person", ["head", "dsl", "deputy_dsl", "leader", "alice", "volunteer", "governor", "chair"])
def test_it_lets_every_member_acknowledge(cast, person):
    acknowledge_version(cast.policy, by=getattr(cast, person))

    assert Acknowledgement.objects.filter(version=cast.policy, user=getattr(cast, person)).exists()


def test_it_refuses_to_acknowledge_a_draft(cast):
    draft = start_new_version(cast.policy.document, by=cast.head)

    with pytest.raises(ValidationError, match="Only the version in force"):
        acknowledge_version(draft, by=cast.alice)

    assert not Acknowledgement.objects.exists()
    assert not acknowledged_audits(draft).exists()


def test_it_refuses_to_acknowledge_a_superseded_version(cast):
    old = cast.policy
    publish(old.document, cast, "Second version.")

    with pytest.raises(ValidationError, match="Only the version in force"):
        acknowledge_version(old, by=cast.alice)


def test_it_refuses_someone_who_is_not_a_member(cast):
    outsider = make_user("Olly Outsider")
    other = make_school("Other School")

    for person in (outsider, other.alice, other.head):
        with pytest.raises(PermissionDenied):
            acknowledge_version(cast.policy, by=person)

    assert not Acknowledgement.objects.exists()
    assert not acknowledged_audits(cast.policy).exists()


def test_it_asks_for_a_fresh_acknowledgement_of_each_new_version(cast):
    acknowledge_version(cast.policy, by=cast.alice)
    assert not DocumentVersion.objects.unacknowledged_by(cast.alice, cast.school).exists()

    second = publish(cast.policy.document, cast, "Second version.")

    assert list(DocumentVersion.objects.unacknowledged_by(cast.alice, cast.school)) == [second]
    acknowledge_version(second, by=cast.alice)
    assert not DocumentVersion.objects.unacknowledged_by(cast.alice, cast.school).exists()


# The acknowledge button


def test_it_acknowledges_from_the_version_page(client, cast):
    client.force_login(cast.alice)
    url = f"/s/{cast.school.slug}/policy/v/{cast.policy.pk}/"

    assert "I have read and understood this version" in client.get(url).content.decode()
    response = client.post(url + "acknowledge/", follow=True)

    assert response.redirect_chain[-1][0] == url
    assert "You have confirmed that you have read this version." in response.content.decode()
    assert Acknowledgement.objects.filter(version=cast.policy, user=cast.alice).exists()


def test_it_acknowledges_in_place_with_htmx(client, cast):
    client.force_login(cast.bob)

    response = client.post(
        f"/s/{cast.school.slug}/policy/v/{cast.policy.pk}/acknowledge/", headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert "You have confirmed that you have read this version." in response.content.decode()
    assert "<html" not in response.content.decode()
    assert Acknowledgement.objects.filter(version=cast.policy, user=cast.bob).exists()


def test_it_does_not_claim_a_refused_acknowledgement_was_recorded(client, cast):
    old = cast.policy
    publish(old.document, cast, "Second version.")  # comes into force while Alice has v1 open
    client.force_login(cast.alice)

    response = client.post(f"/s/{cast.school.slug}/policy/v/{old.pk}/acknowledge/", follow=True)

    page = response.content.decode()
    assert "Only the version in force can be acknowledged." in page
    assert "your confirmation is recorded" not in page
    assert "You have confirmed that you have read this version." not in page
    assert not Acknowledgement.objects.filter(user=cast.alice).exists()


def test_it_reloads_the_page_instead_of_claiming_success_with_htmx(client, cast):
    old = cast.policy
    publish(old.document, cast, "Second version.")
    client.force_login(cast.alice)

    response = client.post(f"/s/{cast.school.slug}/policy/v/{old.pk}/acknowledge/", headers={"HX-Request": "true"})

    assert response["HX-Refresh"] == "true"
    assert "You have confirmed" not in response.content.decode()
    assert not Acknowledgement.objects.filter(user=cast.alice).exists()


def test_it_returns_only_to_pages_on_this_site_after_acknowledging(client, cast):
    client.force_login(cast.alice)
    url = f"/s/{cast.school.slug}/policy/v/{cast.policy.pk}/acknowledge/"

    inside = client.post(url, {"next": f"/s/{cast.school.slug}/"})
    outside = client.post(url, {"next": "https://evil.example/"})

    assert inside["Location"] == f"/s/{cast.school.slug}/"
    assert outside["Location"] == f"/s/{cast.school.slug}/policy/v/{cast.policy.pk}/"


def test_it_refuses_the_button_to_a_non_member(client, cast):
    other = make_school("Other School")
    client.force_login(other.alice)

    response = client.post(f"/s/{cast.school.slug}/policy/v/{cast.policy.pk}/acknowledge/")

    assert response.status_code == 403
    assert not Acknowledgement.objects.exists()


# Who has read it


def test_it_lists_who_has_not_acknowledged_for_the_headteacher(client, cast):
    acknowledge_version(cast.policy, by=cast.alice)
    acknowledge_version(cast.policy, by=cast.head)

    page = acknowledgements_page(client, cast, cast.head)

    assert "2 of 9" in page
    assert cast.alice.email not in page
    assert cast.head.email not in page
    for person in (cast.bob, cast.dsl, cast.deputy_dsl, cast.leader, cast.volunteer, cast.governor, cast.chair):
        assert person.email in page


def test_it_says_when_everyone_has_acknowledged(client, cast):
    for person in cast.everyone():
        acknowledge_version(cast.policy, by=person)

    page = acknowledgements_page(client, cast, cast.head)

    assert "9 of 9" in page
    assert "Everyone has confirmed." in page


def test_it_leaves_people_who_have_left_off_the_list(client, cast):
    cast.bob.is_active = False
    cast.bob.save(update_fields=["is_active"])

    page = acknowledgements_page(client, cast, cast.head)

    assert "0 of 8" in page
    assert cast.bob.email not in page


def test_it_counts_only_this_schools_members(client, cast):
    other = make_school("Other School")
    acknowledge_version(other.policy, by=other.alice)

    page = acknowledgements_page(client, cast, cast.head)

    assert "0 of 9" in page
    assert other.alice.email not in page


@pytest.mark.parametrize("person", ["leader", "governor", "chair"])
def test_it_shows_the_list_to_leaders_and_governors(client, cast, person):
    page = acknowledgements_page(client, cast, getattr(cast, person))

    assert cast.alice.email in page


@pytest.mark.parametrize("person", ["alice", "volunteer", "dsl"])
def test_it_forbids_the_list_to_staff_and_others(client, cast, person):
    client.force_login(getattr(cast, person))

    assert client.get(f"/s/{cast.school.slug}/policy/acknowledgements/").status_code == 403


# Related documents: the code of conduct and the acceptable use policy


@pytest.mark.clause("AW-LIFE-2")
@pytest.mark.parametrize(
    ("kind", "title"),
    [
        (DocumentKind.CODE_OF_CONDUCT, "Staff code of conduct"),
        (DocumentKind.ACCEPTABLE_USE, "Acceptable use policy"),
    ],
)
def test_it_versions_and_approves_related_documents_like_the_policy(cast, kind, title):
    document = Document.objects.create(school=cast.school, kind=kind, title=title)

    first = publish(document, cast, "Version one.")
    second = publish(document, cast, "Version two.")

    assert (first.number, second.number) == (1, 2)
    assert DocumentVersion.objects.get(pk=first.pk).status == VersionStatus.SUPERSEDED
    assert second.status == VersionStatus.CURRENT
    assert second.reviewed_on is not None and second.next_review_on is not None
    assert {a.role for a in second.valid_approvals()} == {Role.HEADTEACHER, Role.CHAIR_OF_GOVERNORS}
    # Only the social media policy carries enforced settings.
    assert not PolicySettings.objects.filter(version__document=document).exists()
    # The social media policy in force is not disturbed by another document's new version.
    assert cast.policy.document.current_version() == cast.policy
    # Each version in force is read and confirmed, like the policy.
    acknowledge_version(second, by=cast.alice)
    assert Acknowledgement.objects.filter(version=second, user=cast.alice).exists()


@pytest.mark.clause("AW-LIFE-2")
def test_it_asks_members_to_acknowledge_each_related_document(client, cast):
    conduct = publish(
        Document.objects.create(school=cast.school, kind=DocumentKind.CODE_OF_CONDUCT, title="Staff code of conduct"),
        cast,
        "Be kind online.",
    )
    acceptable = publish(
        Document.objects.create(school=cast.school, kind=DocumentKind.ACCEPTABLE_USE, title="Acceptable use policy"),
        cast,
        "Use school kit well.",
    )

    assert set(DocumentVersion.objects.unacknowledged_by(cast.alice, cast.school)) == {cast.policy, conduct, acceptable}
    acknowledge_version(conduct, by=cast.alice)
    acknowledge_version(conduct, by=cast.alice)

    still_to_read = DocumentVersion.objects.unacknowledged_by(cast.alice, cast.school)
    assert set(still_to_read) == {cast.policy, acceptable}
    assert acknowledged_audits(conduct).count() == 1
    page = acknowledgements_page(client, cast, cast.head)
    assert "Staff code of conduct v1" in page
    assert "Acceptable use policy v1" in page
    conduct_section = section_of(page, "Staff code of conduct v1")
    acceptable_section = section_of(page, "Acceptable use policy v1")
    assert cast.alice.email not in conduct_section
    assert cast.bob.email in conduct_section
    assert cast.alice.email in acceptable_section


@pytest.mark.clause("AW-LIFE-2")
def test_it_acknowledges_a_related_document_only_once_it_is_in_force(cast):
    document = Document.objects.create(
        school=cast.school, kind=DocumentKind.ACCEPTABLE_USE, title="Acceptable use policy"
    )
    draft = start_new_version(document, by=cast.head)

    with pytest.raises(ValidationError):
        acknowledge_version(draft, by=cast.alice)

    save_draft(draft, by=cast.head, fields={"text": "Use school kit well."})
    approve_version(draft, by=cast.head, role=Role.HEADTEACHER)
    approve_version(draft, by=cast.chair, role=Role.CHAIR_OF_GOVERNORS)
    acknowledge_version(draft, by=cast.alice)
    assert Acknowledgement.objects.filter(version=draft, user=cast.alice).exists()
