"""Demo concerns for a demo school: several kinds in several states (called by schools/demo_data.seed_demo)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from schoolgate.concerns import actions
from schoolgate.concerns.models import Category, WhereKind
from schoolgate.schools.roles import Role


def seed_demo_concerns(school, people: dict, pupils: list) -> list:
    """1. a disclosure nobody has read yet; 2. personal-account contact, assessed, routed and the parent spoken to;
    3. an allegation against a member of staff with the LADO clock running; 4. a data breach, closed with reasons."""
    staff, dsl, head = people[Role.STAFF], people[Role.DSL], people[Role.HEADTEACHER]
    colleague = school.members_with_role(Role.STAFF).exclude(pk=staff.pk).first() or staff
    today = timezone.localdate()
    made = []
    made.append(
        actions.report_concern(
            school,
            by=staff,
            category=Category.DISCLOSURE,
            text="At break a pupil told me an older boy online keeps asking her to send photos, and said not to tell.",
            happened_on=today,
            where_kind=WhereKind.IN_PERSON,
            pupils=pupils[:1],
        )
    )
    contact = actions.report_concern(
        school,
        by=colleague,
        category=Category.PERSONAL_ACCOUNT_CONTACT,
        text="A parent sent me a friend request and a message on my personal Facebook about her son's report.",
        happened_on=today - dt.timedelta(days=2),
        where_kind=WhereKind.PERSONAL_ACCOUNT,
        network="facebook",
        about_carer="Parent of a Year 4 pupil",
    )
    actions.open_concern(contact, by=dsl)
    actions.add_entry(contact, by=dsl, kind="assessment", text="No risk to the child; boundaries reminder needed.")
    actions.add_entry(contact, by=dsl, kind="routed", procedure="behaviour", owner=dsl)
    actions.add_entry(
        contact,
        by=dsl,
        kind="parent_contact",
        contact="The parent",
        occurred_at=timezone.now() - dt.timedelta(hours=20),
        contact_method="phone",
        shared="Staff cannot use personal accounts with families; the school office or official email instead.",
        outcome="Understood; she will use the office email.",
    )
    made.append(contact)
    made.append(
        actions.report_concern(
            school,
            by=dsl,
            category=Category.STAFF_CONDUCT,
            text="A parent showed me a public post in which a member of staff mocks a pupil's behaviour.",
            happened_on=today,
            where_kind=WhereKind.PERSONAL_ACCOUNT,
            network="x",
            staff=[colleague] if colleague != dsl else [],
        )
    )
    breach = actions.report_concern(
        school,
        by=staff,
        category=Category.DATA_BREACH,
        text="A class list with dates of birth was emailed to one parent by mistake.",
        happened_on=today - dt.timedelta(days=3),
        where_kind=WhereKind.ONLINE_OTHER,
    )
    actions.open_concern(breach, by=head)
    actions.add_entry(
        breach,
        by=head,
        kind="agency",
        agency="ico",
        agency_decision="not_referred",
        reason="The parent deleted it within the hour and confirmed in writing; low risk to the pupils' rights.",
    )
    actions.add_entry(breach, by=head, kind="closure", text="Logged as a breach.", reason="Contained; no further risk.")
    made.append(breach)
    return made
