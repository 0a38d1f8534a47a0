"""The annual declaration (RS-STAFF-1): asked of every member on the school's schedule, reminded once when due and
once when overdue; a "no" opens a safeguarding concern read by the headteacher and the DSL, and its explanation is
in no declaration, register, notification, email or audit entry."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from schoolgate.concerns import access as concern_access
from schoolgate.concerns.models import Concern
from schoolgate.declarations import actions
from schoolgate.declarations.models import AnnualDeclaration, DeclarationSettings
from schoolgate.declarations.tests.helpers import EXPLANATION, everything_sent_and_logged
from schoolgate.notifications.models import Notification
from schoolgate.schools.models import Membership

pytestmark = pytest.mark.django_db


def url(cast, path: str = "annual/") -> str:
    return f"/s/{cast.school.slug}/declarations/{path}"


def joined(cast, days_ago: int) -> None:
    """Everyone in the cast joined the school this many days ago."""
    Membership.objects.filter(school=cast.school).update(created_at=timezone.now() - dt.timedelta(days=days_ago))


def answered(cast, user, *, days_ago: int) -> AnnualDeclaration:
    return AnnualDeclaration.objects.create(
        school=cast.school,
        user=user,
        due_on=timezone.localdate() - dt.timedelta(days=days_ago),
        answered_at=timezone.now() - dt.timedelta(days=days_ago),
        answer="yes",
    )


@pytest.mark.clause("RS-STAFF-1")
def test_it_opens_a_concern_for_the_head_and_dsl_when_a_member_answers_no(client, cast):
    client.force_login(cast.alice)

    response = client.post(url(cast), {"answer": "no", "explanation": EXPLANATION})

    assert response.status_code == 302
    declaration = AnnualDeclaration.objects.get(user=cast.alice)
    concern = Concern.objects.get()
    assert declaration.answer == "no" and declaration.concern == concern
    assert concern.reported_by == cast.alice and concern.subject_user_ids() == {cast.alice.pk}
    assert concern.category == "staff_conduct" and concern.where_kind == "personal_account"
    assert EXPLANATION in concern.content["text"]
    readers = {person for person in cast.everyone() if concern_access.may_read(person, concern)}
    assert readers == {cast.head, cast.dsl}
    # Read in the concern log by them, and by none of the declarant's colleagues (nor the declarant).
    for person in cast.everyone():
        client.force_login(person)
        page = client.get(f"/s/{cast.school.slug}/concerns/{concern.pk}/")
        assert page.status_code == (200 if person in readers else 404), person
        assert (EXPLANATION in page.content.decode()) == (person in readers)


@pytest.mark.clause("RS-STAFF-1")
def test_it_keeps_the_explanation_out_of_the_declaration_notifications_emails_and_audit(
    client, cast, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(cast.alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(cast), {"answer": "no", "explanation": EXPLANATION})
    concern = Concern.objects.get()

    assert Notification.objects.filter(user=cast.head, url__endswith=f"/concerns/{concern.pk}/").exists()
    assert Notification.objects.filter(user=cast.dsl, url__endswith=f"/concerns/{concern.pk}/").exists()
    assert len(mail.outbox) >= 2
    assert EXPLANATION not in everything_sent_and_logged()
    declaration = AnnualDeclaration.objects.get()
    assert EXPLANATION not in " ".join(str(value) for value in declaration.__dict__.values())
    for person in (cast.head, cast.dsl, cast.deputy_dsl):
        client.force_login(person)
        register = client.get(url(cast, "register/")).content.decode()
        assert EXPLANATION not in register
        assert (concern.reference in register) == (person in (cast.head, cast.dsl))


def test_it_asks_for_an_explanation_with_a_no_and_saves_nothing_without_one(client, cast):
    client.force_login(cast.alice)

    response = client.post(url(cast), {"answer": "no", "explanation": "  "})

    assert response.status_code == 400
    assert "Say briefly who it is" in response.content.decode()
    assert not AnnualDeclaration.objects.exists() and not Concern.objects.exists()
    assert not Notification.objects.exists()


def test_it_records_a_yes_without_a_concern_and_moves_the_next_due_date(client, cast):
    DeclarationSettings.objects.create(school=cast.school, annual_interval_months=6)
    client.force_login(cast.alice)

    client.post(url(cast), {"answer": "yes"})

    declaration = AnnualDeclaration.objects.get()
    assert declaration.answer == "yes" and declaration.concern is None and not Concern.objects.exists()
    today = timezone.localdate()
    assert actions.next_due_on(cast.school, cast.alice) > today + dt.timedelta(days=170)
    assert "Next due" in client.get(url(cast, "")).content.decode()


@pytest.mark.clause("RS-STAFF-1")
def test_it_asks_every_member_once_when_due_and_reminds_once_when_overdue(cast):
    joined(cast, days_ago=400)
    answered(cast, cast.bob, days_ago=30)  # bob declared a month ago: not due
    today = timezone.localdate()

    first = actions.sweep_annual_declarations(today)
    again = actions.sweep_annual_declarations(today)

    asked = set(AnnualDeclaration.objects.open().values_list("user", flat=True))
    assert asked == {p.pk for p in cast.everyone()} - {cast.bob.pk}
    assert first == len(asked) and again == 0
    # Joined 400 days ago and never declared: already overdue, so told once, as overdue.
    notices = Notification.objects.filter(about__startswith="declarations:annual:")
    assert notices.count() == len(asked)
    assert set(notices.values_list("subject", flat=True)) == {"Your annual staff declaration is overdue"}

    # A newcomer is asked at once and has the notice period; the overdue reminder follows once, when it passes.
    newcomer = Membership.objects.create(school=cast.school, user=cast.bob, role="volunteer")
    AnnualDeclaration.objects.all().delete()
    Notification.objects.all().delete()
    Membership.objects.filter(pk=newcomer.pk).update(created_at=timezone.now())
    Membership.objects.filter(user=cast.alice).update(created_at=timezone.now())
    actions.sweep_annual_declarations(today)
    alice = AnnualDeclaration.objects.get(user=cast.alice)
    assert alice.due_on == today + dt.timedelta(days=30)
    assert Notification.objects.get(user=cast.alice).subject == "Your annual staff declaration is due"
    later = alice.due_on + dt.timedelta(days=1)
    actions.sweep_annual_declarations(later)
    actions.sweep_annual_declarations(later)
    assert list(Notification.objects.filter(user=cast.alice).values_list("subject", flat=True)) == [
        "Your annual staff declaration is overdue",
        "Your annual staff declaration is due",
    ]


def test_it_marks_the_reminder_done_when_the_member_declares(cast):
    joined(cast, days_ago=400)
    actions.sweep_annual_declarations()

    declaration = actions.make_annual_declaration(cast.school, by=cast.alice, answer="yes")

    assert declaration.asked_at is not None  # the open request was answered, not a second one made
    assert not Notification.objects.filter(user=cast.alice, resolved_at__isnull=True).exists()
    assert not AnnualDeclaration.objects.open().filter(user=cast.alice).exists()


@pytest.mark.clause("RS-STAFF-1")
def test_it_shows_the_leaders_who_is_due_and_overdue(client, cast):
    joined(cast, days_ago=400)
    answered(cast, cast.bob, days_ago=350)  # due within the 30 days' notice
    answered(cast, cast.volunteer, days_ago=10)
    client.force_login(cast.dsl)

    overdue = client.get(url(cast, "register/?show=overdue")).content.decode()
    due = client.get(url(cast, "register/?show=due")).content.decode()

    assert "Alice Staff" in overdue and "Bob Staff" not in overdue and "Val Volunteer" not in overdue
    assert "Bob Staff" in due and "Alice Staff" not in due
    assert "Overdue (7)" in overdue and "Due (1)" in overdue


def test_it_refuses_an_unknown_answer(cast):
    with pytest.raises(ValidationError):
        actions.make_annual_declaration(cast.school, by=cast.alice, answer="maybe")


def test_it_sends_a_no_from_the_dsl_to_the_head_alone(cast):
    declaration = actions.make_annual_declaration(cast.school, by=cast.dsl, answer="no", explanation=EXPLANATION)

    readers = {p for p in cast.everyone() if concern_access.may_read(p, declaration.concern)}
    assert readers == {cast.head}
