"""Adding a school to a deployment that already hosts others."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from schoolgate.audit.models import AuditEntry
from schoolgate.policy.models import DocumentKind, VersionStatus
from schoolgate.schools.actions import create_school
from schoolgate.schools.models import School, Trust
from schoolgate.schools.roles import Role
from schoolgate.testing import make_user


@pytest.fixture
def trust_admin(db):
    admin = make_user("Tess Trust", totp=True)
    trust = Trust.objects.create(name="Test Trust")
    trust.admins.add(admin)
    return admin, trust


def test_it_creates_a_school_with_its_headteacher_and_first_drafts(trust_admin):
    admin, trust = trust_admin
    school = create_school(
        by=admin,
        trust=trust,
        name="St Mary's",
        slug="st-marys",
        headteacher_email="head@stmarys.example",
        headteacher_name="Sue Head",
        chair_email="chair@stmarys.example",
        chair_name="Carl Chair",
    )
    assert {m.role for m in school.memberships.all()} == {Role.HEADTEACHER, Role.CHAIR_OF_GOVERNORS}
    kinds = {d.kind: d for d in school.documents.all()}
    assert set(kinds) == set(DocumentKind.values)
    draft = kinds[DocumentKind.SOCIAL_MEDIA_POLICY].draft_version()
    assert draft.status == VersionStatus.DRAFT and draft.settings.required_reviewers == 1
    assert Role.TRUST_ADMIN in school.roles_of(admin)
    assert AuditEntry.objects.filter(action="school.created", object_id=str(school.pk)).exists()


def test_it_refuses_someone_who_does_not_administer_the_trust(trust_admin):
    _, trust = trust_admin
    outsider = make_user("Olly Outsider")
    with pytest.raises(PermissionDenied):
        create_school(
            by=outsider, trust=trust, name="X", slug="x", headteacher_email="h@x.example", headteacher_name="H"
        )
    assert not School.objects.filter(slug="x").exists()


def test_it_refuses_a_taken_address_and_writes_nothing(trust_admin):
    admin, trust = trust_admin
    create_school(by=admin, trust=trust, name="A", slug="same", headteacher_email="a@a.example", headteacher_name="A")
    with pytest.raises(ValidationError, match="already used"):
        create_school(
            by=admin, trust=trust, name="B", slug="same", headteacher_email="b@b.example", headteacher_name="B"
        )
    assert School.objects.filter(slug="same").count() == 1


def test_it_creates_a_school_from_the_command_line(trust_admin):
    admin, _ = trust_admin
    call_command(
        "create_school",
        "--name",
        "Oak Primary",
        "--slug",
        "oak",
        "--trust",
        "Test Trust",
        "--headteacher-email",
        "head@oak.example",
        "--headteacher-name",
        "Olive Head",
        "--by",
        admin.email,
    )
    assert School.objects.get(slug="oak").trust.name == "Test Trust"
    with pytest.raises(CommandError, match="already used"):
        call_command(
            "create_school",
            "--name",
            "Oak 2",
            "--slug",
            "oak",
            "--trust",
            "Test Trust",
            "--headteacher-email",
            "h2@oak.example",
            "--headteacher-name",
            "H",
            "--by",
            admin.email,
        )
