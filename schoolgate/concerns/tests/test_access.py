"""Who reads a concern: every URL of the app x every role x own / other school x who the concern is about.

Only the readers the table names see the content; everyone else gets 403 (not of this school) or 404 (the
concern's existence is not confirmed), and the concern's words appear in no other response, notification,
email or audit entry.
"""

from __future__ import annotations

import json

import pytest
from django.core import mail

from schoolgate.accounts.models import User
from schoolgate.audit.models import AuditEntry
from schoolgate.concerns import actions
from schoolgate.concerns.models import Category, Concern, Entry
from schoolgate.concerns.tests.helpers import SECRET, png, report
from schoolgate.notifications.models import Notification
from schoolgate.schools.models import Trust
from schoolgate.testing import make_school, make_user

pytestmark = pytest.mark.django_db

ROLES = ["head", "dsl", "deputy_dsl", "leader", "alice", "bob", "volunteer", "governor", "chair"]
# Who may read, by who the concern is about (alice reports each one).
READERS = {
    "pupils": {"head", "dsl", "deputy_dsl"},
    "staff": {"head", "dsl"},  # about bob
    "dsl": {"head"},  # about the DSL: the headteacher, not the DSL, not the deputies
    "headteacher": {"chair"},  # about the headteacher: the chair of governors only
}
LOG_READERS = {"head", "dsl", "deputy_dsl", "chair"}


@pytest.fixture
def world(cast):
    other = make_school("Elsewhere")
    trust = Trust.objects.create(name="Trust")
    cast.school.trust = trust
    cast.school.save(update_fields=["trust"])
    trust_admin = make_user("Tara Trust", totp=True)
    trust.admins.add(trust_admin)
    subjects = {"pupils": [], "staff": [cast.bob], "dsl": [cast.dsl], "headteacher": [cast.head]}
    concerns = {
        name: report(cast, text=f"{SECRET}-{name}", category=Category.STAFF_CONDUCT, staff=staff, files=[png()])
        for name, staff in subjects.items()
    }
    for name, concern in concerns.items():
        reader = getattr(cast, sorted(READERS[name])[0])
        actions.add_entry(concern, by=reader, kind="note", text=f"{SECRET}-handling-{name}")
    principals = {role: getattr(cast, role) for role in ROLES}
    principals["trust_admin"] = trust_admin
    principals.update({f"other_{role}": getattr(other, role) for role in ("head", "dsl", "chair", "alice")})
    return cast, concerns, principals


def urls(cast, concern) -> dict[str, str]:
    base = f"/s/{cast.school.slug}/concerns"
    return {
        "detail": f"{base}/{concern.pk}/",
        "add_entry": f"{base}/{concern.pk}/entries/?kind=assessment",
        "evidence": f"{base}/{concern.pk}/evidence/{concern.evidence.get().pk}/",
        "receipt": f"{base}/{concern.pk}/receipt/",
    }


@pytest.mark.clause("AW-CON-1")
def test_it_shows_concerns_only_to_their_readers(client, world):
    cast, concerns, principals = world
    problems = []
    for who, user in principals.items():
        client.force_login(user)
        own_school = not who.startswith("other_") and who != "trust_admin" or who == "trust_admin"
        for name, concern in concerns.items():
            reads = who in READERS[name]
            for url_name, url in urls(cast, concern).items():
                response = client.get(url)
                body = response.content.decode(errors="replace")
                if url_name == "receipt":
                    expected = 200 if who == "alice" else (404 if own_school and not who.startswith("other_") else 403)
                elif reads:
                    expected = 200
                else:
                    expected = 403 if who.startswith("other_") else 404
                if response.status_code != expected:
                    problems.append(f"{who} GET {url_name} of {name}: {response.status_code}, expected {expected}")
                shows = SECRET in body or (url_name == "evidence" and response.status_code == 200)
                if shows != (reads and url_name != "receipt"):
                    problems.append(f"{who} GET {url_name} of {name}: content shown={shows}")
            before = Entry.objects.count()
            response = client.post(urls(cast, concern)["add_entry"], {"kind": "note", "text": "x"})
            expected = 302 if reads else (403 if who.startswith("other_") else 404)
            if response.status_code != expected:
                problems.append(f"{who} POST add_entry of {name}: {response.status_code}, expected {expected}")
            if (Entry.objects.count() > before) != reads:
                problems.append(f"{who} POST add_entry of {name}: entry written={not reads}")
        for path in ("", "report/", "mine/"):
            response = client.get(f"/s/{cast.school.slug}/concerns/{path}")
            body = response.content.decode()
            expected = 403 if who.startswith("other_") else (200 if path or who in LOG_READERS else 403)
            if response.status_code != expected:
                problems.append(f"{who} GET concerns/{path}: {response.status_code}, expected {expected}")
            if SECRET in body:
                problems.append(f"{who} GET concerns/{path} shows a concern's words")
            if path == "":
                listed = {name for name, c in concerns.items() if f'/concerns/{c.pk}/"' in body}
                should = {name for name in concerns if who in READERS[name]}
                if response.status_code == 200 and listed != should:
                    problems.append(f"{who} concern log lists {sorted(listed)}, expected {sorted(should)}")
        response = client.get(f"/s/{cast.school.slug}/")
        if SECRET in response.content.decode():
            problems.append(f"{who}: the dashboard shows a concern's words")
    assert not problems, "\n".join(problems)


@pytest.mark.clause("AW-CON-1")
def test_it_never_puts_a_concerns_words_in_notifications_emails_or_the_audit_log(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    cast, concerns, principals = world
    with django_capture_on_commit_callbacks(execute=True):
        fresh = report(cast, text=f"{SECRET}-fresh", staff=[cast.bob], category=Category.DATA_BREACH, files=[png()])
        client.force_login(cast.dsl)
        client.get(urls(cast, concerns["pupils"])["detail"])
        client.get(urls(cast, fresh)["detail"])
        actions.add_entry(fresh, by=cast.dsl, kind="note", text=f"{SECRET}-note")
        actions.sweep_clocks(fresh.clocks.get(kind="lado").due_at)
    subjects = {m.subject for m in mail.outbox}
    assert {"A new concern needs your attention", "Your concern has been read"} <= {
        s.split("] ", 1)[1] for s in subjects
    }
    assert any("deadline" in s for s in subjects)
    for notification in Notification.objects.all():
        assert SECRET not in notification.subject + notification.body + notification.url
    for message in mail.outbox:
        assert SECRET not in message.subject + message.body
    for entry in AuditEntry.objects.all():
        assert SECRET not in json.dumps([entry.object_repr, entry.changes, entry.detail])
    # Not even that a concern was reported or read reaches the school's audit log, which its subjects may read.
    assert not AuditEntry.objects.filter(action__startswith="concerns.", school=cast.school).exists()
    assert AuditEntry.objects.filter(action="concerns.opened", detail__concern=concerns["pupils"].pk).count() == 1
    assert all(e.restricted for e in AuditEntry.objects.filter(action__startswith="concerns."))


@pytest.mark.clause("AW-CON-1")
def test_it_audits_every_read_of_a_concern_and_its_evidence(client, world):
    cast, concerns, _ = world
    concern = concerns["pupils"]
    client.force_login(cast.deputy_dsl)
    client.get(urls(cast, concern)["detail"])
    client.get(urls(cast, concern)["detail"])
    client.get(urls(cast, concern)["evidence"])
    reads = AuditEntry.objects.filter(actor=cast.deputy_dsl, detail__concern=concern.pk, action__contains="opened")
    assert list(reads.values_list("action", flat=True).order_by("seq")) == [
        "concerns.opened",
        "concerns.opened",
        "concerns.evidence_opened",
    ]


def test_it_tells_the_reporter_who_read_it_and_nothing_of_the_handling(client, world):
    cast, concerns, _ = world
    concern = concerns["headteacher"]
    client.force_login(cast.chair)
    client.get(urls(cast, concern)["detail"])
    client.force_login(cast.alice)
    receipt = client.get(urls(cast, concern)["receipt"]).content.decode()
    assert "Read by Cara Chair" in receipt and "handling" not in receipt and SECRET not in receipt
    told = Notification.objects.get(user=cast.alice, subject="Your concern has been read")
    assert "Cara Chair (Chair of governors)" in told.body


def test_it_keeps_a_concern_from_its_subject_even_in_a_reader_role(world):
    cast, concerns, _ = world
    assert Concern.objects.get(pk=concerns["dsl"].pk).audience == "staff"
    assert not Notification.objects.filter(user=cast.dsl, url__endswith=f"/concerns/{concerns['dsl'].pk}/").exists()
    assert not Notification.objects.filter(
        user=cast.head, url__endswith=f"/concerns/{concerns['headteacher'].pk}/"
    ).exists()
    assert set(User.objects.filter(notifications__url__endswith=f"/concerns/{concerns['headteacher'].pk}/")) == {
        cast.chair
    }


def test_it_reads_the_readers_from_the_schools_table(cast):
    from django.core.exceptions import ValidationError

    from schoolgate.concerns.models import ConcernSettings

    settings = ConcernSettings.objects.create(school=cast.school, readers={"safeguarding": ["dsl"]})
    concern = report(cast)
    cast.school._concern_settings = settings
    assert actions.access.readers_of(concern) == [cast.dsl]
    settings.readers = {"headteacher": ["headteacher", "chair_of_governors"]}
    with pytest.raises(ValidationError, match="cannot be read by a headteacher"):
        settings.full_clean()
