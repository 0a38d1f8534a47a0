"""Demo declarations for a demo school (called by schools/demo_data.seed_demo): personal accounts, annual
declarations with some overdue, one relationship reviewed and one waiting, an approved exception near its end."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from schoolgate.declarations import actions
from schoolgate.declarations.models import AnnualDeclaration, DeclarationSettings
from schoolgate.schools.models import Membership
from schoolgate.schools.roles import Role


def seed_demo_declarations(school, people: dict, pupils: list) -> None:
    """Safe to run twice: a school that already has declaration settings has had its demo declarations."""
    if DeclarationSettings.objects.filter(school=school).exists():
        return
    DeclarationSettings.objects.create(school=school)
    staff, dsl, head = people[Role.STAFF], people[Role.DSL], people[Role.HEADTEACHER]
    colleague = school.members_with_role(Role.STAFF).exclude(pk=staff.pk).first() or staff
    now, today = timezone.now(), timezone.localdate()
    # Everyone joined well over a year ago, so the annual schedule has a history to show.
    Membership.objects.filter(school=school).update(created_at=now - dt.timedelta(days=500))

    domain = school.email_domain_list()[0] if school.email_domain_list() else "example.org"
    for user, network, handle, mention in [
        (colleague, "instagram", f"@{colleague.full_name.split()[0].lower()}.teaches", "My bio says I teach here"),
        (
            head,
            "linkedin",
            f"linkedin.com/in/{head.full_name.lower().replace(' ', '-')}",
            "My job title names the school",
        ),
        (staff, "x", f"@{staff.full_name.split()[0].lower()}_{domain.split('.')[0]}", "I repost the school's news"),
    ]:
        actions.declare_personal_account(
            school, by=user, network=network, handle=handle, mention=mention, disclaimer_confirmed=True
        )

    # Annual declarations: the head and the DSL made theirs recently; the colleague's was 11 months ago (due
    # soon); everyone else's last one was over a year ago, so the sweep finds them overdue.
    for user, days_ago in [(head, 20), (dsl, 40), (colleague, 335)]:
        AnnualDeclaration.objects.create(
            school=school,
            user=user,
            due_on=today - dt.timedelta(days=days_ago),
            asked_at=now - dt.timedelta(days=days_ago + 30),
            answered_at=now - dt.timedelta(days=days_ago),
            answer="yes",
        )
    for user in school.members_with_role(*actions.declarant_roles()).exclude(pk__in=[head.pk, dsl.pk, colleague.pk]):
        AnnualDeclaration.objects.create(
            school=school,
            user=user,
            due_on=today - dt.timedelta(days=400),
            asked_at=now - dt.timedelta(days=430),
            answered_at=now - dt.timedelta(days=400),
            answer="yes",
        )
    actions.ask_due_declarations(school, today=today)

    reviewed = actions.declare_relationship(
        school,
        by=colleague,
        kind="family",
        text="My niece is in Year 4; I collect her from school on Fridays.",
    )
    actions.review_relationship(
        reviewed,
        by=dsl,
        notes="Discussed. No contact about school matters at family events; another adult teaches her class.",
        next_review_on=today + dt.timedelta(days=300),
    )
    actions.declare_relationship(
        school,
        by=staff,
        kind="family_friend",
        text="I am a friend of a parent in Year 2; our families meet most weekends.",
    )

    exception = actions.request_exception(
        school,
        by=colleague,
        network="whatsapp",
        contact_kind="carer",
        who="The parent who runs the Sunday football team",
        reason="I coach the Sunday league team her son plays in; fixtures are arranged in the team's WhatsApp group.",
        needed_until=today + dt.timedelta(days=10),
        pupil=pupils[0] if pupils else None,
    )
    actions.decide_exception(
        exception,
        by=head,
        approve=True,
        reason="Agreed for team arrangements only: nothing about school, and no one-to-one messages.",
        expires_on=today + dt.timedelta(days=10),
    )
