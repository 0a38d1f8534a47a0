"""The Django admin lets the people who host Schoolgate look, never change: every change goes through audited actions.

The walk covers every model registered with the admin, so a model registered tomorrow is checked the day it is.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from schoolgate.accounts.models import User
from schoolgate.audit import actions as audit
from schoolgate.audit.models import AuditEntry
from schoolgate.media.models import Face, MediaItem
from schoolgate.news.models import DigestDelivery, DigestIssue, DigestSubscriber, SubscriberStatus
from schoolgate.policy.models import Document, DocumentKind, DocumentVersion
from schoolgate.pupils.models import (
    Carer,
    CarerLink,
    ConsentRecord,
    DoNotPhotograph,
    FamilyLink,
    ImportMapping,
    ImportRun,
    Pupil,
)
from schoolgate.schools.models import Closure, School, Trust
from schoolgate.testing import make_user


@pytest.fixture
def host(db):
    user = make_user("Hosting Person", totp=True)
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    return user


@pytest.fixture
def one_of_everything(cast, host):
    """A row of every model the admin shows, at the cast's school."""
    school, today, now = cast.school, timezone.localdate(), timezone.now()
    trust = Trust.objects.create(name="Oak Trust")
    trust.admins.add(cast.leader)
    School.objects.filter(pk=school.pk).update(trust=trust)
    Closure.objects.create(school=school, starts_on=today, ends_on=today, label="INSET day")
    pupil = Pupil.objects.create(school=school, upn="A1", legal_forename="Amy", legal_surname="Archer")
    carer = Carer.objects.create(school=school, full_name="Pat Archer", email="pat@example.org")
    CarerLink.objects.create(carer=carer, pupil=pupil, parental_responsibility=True, relationship="Parent")
    ImportMapping.objects.create(school=school, kind="pupils")
    ImportRun.objects.create(school=school, kind="pupils", filename="export.csv")
    ConsentRecord.objects.create(
        pupil=pupil, use="social_media_photo", decision="given", channel="paper", decided_on=today, given_by=carer
    )
    DoNotPhotograph.objects.create(pupil=pupil, requested_on=today, requested_by=carer)
    FamilyLink.objects.create(school=school, carer=carer, token_hash="0" * 64, expires_at=now + dt.timedelta(days=7))
    item = MediaItem.objects.create(
        school=school,
        folder="f",
        original="o.jpg",
        original_format="JPEG",
        original_sha256="0" * 64,
        publishable="p.jpg",
        thumbnail="t.jpg",
        mime_type="image/jpeg",
        width=10,
        height=10,
        source="Taken by staff",
        photographer="Alice",
        licence="school_owned",
    )
    Face.objects.create(media_item=item, left=0.1, top=0.1, width=0.2, height=0.2)
    subscriber = DigestSubscriber.objects.create(
        school=school, email="family@example.org", status=SubscriberStatus.CONFIRMED, confirmed_at=now
    )
    issue = DigestIssue.objects.create(school=school, week_start=today, covers_from=now, covers_until=now)
    DigestDelivery.objects.create(issue=issue, subscriber=subscriber)
    EmailAddress.objects.create(user=cast.alice, email=cast.alice.email, primary=True, verified=True)
    if not Document.objects.filter(school=school, kind=DocumentKind.CODE_OF_CONDUCT).exists():
        Document.objects.create(school=school, kind=DocumentKind.CODE_OF_CONDUCT, title="Code of conduct")
    audit.log("test.entry", actor=host, school=school)
    assert DocumentVersion.objects.exists() and Authenticator.objects.exists()


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _snapshot(model) -> list[dict]:
    return [model_to_dict(row) for row in model._default_manager.order_by("pk")]


def _change_data(model, row) -> dict:
    """What a superuser would post: every editable field given some other value."""
    data = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or not field.editable:
            continue
        value = getattr(row, field.attname)
        data[field.attname if field.is_relation else field.name] = "on" if isinstance(value, bool) else "changed"
    return {**data, "is_superuser": "on", "is_staff": "on", "admins": [row.pk], "_save": "Save"}


MODELS = list(admin.site._registry)


@pytest.mark.parametrize("model", MODELS, ids=[m._meta.label for m in MODELS])
def test_it_refuses_every_add_change_and_delete_through_the_admin(client, host, one_of_everything, model):
    client.force_login(host)
    rows = model._default_manager.order_by("pk")
    assert rows.exists(), f"give {model._meta.label} a row in one_of_everything, so its admin is walked with data"
    row = rows.first()
    before = _snapshot(model)
    trust_admins = {t.pk: set(t.admins.values_list("pk", flat=True)) for t in Trust.objects.all()}

    assert client.get(_url(model, "changelist")).status_code == 200  # hosting people may look ...
    page = client.get(_url(model, "change", row.pk))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content  # ... with nothing to save
    assert client.get(_url(model, "add")).status_code == 403
    assert client.post(_url(model, "add"), _change_data(model, row)).status_code == 403
    assert client.post(_url(model, "change", row.pk), _change_data(model, row)).status_code == 403
    assert client.get(_url(model, "delete", row.pk)).status_code == 403
    assert client.post(_url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
    client.post(_url(model, "changelist"), {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"})

    assert _snapshot(model) == before
    assert {t.pk: set(t.admins.values_list("pk", flat=True)) for t in Trust.objects.all()} == trust_admins


def test_it_cannot_set_a_password_or_make_a_superuser_through_the_admin(client, host, cast):
    client.force_login(host)
    password = cast.alice.password

    response = client.post(
        reverse("admin:auth_user_password_change", args=[cast.alice.pk]),
        {"password1": "a-new-password-1234", "password2": "a-new-password-1234"},
    )

    assert response.status_code == 403
    cast.alice.refresh_from_db()
    assert cast.alice.password == password and not cast.alice.is_superuser and not cast.alice.is_staff
    assert client.get("/admin/auth/group/").status_code == 404  # Django's groups are not offered at all


def _run_action(client, model, action: str, pks: list[int]):
    return client.post(_url(model, "changelist"), {"action": action, "_selected_action": pks})


def test_it_deactivates_and_reactivates_a_login_through_an_audited_admin_action(client, host, cast):
    client.force_login(host)
    alices_browser = client.__class__()
    alices_browser.force_login(cast.alice)
    notifications = reverse("home:notifications")
    assert alices_browser.get(notifications).status_code == 200

    _run_action(client, User, "deactivate", [cast.alice.pk, host.pk])
    cast.alice.refresh_from_db()
    host.refresh_from_db()
    assert not cast.alice.is_active and host.is_active  # never your own login
    entry = AuditEntry.objects.get(action="accounts.user.deactivated")
    assert entry.actor == host and entry.object_id == str(cast.alice.pk)

    assert alices_browser.get(notifications).status_code == 302  # her open session ends with it

    _run_action(client, User, "reactivate", [cast.alice.pk])
    cast.alice.refresh_from_db()
    assert cast.alice.is_active
    assert AuditEntry.objects.filter(action="accounts.user.reactivated", object_id=str(cast.alice.pk)).exists()


def test_it_removes_a_lost_second_factor_through_an_audited_admin_action(client, host, cast):
    client.force_login(host)
    assert Authenticator.objects.filter(user=cast.head).exists()

    _run_action(client, User, "remove_second_factor", [cast.head.pk])

    assert not Authenticator.objects.filter(user=cast.head).exists()
    entry = AuditEntry.objects.get(action="accounts.second_factor.removed")
    assert entry.actor == host and entry.object_id == str(cast.head.pk)
    assert Authenticator.objects.filter(user=cast.dsl).exists()  # nobody else's


def test_it_offers_the_admin_actions_to_superusers_only(client, cast):
    staff = make_user("Staff Not Super", totp=True)
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    client.force_login(staff)

    _run_action(client, User, "deactivate", [cast.alice.pk])

    cast.alice.refresh_from_db()
    assert cast.alice.is_active
    assert not AuditEntry.objects.filter(action="accounts.user.deactivated").exists()


def test_it_unsubscribes_and_forgets_digest_addresses_on_request_through_audited_admin_actions(client, host, cast):
    client.force_login(host)
    keep = DigestSubscriber.objects.create(school=cast.school, email="keep@example.org", status="confirmed")
    leave = DigestSubscriber.objects.create(school=cast.school, email="leave@example.org", status="confirmed")
    forget = DigestSubscriber.objects.create(school=cast.school, email="forget@example.org")

    _run_action(client, DigestSubscriber, "unsubscribe", [leave.pk])
    _run_action(client, DigestSubscriber, "forget", [forget.pk])

    leave.refresh_from_db()
    assert leave.status == SubscriberStatus.UNSUBSCRIBED
    assert set(DigestSubscriber.objects.values_list("pk", flat=True)) == {keep.pk, leave.pk}
    entry = AuditEntry.objects.get(action="news.digest.addresses_forgotten")
    assert entry.actor == host and entry.detail == {"on_request": 1}
    assert "forget@example.org" not in f"{entry.object_repr} {entry.detail} {entry.changes}"


def test_it_appoints_and_removes_trust_administrators_with_an_audited_command(host, cast):
    out = io.StringIO()

    call_command("trust_admins", "Oak Trust", "--create", "--add", cast.leader.email, "--by", host.email, stdout=out)
    trust = Trust.objects.get(name="Oak Trust")
    School.objects.filter(pk=cast.school.pk).update(trust=trust)
    assert list(trust.admins.all()) == [cast.leader]
    assert AuditEntry.objects.filter(action="trust.created").exists()
    assert AuditEntry.objects.filter(action="trust.admin.appointed", detail__user=cast.leader.email).exists()

    call_command("trust_admins", "Oak Trust", "--remove", cast.leader.email, "--by", host.email, stdout=out)
    assert not trust.admins.exists()
    removed = AuditEntry.objects.get(action="trust.admin.removed")
    assert removed.school == cast.school and removed.actor == host  # in the school's own log
    assert "Administrators of Oak Trust: none" in out.getvalue()

    with pytest.raises(CommandError, match="Only the people hosting"):
        call_command("trust_admins", "Oak Trust", "--add", cast.alice.email, "--by", cast.head.email, stdout=out)
    assert not trust.admins.exists()
