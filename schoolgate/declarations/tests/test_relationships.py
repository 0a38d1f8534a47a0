"""Pre-existing relationships with pupils or families (AW-CON-5): read only by the declarant and the reviewers
(the DSL and deputies by default), every reviewer's read audited, stored encrypted, reviewed with notes and a next
review date, and looked at again when that comes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from schoolgate.audit.models import AuditEntry
from schoolgate.declarations import access, actions
from schoolgate.declarations.models import DeclarationSettings, RelationshipStatus
from schoolgate.declarations.tests.helpers import RELATIONSHIP, declare_relationship, everything_sent_and_logged
from schoolgate.notifications.models import Notification
from schoolgate.schools.models import Membership
from schoolgate.testing import make_school

pytestmark = pytest.mark.django_db


def url(cast, declaration, path: str = "") -> str:
    return f"/s/{cast.school.slug}/declarations/relationships/{declaration.pk}/{path}"


def review_data(**overrides) -> dict:
    data = {
        "notes": "Discussed: no contact about school matters outside school.",
        "next_review_on": (timezone.localdate() + dt.timedelta(days=365)).isoformat(),
    }
    data.update(overrides)
    return data


@pytest.mark.clause("AW-CON-5")
def test_it_shows_a_relationship_only_to_its_declarant_and_the_reviewers(client, cast):
    declaration = declare_relationship(cast)
    other = make_school("Elsewhere")
    readers = {cast.alice, cast.dsl, cast.deputy_dsl}

    for person in [*cast.everyone(), other.dsl]:
        client.force_login(person)
        response = client.get(url(cast, declaration))
        expected = 200 if person in readers else (403 if person == other.dsl else 404)
        assert response.status_code == expected, person
        assert (RELATIONSHIP in response.content.decode()) == (person in readers)
        for page in ("", "relationships/", "register/"):
            assert RELATIONSHIP not in client.get(f"/s/{cast.school.slug}/declarations/{page}").content.decode()
        assert RELATIONSHIP not in client.get(f"/s/{cast.school.slug}/").content.decode()
    listed = {p for p in cast.everyone() if declaration in access.relationships_to_review(p, cast.school)}
    assert listed == {cast.dsl, cast.deputy_dsl}


@pytest.mark.clause("AW-CON-5")
def test_it_audits_every_read_by_a_reviewer_and_keeps_it_out_of_the_schools_log(client, cast):
    declaration = declare_relationship(cast)
    client.force_login(cast.deputy_dsl)
    client.get(url(cast, declaration))
    client.get(url(cast, declaration))
    client.force_login(cast.alice)
    client.get(url(cast, declaration))  # the declarant reading their own is not a reviewer's read

    reads = AuditEntry.objects.filter(
        action="declarations.relationship_opened", detail__relationshipdeclaration=declaration.pk
    )
    assert list(reads.values_list("actor", flat=True)) == [cast.deputy_dsl.pk, cast.deputy_dsl.pk]
    assert all(entry.restricted and entry.school_id is None for entry in reads)
    assert not AuditEntry.objects.filter(action__startswith="declarations.relationship", school=cast.school).exists()


@pytest.mark.clause("AW-CON-5")
def test_it_stores_the_relationship_and_the_reviewers_notes_encrypted(cast):
    declaration = declare_relationship(cast)
    actions.review_relationship(
        declaration,
        by=cast.dsl,
        notes="Condition-no-private-messages-77Q",
        next_review_on=timezone.localdate() + dt.timedelta(days=30),
    )

    with connection.cursor() as cursor:
        cursor.execute("SELECT text_encrypted FROM declarations_relationshipdeclaration")
        stored = cursor.fetchone()[0]
        cursor.execute("SELECT notes_encrypted FROM declarations_relationshipreview")
        notes = cursor.fetchone()[0]
    assert RELATIONSHIP not in stored and "Poppy" not in stored
    assert "Condition" not in notes
    declaration.refresh_from_db()
    assert declaration.text == RELATIONSHIP and declaration.reviews.get().notes == "Condition-no-private-messages-77Q"


@pytest.mark.clause("AW-CON-5")
def test_it_records_the_dsls_review_with_conditions_and_the_next_review(
    client, cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        declaration = declare_relationship(cast)
    told = Notification.objects.filter(about=f"declarations:relationship:{declaration.pk}:review")
    assert set(told.values_list("user", flat=True)) == {cast.dsl.pk, cast.deputy_dsl.pk}
    client.force_login(cast.dsl)

    response = client.post(url(cast, declaration, "review/"), review_data())

    assert response.status_code == 302
    declaration.refresh_from_db()
    assert declaration.status == RelationshipStatus.ACKNOWLEDGED and declaration.reviewed_by == cast.dsl
    assert declaration.next_review_on == timezone.localdate() + dt.timedelta(days=365)
    assert not told.filter(resolved_at__isnull=True).exists()
    client.force_login(cast.alice)
    page = client.get(url(cast, declaration)).content.decode()
    assert "no contact about school matters outside school" in page and "Reviewed" in page
    assert RELATIONSHIP not in everything_sent_and_logged()


def test_it_refuses_a_review_by_the_declarant_or_a_colleague_and_a_review_date_not_ahead(client, cast):
    declaration = declare_relationship(cast)

    for person in (cast.alice, cast.head, cast.bob):
        with pytest.raises(PermissionDenied):
            actions.review_relationship(declaration, by=person, next_review_on=timezone.localdate())
    client.force_login(cast.alice)
    assert client.post(url(cast, declaration, "review/"), review_data()).status_code == 403
    client.force_login(cast.bob)
    assert client.post(url(cast, declaration, "review/"), review_data()).status_code == 404
    with pytest.raises(ValidationError, match="after today"):
        actions.review_relationship(declaration, by=cast.dsl, next_review_on=timezone.localdate())
    declaration.refresh_from_db()
    assert declaration.status == RelationshipStatus.PENDING and not declaration.reviews.exists()


def test_it_sends_the_only_dsls_own_declaration_to_the_headteacher():
    cast = make_school("Small School")
    Membership.objects.filter(school=cast.school, role="deputy_dsl").delete()

    declaration = declare_relationship(cast, by=cast.dsl)

    assert access.relationship_reviewers(declaration) == [cast.head]
    assert access.may_read_relationship(cast.head, declaration)
    assert not access.may_review_relationship(cast.dsl, declaration)
    assert list(access.relationships_to_review(cast.head, cast.school)) == [declaration]
    # Anyone else's declaration there is still the DSL's to review, not the head's.
    other = declare_relationship(cast, by=cast.bob)
    assert not access.may_read_relationship(cast.head, other)
    assert list(access.relationships_to_review(cast.dsl, cast.school)) == [other]


def test_it_uses_the_reviewers_the_school_names(cast):
    DeclarationSettings.objects.create(school=cast.school, relationship_reviewer_roles=["headteacher"])

    declaration = declare_relationship(cast)

    assert {p for p in cast.everyone() if access.may_read_relationship(p, declaration)} == {cast.alice, cast.head}


def test_it_reminds_the_reviewers_once_when_a_review_falls_due(cast):
    declaration = declare_relationship(cast)
    next_review = timezone.localdate() + dt.timedelta(days=30)
    actions.review_relationship(declaration, by=cast.dsl, next_review_on=next_review)

    assert actions.sweep_relationship_reviews(next_review - dt.timedelta(days=1)) == 0
    assert actions.sweep_relationship_reviews(next_review) == 1
    assert actions.sweep_relationship_reviews(next_review + dt.timedelta(days=1)) == 0
    reminders = Notification.objects.filter(subject="A staff declaration is due for review")
    assert set(reminders.values_list("user", flat=True)) == {cast.dsl.pk, cast.deputy_dsl.pk}
    assert RELATIONSHIP not in everything_sent_and_logged()


def test_it_lets_the_declarant_withdraw_it_and_nobody_else(client, cast):
    declaration = declare_relationship(cast)
    client.force_login(cast.dsl)
    assert client.post(url(cast, declaration, "withdraw/")).status_code == 404
    client.force_login(cast.alice)

    assert client.post(url(cast, declaration, "withdraw/")).status_code == 302

    declaration.refresh_from_db()
    assert declaration.status == RelationshipStatus.WITHDRAWN
    with pytest.raises(ValidationError, match="no longer applies"):
        actions.review_relationship(
            declaration, by=cast.dsl, next_review_on=timezone.localdate() + dt.timedelta(days=9)
        )


def test_it_asks_what_the_relationship_is_and_keeps_what_was_typed(client, cast):
    client.force_login(cast.alice)

    response = client.post(f"/s/{cast.school.slug}/declarations/relationships/new/", {"text": RELATIONSHIP})

    assert response.status_code == 400 and RELATIONSHIP in response.content.decode()
    assert "This field is required" in response.content.decode()


def test_it_re_encrypts_relationships_reviews_and_exceptions_when_the_key_is_rotated(cast, settings):
    import io

    from cryptography.fernet import Fernet
    from django.core.management import call_command

    from schoolgate import crypto
    from schoolgate.declarations.tests.helpers import EXCEPTION_REASON, approved_exception

    declaration = declare_relationship(cast)
    actions.review_relationship(
        declaration, by=cast.dsl, notes="Notes-to-rotate", next_review_on=timezone.localdate() + dt.timedelta(days=9)
    )
    exception = approved_exception(cast)
    old_keys = list(settings.ENCRYPTION_KEYS)
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *old_keys]
    crypto._fernet.cache_clear()
    try:
        call_command("rotate_encryption_key", stdout=io.StringIO())
        settings.ENCRYPTION_KEYS = settings.ENCRYPTION_KEYS[:1]  # the old key is retired
        crypto._fernet.cache_clear()
        declaration.refresh_from_db()
        exception.refresh_from_db()
        assert declaration.text == RELATIONSHIP and declaration.reviews.get().notes == "Notes-to-rotate"
        assert exception.reason == EXCEPTION_REASON and exception.decision_reason
    finally:
        settings.ENCRYPTION_KEYS = old_keys
        crypto._fernet.cache_clear()
